using SignalFunctions.Stages;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>blog_listing_links → signal_content_embeds (signal-platform-rename-plan.md), written by the article editor.</summary>
public static class SignalEmbedsMigration
{
    public static readonly DataMigration Declaration = ContentTableMigration.Declare(
        KnownMigrations.SignalEmbeds, "blog_listing_links", "signal_content_embeds",
        [
            new("id", "id"), new("article_id", "content_id"), new("listing_id", "listing_id"),
            new("position_in_article", "position_in_content"), new("embed_instance_id", "embed_instance_id"),
            new("metadata", "metadata"), new("created_at", "created_at"),
        ],
        legacyUnique: ["article_id", "listing_id", "position_in_article"],
        targetUnique: ["content_id", "listing_id", "position_in_content"],
        rules:
        [
            new("future_dated_embeds", RuleSeverity.Error,
                "SELECT count(*) FROM signal_content_embeds WHERE created_at > now() + interval '5 minutes'",
                "Embeds created more than 5 minutes ahead of the database clock."),
            // marketplace_listings lives outside this database; the seed's ON DELETE CASCADE would
            // have removed an embed whose listing went, so a NULL listing is an orphan.
            new("embeds_without_listing", RuleSeverity.Warning,
                "SELECT count(*) FROM signal_content_embeds WHERE listing_id IS NULL",
                "Embeds that point at no listing (orphans of a deleted listing)."),
            new("negative_embed_positions", RuleSeverity.Warning,
                "SELECT count(*) FROM signal_content_embeds WHERE position_in_content < 0",
                "Embeds placed before the start of their content."),
        ]);
}
