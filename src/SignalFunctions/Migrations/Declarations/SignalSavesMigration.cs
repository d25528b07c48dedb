using SignalFunctions.Stages;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>blog_article_saves → signal_content_saves (signal-platform-rename-plan.md), written by the wiselist service.</summary>
public static class SignalSavesMigration
{
    public static readonly DataMigration Declaration = ContentTableMigration.Declare(
        KnownMigrations.SignalSaves, "blog_article_saves", "signal_content_saves",
        [
            new("id", "id"), new("article_id", "content_id"), new("user_id", "user_id"),
            new("wiselist_id", "wiselist_id"), new("visibility", "visibility"), new("created_at", "created_at"),
        ],
        legacyUnique: ["article_id", "user_id", "wiselist_id"],
        targetUnique: ["content_id", "user_id", "wiselist_id"],
        rules:
        [
            new("future_dated_saves", RuleSeverity.Error,
                "SELECT count(*) FROM signal_content_saves WHERE created_at > now() + interval '5 minutes'",
                "Saves created more than 5 minutes ahead of the database clock."),
            // profiles and wiselists live outside this database: orphaned users or wiselists
            // cannot be counted here.
            new("saves_without_creation_time", RuleSeverity.Warning,
                "SELECT count(*) FROM signal_content_saves WHERE created_at IS NULL",
                "Saves with no creation time: they drop out of every time-bounded report."),
        ]);
}
