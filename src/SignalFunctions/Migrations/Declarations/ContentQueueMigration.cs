using SignalFunctions.Stages;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>
/// blue-green-dual-write-plan.md: content_metadata, posted_decisions and outcomes (written by the
/// bot's jobs, outside this app) → content_queue, posted_content and engagement_metrics, built in
/// parallel and cut over with the plan's backwards-compatibility views.
///
/// One declaration for the three tables, not three: they are one decision's life (queued, posted,
/// measured) under one key, decision_id, and the plan switches them together. One stage flag, one
/// backfill, and a parity row per decision across all three tables, so a post or its metrics
/// missing from the new side is a difference of that decision. The copy for a set of decisions is
/// sync_content_queue (schema 0011): the backfill, the capture trigger and repair all use it.
/// A decision is any key of the three tables (SourceRows): posts and outcomes of decisions
/// content_metadata does not have are backfilled and compared like the rest, and counted by a
/// warning rule (the posting queue does not see them).
/// </summary>
public static class ContentQueueMigration
{
    private sealed record Table(string Legacy, string New, IReadOnlyList<(string Legacy, string New)> Columns);

    // Each table's columns in the legacy table's order: the cut-over views answer SELECT * as the tables did.
    private static readonly Table[] Tables =
    [
        new("content_metadata", "content_queue",
        [
            ("decision_id", "decision_id"), ("content", "content"), ("decision_type", "content_type"), ("status", "status"),
            ("generator_name", "generator"), ("quality_score", "quality_score"), ("scheduled_at", "scheduled_at"),
            ("created_at", "created_at"), ("updated_at", "updated_at"),
        ]),
        new("posted_decisions", "posted_content",
            [("decision_id", "decision_id"), ("tweet_id", "tweet_id"), ("content", "content"), ("posted_at", "posted_at")]),
        new("outcomes", "engagement_metrics",
        [
            ("decision_id", "decision_id"), ("tweet_id", "tweet_id"), ("likes", "likes"), ("retweets", "retweets"),
            ("replies", "replies"), ("impressions", "impressions"), ("collected_at", "collected_at"),
        ]),
    ];

    private static readonly string[] Counts = ["likes", "retweets", "replies", "impressions"];

    /// <summary>A legacy column as the new table holds it: counts not scraped yet (NULL) are 0 there.</summary>
    private static string AsNew(string alias, string column) => Counts.Contains(column) ? $"coalesce({alias}.{column}, 0)" : $"{alias}.{column}";

    private static string Image(IReadOnlyList<string> values) => $"ROW({string.Join(", ", values)})::text";

    /// <summary>Every decision one side has, in any of its three tables: a post or its metrics may have no queue row.</summary>
    private static string Decisions(bool legacy) =>
        $"({string.Join(" UNION ", Tables.Select(t => $"SELECT decision_id FROM {(legacy ? t.Legacy : t.New)}"))})";

    /// <summary>One decision across the three tables, in legacy or new names; <paramref name="x"/> is its key row.</summary>
    private static string DecisionImage(bool legacy, string x) => Image([
        $"{x}.decision_id",
        .. Tables.Select(t => $"""
            (SELECT {Image([.. t.Columns.Skip(1).Select(c => legacy ? AsNew("r", c.Legacy) : $"r.{c.New}")])}
               FROM {(legacy ? t.Legacy : t.New)} r WHERE r.decision_id = {x}.decision_id)
            """),
    ]);

    // While cut over, readers see only the new tables: the cut-over first copies every decision row
    // only the legacy side has (the capture is gone, and its DROP TRIGGER holds the bot's writers
    // until the commit).
    private static string CopyLegacyOnlyRows => $"""
        SELECT count(*) FROM sync_content_queue(ARRAY(
          {string.Join("\n  UNION ", Tables.Select(t => $"(SELECT decision_id FROM {t.Legacy} EXCEPT SELECT decision_id FROM {t.New})"))}))
        """;

    private static string Views => CopyLegacyOnlyRows + ";\n" + string.Join(";\n", Tables.Select(t => $"""
        ALTER TABLE {t.Legacy} RENAME TO {t.Legacy}_backup;
        CREATE VIEW {t.Legacy} AS SELECT {string.Join(", ", t.Columns.Select(c => c.Legacy == c.New ? c.New : $"{c.New} AS {c.Legacy}"))} FROM {t.New}
        """));

    // The backup is brought up to date from the new table first (what was written through the
    // views), then the view goes and the table gets its name back. A backup row the new table
    // lacks is deleted only when it was deleted there since the cut-over (the engine records it):
    // one only the legacy side ever had stays, and parity and repair copy it again.
    private static string Rollback => string.Join(";\n", Tables.Select(t => $"""
        DELETE FROM {t.Legacy}_backup s
         WHERE {CutoverDeletes.WasDeleted(KnownMigrations.ContentQueue, t.New, "s.decision_id")}
           AND NOT EXISTS (SELECT 1 FROM {t.New} t WHERE t.decision_id = s.decision_id);
        INSERT INTO {t.Legacy}_backup ({string.Join(", ", t.Columns.Select(c => c.Legacy))})
        SELECT {string.Join(", ", t.Columns.Select(c => $"t.{c.New}"))} FROM {t.New} t
        ON CONFLICT (decision_id) DO UPDATE SET {string.Join(", ", t.Columns.Skip(1).Select(c => $"{c.Legacy} = EXCLUDED.{c.Legacy}"))};
        DROP VIEW {t.Legacy};
        ALTER TABLE {t.Legacy}_backup RENAME TO {t.Legacy}
        """));

    private static readonly (string Install, string Remove) Capture = CaptureTrigger.Build(
        KnownMigrations.ContentQueue, "content_queue_capture",
        [.. Tables.Select(t => new CapturedTable(t.Legacy, rows => $"SELECT r.decision_id::text FROM {rows} r", OnTruncate: $"DELETE FROM {t.New}"))],
        "PERFORM sync_content_queue(keys::uuid[])");

    private const string Sync = "SELECT count(*) FROM sync_content_queue(@keys::uuid[])";

    public static readonly DataMigration Declaration = new()
    {
        Name = KnownMigrations.ContentQueue,
        Source = "content_metadata",
        Target = "content_queue",
        Key = "decision_id",
        KeyType = "uuid",
        // Decisions, not content_metadata rows: posts and outcomes without a queue row are copied and compared too.
        SourceRows = Decisions(legacy: true),
        TargetRows = Decisions(legacy: false),
        CopyBatchSql = "SELECT 1 FROM sync_content_queue(hold_content_decisions(ARRAY(SELECT s.decision_id FROM batch s)))",
        SourceImage = DecisionImage(legacy: true, "s"),
        TargetImage = DecisionImage(legacy: false, "t"),
        UpsertTargetSql = Sync,
        DeleteTargetSql = Sync,
        // Outside writers write the legacy tables until the cut-over, so repair trusts them at every
        // stage (the capture says so) and never copies towards them.
        UpsertSourceSql = "SELECT 1 WHERE false",
        DeleteSourceSql = "SELECT 1 WHERE false",
        Rules =
        [
            new("future_dated_posts", RuleSeverity.Error,
                "SELECT count(*) FROM posted_content WHERE posted_at > now() + interval '5 minutes'",
                "Posts dated more than 5 minutes ahead of the database clock."),
            new("posted_but_not_marked_posted", RuleSeverity.Error,
                "SELECT count(*) FROM content_queue q JOIN posted_content p USING (decision_id) WHERE q.status <> 'posted'",
                "Decisions with a post whose queue status is not 'posted': the posting queue would post them again."),
            new("negative_engagement", RuleSeverity.Warning,
                $"SELECT count(*) FROM engagement_metrics WHERE least({string.Join(", ", Counts)}) < 0",
                "Engagement counts below zero: a scrape subtracted instead of adding."),
            new("posts_without_queued_content", RuleSeverity.Warning,
                "SELECT count(*) FROM posted_content p WHERE NOT EXISTS (SELECT 1 FROM content_queue q WHERE q.decision_id = p.decision_id)",
                "Posts of decisions the queue does not have: copied and compared, but the posting queue never sees them."),
            new("unmappable_decisions", RuleSeverity.Error,
                """
                SELECT count(*) FROM content_metadata
                 WHERE decision_type NOT IN ('single', 'thread', 'reply') OR status NOT IN ('queued', 'posted', 'failed', 'skipped')
                """,
                "Decisions whose decision_type or status content_queue's CHECK refuses: their batch fails, so the backfill stalls on them. Fix or delete the rows."),
        ],
        InstallCaptureSql = Capture.Install,
        RemoveCaptureSql = Capture.Remove,
        CutoverSql = Views,
        RollbackSql = Rollback,
        CutoverSummary = $"{string.Join(", ", Tables.Select(t => t.Legacy))} renamed to *_backup; each is now a view over {string.Join(", ", Tables.Select(t => t.New))}.",
        RollbackSummary = $"{string.Join(", ", Tables.Select(t => t.Legacy))} are tables again, brought up to date from {string.Join(", ", Tables.Select(t => t.New))}.",
        // Until live nothing but the backfill and the capture writes the new tables.
        ResetSql = string.Join(";\n", Tables.Select(t => $"DELETE FROM {t.New}")),
        LegacyTables = [.. Tables.Select(t => t.Legacy)],
        NewTables = [.. Tables.Select(t => t.New)],
    };
}
