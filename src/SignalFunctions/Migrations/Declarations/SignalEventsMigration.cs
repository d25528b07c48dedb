using SignalFunctions.Ingest;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>blog_attribution_events → signal_events (signal-platform-rename-plan.md).</summary>
public static class SignalEventsMigration
{
    /// <summary>The target columns the mapping fills, in the order of <see cref="SelectAsTarget"/>.</summary>
    public const string TargetColumns = "id, signal_id, content_id, content_type, user_id, session_id, target_type, target_id, event_type, source_component, metadata, created_at";

    /// <summary>The legacy columns, in the order the reverse mapping fills them.</summary>
    public const string LegacyColumns = "id, blog_article_id, user_id, session_id, target_type, target_id, event_type, source_component, metadata, created_at";

    // A legacy row's journey: the signal_id the app put in metadata, else one journey per legacy
    // session (the same UUID v5 JourneyKeys.FromSession gives), else the event alone.
    private static readonly string JourneyOf = $"""
        coalesce(
          CASE WHEN s.metadata ->> 'signal_id' ~* '^[0-9a-f]{"{8}"}-[0-9a-f]{"{4}"}-[0-9a-f]{"{4}"}-[0-9a-f]{"{4}"}-[0-9a-f]{"{12}"}$'
               THEN (s.metadata ->> 'signal_id')::uuid END,
          CASE WHEN s.session_id IS NOT NULL THEN uuid_generate_v5('{JourneyKeys.SessionNamespace}'::uuid, s.session_id) END,
          s.id)
        """;

    /// <summary>
    /// The mapping: a legacy row s as signal_events holds it. The backfill, the parity image and
    /// repair use it; so does the engine benchmark's single-statement limit, so both copy alike.
    /// </summary>
    public static readonly string SelectAsTarget = $"""
        s.id, {JourneyOf}, s.blog_article_id, 'article', s.user_id, s.session_id, s.target_type, s.target_id,
        s.event_type, s.source_component, s.metadata - 'signal_id', s.created_at
        """;

    private const string AsSource = """
        t.id, t.content_id AS blog_article_id, t.user_id, t.session_id, t.target_type, t.target_id, t.event_type,
        t.source_component, t.metadata || jsonb_build_object('signal_id', t.signal_id) AS metadata, t.created_at
        """;

    // Only these target rows have a legacy counterpart; the rest live in signal_events alone.
    private const string HasLegacyHome = "t.content_type = 'article' AND t.source_component <> 'distribution'";

    private const string TargetImageSql =
        "ROW(t.id, t.signal_id, t.content_id, t.content_type, t.user_id, t.session_id, t.target_type, t.target_id, t.event_type, t.source_component, t.metadata - 'signal_id', t.created_at)::text";

    private const string UpdateSource = """
        ON CONFLICT (id) DO UPDATE SET blog_article_id = EXCLUDED.blog_article_id, user_id = EXCLUDED.user_id,
          session_id = EXCLUDED.session_id, target_type = EXCLUDED.target_type, target_id = EXCLUDED.target_id,
          event_type = EXCLUDED.event_type, source_component = EXCLUDED.source_component,
          metadata = EXCLUDED.metadata, created_at = EXCLUDED.created_at
        """;

    public static readonly DataMigration Declaration = new()
    {
        Name = KnownMigrations.SignalEvents,
        Source = "blog_attribution_events",
        Target = "signal_events",
        Key = "id",
        KeyType = "uuid",
        // The reports read it, never signal_events (Views/DailyRollup.cs refreshes it incrementally).
        Views = [new(Views.DailyRollup.ViewName, ViewKind.Rollup)],
        CopyBatchSql = $"""
            INSERT INTO signal_events ({TargetColumns})
            SELECT {SelectAsTarget} FROM batch s
            ON CONFLICT DO NOTHING
            RETURNING 1
            """,
        TargetFilter = HasLegacyHome,
        SourceImage = $"ROW({SelectAsTarget})::text",
        TargetImage = TargetImageSql,
        TargetChangedAt = "t.recorded_at",
        // signal_events' partition key: the backfill copies it unchanged, so both sides slice alike.
        SourceTime = "s.created_at",
        TargetTime = "t.created_at",
        // No ON CONFLICT DO UPDATE: the key is (id, created_at), and an update cannot move a row whose
        // legacy created_at changed to another partition. What differs goes, then what is missing comes.
        UpsertTargetSql = $"""
            DELETE FROM signal_events t USING blog_attribution_events s
             WHERE s.id = ANY(@keys::uuid[]) AND t.id = s.id AND {TargetImageSql} IS DISTINCT FROM ROW({SelectAsTarget})::text;
            INSERT INTO signal_events ({TargetColumns})
            SELECT {SelectAsTarget} FROM blog_attribution_events s
             WHERE s.id = ANY(@keys::uuid[]) AND NOT EXISTS (SELECT 1 FROM signal_events t WHERE t.id = s.id)
            ON CONFLICT DO NOTHING
            """,
        UpsertSourceSql = $"""
            INSERT INTO blog_attribution_events ({LegacyColumns})
            SELECT {AsSource} FROM signal_events t WHERE t.id = ANY(@keys::uuid[]) AND {HasLegacyHome}
            {UpdateSource}
            """,
        DeleteTargetSql = "DELETE FROM signal_events WHERE id = ANY(@keys::uuid[])",
        DeleteSourceSql = "DELETE FROM blog_attribution_events WHERE id = ANY(@keys::uuid[])",
        Rules =
        [
            new("future_dated_events", RuleSeverity.Error,
                "SELECT count(*) FROM signal_events WHERE created_at > now() + interval '5 minutes'",
                "Events dated more than 5 minutes ahead of the database clock."),
            new("events_without_journey_session", RuleSeverity.Warning,
                "SELECT count(*) FROM blog_attribution_events WHERE session_id IS NULL AND NOT (metadata ? 'signal_id')",
                "Legacy events with neither a session nor a signal_id: each becomes a one-event journey."),
        ],
        CutoverSql = $"""
            ALTER TABLE blog_attribution_events RENAME TO blog_attribution_events_backup;
            CREATE VIEW blog_attribution_events AS
              SELECT {AsSource} FROM signal_events t WHERE {HasLegacyHome};
            """,
        // Rows deleted from signal_events while cut over (through the view or not) leave the backup;
        // rows only the backup has stay, for parity and repair.
        RollbackSql = $"""
            DELETE FROM blog_attribution_events_backup s
             WHERE {CutoverDeletes.WasDeleted(KnownMigrations.SignalEvents, "signal_events", "s.id")}
               AND NOT EXISTS (SELECT 1 FROM signal_events t WHERE t.id = s.id AND {HasLegacyHome});
            INSERT INTO blog_attribution_events_backup ({LegacyColumns})
            SELECT {AsSource} FROM signal_events t WHERE {HasLegacyHome}
            {UpdateSource};
            DROP VIEW blog_attribution_events;
            ALTER TABLE blog_attribution_events_backup RENAME TO blog_attribution_events;
            """,
    };
}
