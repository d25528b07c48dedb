using SignalFunctions.Stages;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>
/// click-tracking-events-plan.md: the events chronology of cuft_click_tracking, rebuilt for clicks
/// recorded before it existed. Source and target are the same table: the "source" is the legacy
/// columns (utm_source, qualified, score), the "target" the events column.
///
/// The rebuild (backfill, and repair towards the chronology) follows the plan's phase 5 rules:
/// form_submit at date_created when utm_source is set, generate_lead at date_updated when
/// qualified. Each goes in front of the recorded entries, and only when not already there (for
/// generate_lead any generate_lead or entry with "qualified": true counts); recorded entries are
/// never changed or reordered (an entry keeps the client's event id it carries; rebuilt ones carry
/// none, and no rule reads ids). Then the legacy qualified column must be what the chronology's
/// latest qualification says; when it is not (a status the chronology missed), a status_update
/// with the column's qualified and score is appended. The result is capped as ingest caps it
/// (the newest Clicks:MaxEventsPerClick entries, the rest counted in events_dropped) when it adds
/// anything; a chronology it adds nothing to stays as recorded, even above a since-lowered cap. A
/// chronology that already lost entries to the cap gets nothing in front: its oldest entries are
/// gone, and what would go before them would fall off at once, counted again on every run.
/// The rebuild is idempotent: a second run changes nothing. The backfill applies it to every click
/// it reaches, including ones ingest recorded at dual_write before the backfill got to them (their
/// recorded entries stay as they are); clicks recorded after it completed are ingest's alone.
///
/// Parity compares qualification, the one thing both sides must agree on in every stage:
/// ingest writes the qualified column and the chronology's status in one transaction, and the
/// rebuild makes them agree for old clicks. A click without a chronology (never written by the
/// new side, not yet rebuilt) differs. It does not compare utm_source with form_submit: ingest
/// records utm_source when a click is recorded and form_submit only when a form is sent, so that
/// rule is the seed's best guess for old clicks, not an invariant of tracked ones. Nor the score:
/// a rebuilt generate_lead carries none. Where the cap dropped every qualifying entry, the
/// chronology cannot say, and both sides read "unknown".
/// </summary>
public static class ClickEventsMigration
{
    private const string Table = "cuft_click_tracking";

    // ingest's timestamp format (ClickWriter.Entry), so rebuilt and recorded entries sort alike.
    private static string Stamp(string column) => $"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""";

    private const string Qualifies = "e ->> 'event' = 'generate_lead' OR e -> 'qualified' = 'true'::jsonb";
    private const string CarriesQualification = "e ->> 'event' = 'generate_lead' OR e ? 'qualified'";

    /// <summary>What the chronology of row <paramref name="x"/> says: 'qualified', 'not qualified' or 'unknown'.</summary>
    private static string Qualification(string x) => $"""
        coalesce((SELECT CASE WHEN {Qualifies} THEN 'qualified' ELSE 'not qualified' END
                    FROM jsonb_array_elements({x}.events) WITH ORDINALITY AS a(e, n)
                   WHERE {CarriesQualification}
                   ORDER BY n DESC LIMIT 1),
                 CASE WHEN {x}.events_dropped > 0 THEN 'unknown' ELSE 'not qualified' END)
        """;

    /// <summary>
    /// The rows with the keys <paramref name="ids"/> (an array; null for all) that match
    /// <paramref name="also"/> (a condition on l), locked, so what is written is computed from
    /// what it replaces.
    /// </summary>
    private static string Locked(string? ids, string also) =>
        $"(SELECT l.* FROM {Table} l WHERE {(ids is null ? "" : $"l.id = ANY({ids}) AND ")}{also} FOR UPDATE) l";

    // The keys again on the updated side: joined only on c.id = l.id, the planner hashes a scan of
    // the whole table into every batch.
    private static string Only(string? ids) => ids is null ? "" : $" AND c.id = ANY({ids})";

    /// <summary>
    /// Rebuilds the chronology of the rows <see cref="Locked"/> names; touches only rows it changes.
    /// OFFSET 0 keeps the planner from copying the merged array's expression into each later use.
    /// </summary>
    private static string Rebuild(string? ids, string also = "true") => $$"""
        UPDATE {{Table}} c
           SET events = r.events, events_dropped = c.events_dropped + r.dropped
          FROM {{Locked(ids, also)}}
         CROSS JOIN LATERAL (SELECT coalesce(l.events, '[]'::jsonb) AS entries) x
         CROSS JOIN LATERAL (
           SELECT coalesce(bool_or(e ->> 'event' = 'form_submit'), false) AS form_submit,
                  coalesce(bool_or({{Qualifies}}), false) AS lead
             FROM jsonb_array_elements(x.entries) AS e) seen
         CROSS JOIN LATERAL (
           SELECT CASE WHEN l.events_dropped = 0 AND nullif(l.utm_source, '') IS NOT NULL AND NOT seen.form_submit
                       THEN jsonb_build_array(jsonb_build_object('event', 'form_submit', 'timestamp', {{Stamp("l.date_created")}}))
                       ELSE '[]'::jsonb END
               || CASE WHEN l.events_dropped = 0 AND l.qualified AND NOT seen.lead
                       THEN jsonb_build_array(jsonb_build_object('event', 'generate_lead', 'timestamp', {{Stamp("l.date_updated")}}))
                       ELSE '[]'::jsonb END
               || x.entries AS events OFFSET 0) front
         CROSS JOIN LATERAL (
           SELECT front.events
               || CASE WHEN coalesce((SELECT {{Qualifies}} FROM jsonb_array_elements(front.events) WITH ORDINALITY AS a(e, n)
                                       WHERE {{CarriesQualification}} ORDER BY n DESC LIMIT 1), false) = l.qualified
                       THEN '[]'::jsonb
                       ELSE jsonb_build_array(jsonb_build_object('event', 'status_update', 'timestamp', {{Stamp("l.date_updated")}},
                                                                 'qualified', l.qualified, 'score', l.score)) END AS events OFFSET 0) whole
         CROSS JOIN LATERAL (SELECT whole.events <> x.entries AND jsonb_array_length(whole.events) > @maxEventsPerClick AS over) cap
         CROSS JOIN LATERAL (
           SELECT CASE WHEN NOT cap.over THEN whole.events
                       ELSE (SELECT jsonb_agg(e ORDER BY n) FROM jsonb_array_elements(whole.events) WITH ORDINALITY AS a(e, n)
                              WHERE n > jsonb_array_length(whole.events) - @maxEventsPerClick) END AS events,
                  CASE WHEN cap.over THEN jsonb_array_length(whole.events) - @maxEventsPerClick ELSE 0 END AS dropped) r
         WHERE c.id = l.id{{Only(ids)}} AND c.events IS DISTINCT FROM r.events
        """;

    /// <summary>
    /// Sets qualified and score of the rows <see cref="Locked"/> names from their chronology:
    /// qualified from its latest qualification (left alone where the cap lost it), score from its
    /// latest entry that has one.
    /// </summary>
    private static string LegacyFromChronology(string? ids, string also) => $"""
        UPDATE {Table} c
           SET qualified = coalesce(k.qualified, c.qualified), score = coalesce(k.score, c.score)
          FROM {Locked(ids, also)}
         CROSS JOIN LATERAL (
           SELECT CASE q.state WHEN 'qualified' THEN true WHEN 'not qualified' THEN false END AS qualified,
                  (SELECT (e ->> 'score')::numeric::integer FROM jsonb_array_elements(l.events) WITH ORDINALITY AS a(e, n)
                    WHERE jsonb_typeof(e -> 'score') = 'number' ORDER BY n DESC LIMIT 1) AS score
             FROM (SELECT {Qualification("l")} AS state) q) k
         WHERE c.id = l.id{Only(ids)} AND (c.qualified, c.score) IS DISTINCT FROM (coalesce(k.qualified, c.qualified), coalesce(k.score, c.score))
        """;

    private const string Keys = "@keys::bigint[]";

    private const string FutureStamp = """to_char((now() + interval '5 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""";
    // coalesce: an entry without "event" would make the whole test NULL, and be neither well formed nor not.
    private const string WellFormed = @"coalesce(jsonb_typeof(e -> 'event') = 'string' AND e ->> 'timestamp' ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}', false)";

    public static readonly DataMigration Declaration = new()
    {
        Name = KnownMigrations.ClickEvents,
        Source = Table,
        Target = Table,
        Key = "id",
        KeyType = "bigint",
        CopyBatchSql = Rebuild("ARRAY(SELECT b.id FROM batch b)") + "\nRETURNING 1",
        SourceImage = $"ROW(s.id, CASE WHEN {Qualification("s")} = 'unknown' THEN 'unknown' WHEN s.qualified THEN 'qualified' ELSE 'not qualified' END)::text",
        TargetImage = $"ROW(t.id, CASE WHEN t.events IS NULL THEN 'no chronology' ELSE {Qualification("t")} END)::text",
        UpsertTargetSql = Rebuild(Keys),
        // A click without a chronology has nothing to copy back: the legacy columns are all there is
        // of it, so it is rebuilt from them instead.
        UpsertSourceSql = LegacyFromChronology(Keys, "l.events IS NOT NULL") + ";\n" + Rebuild(Keys, "l.events IS NULL"),
        // One table on both sides: parity can find a click different, never missing or extra. A
        // click is never deleted for the chronology's sake.
        DeleteTargetSql = "SELECT 1 WHERE false",
        DeleteSourceSql = "SELECT 1 WHERE false",
        Rules =
        [
            new("future_dated_chronology_entries", RuleSeverity.Error,
                $"SELECT count(*) FROM {Table} c WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(c.events) AS e WHERE {WellFormed} AND e ->> 'timestamp' > {FutureStamp})",
                "Clicks with chronology entries dated more than 5 minutes ahead of the database clock."),
            new("malformed_chronology_entries", RuleSeverity.Error,
                $"SELECT count(*) FROM {Table} c WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(c.events) AS e WHERE NOT ({WellFormed}))",
                "Clicks with chronology entries lacking an event name or an ISO timestamp."),
            new("chronologies_over_the_cap", RuleSeverity.Warning,
                $"SELECT count(*) FROM {Table} WHERE jsonb_array_length(events) > @{MigrationOptions.MaxEventsPerClickArgument}",
                "Chronologies longer than Clicks:MaxEventsPerClick (it was lowered; the next event trims them)."),
            new("negative_scores", RuleSeverity.Warning,
                $"SELECT count(*) FROM {Table} WHERE score < 0",
                "Clicks scored below zero."),
        ],
        // Phase 5 drops utm_source and platform. Cut-over renames them instead, which is exact and
        // reversible: a reader of the old columns fails as it would after the drop, and the values
        // stay for a rollback (drop the *_backup columns after the seed's 30-day safety period).
        // No view: the table keeps its name, and ingest writes it. Ingest writes those columns only
        // before complete, and cut-over runs only at complete.
        CutoverSql = $"""
            ALTER TABLE {Table} RENAME COLUMN utm_source TO utm_source_backup;
            ALTER TABLE {Table} RENAME COLUMN platform TO platform_backup
            """,
        // At complete only the chronology was written: qualified and score catch up from it first.
        // utm_source and platform come back as they were; no chronology entry carries them.
        RollbackSql = LegacyFromChronology(ids: null, "l.events IS NOT NULL") + $"""
            ;
            ALTER TABLE {Table} RENAME COLUMN utm_source_backup TO utm_source;
            ALTER TABLE {Table} RENAME COLUMN platform_backup TO platform
            """,
        // No backup table: a click deleted while cut over is gone from the one table, and the
        // rollback brings nothing back.
        DeletesRecordedOn = [],
        CutoverSummary = $"{Table}.utm_source and .platform renamed to *_backup (the plan's phase 5 drop, reversibly).",
        RollbackSummary = $"{Table}.utm_source and .platform restored; qualified and score brought up to date from the chronology.",
    };
}
