using SignalFunctions.Stages;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>
/// star-schema-dual-write-plan.md: the monolith extracted_positions (per collector result one brand
/// row, competitor_name NULL, and one row per competitor) → the star schema: metric_facts with
/// brand_metrics, brand_sentiment, competitor_metrics and competitor_sentiment.
/// <para>
/// The unit is the collector result: the key is collector_result_id, the source rows are the brand
/// rows, and one source row fans out to all five tables in one statement (data-modifying CTEs, the
/// children joined to the ids metric_facts returns), never half-copied. Its competitor rows are
/// found by collector result, their competitor by (brand, name) in brand_competitors: set-based
/// joins instead of the plan's per-row inserts and per-competitor lookups. Sentiment rows exist
/// only where the legacy row has a label or a score, as in the plan.
/// </para>
/// <para>
/// A competitor name with no brand_competitors row has no place in the new schema (competitor_id
/// is NOT NULL). The plan drops it silently; here the rule unknown_competitors counts those rows as
/// an error, so the gate past shadow holds until someone adds the competitor (the next parity run
/// then finds those collector results different, and repair copies them) or forces past it.
/// </para>
/// <para>
/// Parity compares one image per collector result over all five tables. The scoring service is
/// an outside writer: a statement trigger on extracted_positions rebuilds the star rows of every
/// collector result a statement touches, from dual_write until the cut-over.
/// </para>
/// </summary>
public static class BrandMetricsMigration
{
    private const string Legacy = "extracted_positions";

    private const string BrandRow = "competitor_name IS NULL";

    private static string HasSentiment(string label, string score) => $"({label} IS NOT NULL OR {score} IS NOT NULL)";

    /// <summary>
    /// The fan-out of the brand rows in the relation <c>batch</c>: one INSERT per table, their
    /// competitor rows read from <paramref name="legacy"/> (a relation of extracted_positions rows).
    /// Collector results that already have a fact are skipped whole (ON CONFLICT on metric_facts),
    /// so the copy is idempotent and never mixes old and new children. With
    /// <paramref name="viewIds"/> the rows are the cut-over view's, whose ids are the star rows'
    /// (<see cref="LegacyRows"/>): the fact and competitor_metrics rows are rebuilt under them, so a
    /// write through the view leaves every row's id as it was; a row without one gets a new id.
    /// </summary>
    private static CopyStep[] FanOut(string legacy, bool viewIds = false)
    {
        var (factId, factIdValue) = ViewId(viewIds, "metric_facts", "CASE WHEN b.id > 0 THEN b.id END");
        var (competitorId, competitorIdValue) = ViewId(viewIds, "competitor_metrics", "CASE WHEN c.id < 0 THEN -c.id END");
        return
        [
            new("facts", $"""
                INSERT INTO metric_facts ({factId}collector_result_id, brand_id, customer_id, query_id, collector_type, topic, processed_at, created_at)
                SELECT {factIdValue}b.collector_result_id, b.brand_id, b.customer_id, b.query_id, b.collector_type, b.topic, b.processed_at, b.created_at
                  FROM batch b
                ON CONFLICT (collector_result_id) DO NOTHING
                RETURNING id, collector_result_id
                """),
            new("brand_rows", """
                INSERT INTO brand_metrics (metric_fact_id, visibility_index, share_of_answers, has_brand_presence, brand_first_position,
                                           brand_positions, total_brand_mentions, total_word_count)
                SELECT f.id, b.visibility_index, b.share_of_answers_brand, b.has_brand_presence, b.brand_first_position,
                       b.brand_positions, b.total_brand_mentions, b.total_word_count
                  FROM facts f JOIN batch b USING (collector_result_id)
                """),
            new("brand_sentiment_rows", $"""
                INSERT INTO brand_sentiment (metric_fact_id, sentiment_label, sentiment_score, positive_sentences, negative_sentences)
                SELECT f.id, b.sentiment_label, b.sentiment_score,
                       coalesce(b.sentiment_positive_sentences, '[]'), coalesce(b.sentiment_negative_sentences, '[]')
                  FROM facts f JOIN batch b USING (collector_result_id)
                 WHERE {HasSentiment("b.sentiment_label", "b.sentiment_score")}
                """),
            new("competitors", $"""
                SELECT f.id AS metric_fact_id, bc.id AS competitor_id, e.*
                  FROM facts f
                  JOIN {legacy} e ON e.collector_result_id = f.collector_result_id AND e.competitor_name IS NOT NULL
                  JOIN brand_competitors bc ON bc.brand_id = e.brand_id AND bc.competitor_name = e.competitor_name
                """),
            new("competitor_rows", $"""
                INSERT INTO competitor_metrics ({competitorId}metric_fact_id, competitor_id, visibility_index, share_of_answers, competitor_positions, competitor_mentions)
                SELECT {competitorIdValue}c.metric_fact_id, c.competitor_id, c.visibility_index_competitor, c.share_of_answers_competitor,
                       c.competitor_positions, c.competitor_mentions
                  FROM competitors c
                """),
            new("competitor_sentiment_rows", $"""
                INSERT INTO competitor_sentiment (metric_fact_id, competitor_id, sentiment_label, sentiment_score, positive_sentences, negative_sentences)
                SELECT c.metric_fact_id, c.competitor_id, c.sentiment_label_competitor, c.sentiment_score_competitor,
                       coalesce(c.sentiment_positive_sentences_competitor, '[]'), coalesce(c.sentiment_negative_sentences_competitor, '[]')
                  FROM competitors c
                 WHERE {HasSentiment("c.sentiment_label_competitor", "c.sentiment_score_competitor")}
                """),
        ];
    }

    /// <summary>The id column and value of a rebuilt row of <paramref name="table"/>: <paramref name="kept"/> where not null, else the next of its sequence.</summary>
    private static (string Column, string Value) ViewId(bool viewIds, string table, string kept) =>
        viewIds ? ("id, ", $"coalesce({kept}, nextval(pg_get_serial_sequence('{table}', 'id'))), ") : ("", "");

    private static readonly CopyStep[] FanOutSteps = FanOut(Legacy);

    /// <summary>
    /// The star rows of the collector results in <paramref name="keys"/> (a bigint[]) rebuilt from
    /// the rows of <paramref name="legacy"/>, in two statements returning nothing (the capture
    /// trigger and, after the cut-over, the view's write trigger run them too, with the view's ids).
    /// </summary>
    private static string TargetFromSource(string keys, string legacy = Legacy, bool viewIds = false)
    {
        var steps = FanOut(legacy, viewIds);
        return $"""
            DELETE FROM metric_facts WHERE collector_result_id = ANY({keys});
            WITH batch AS (SELECT s.* FROM {legacy} s WHERE s.collector_result_id = ANY({keys}) AND s.{BrandRow}),
            {string.Join(",\n", steps[..^1].Select(step => $"{step.Name} AS (\n{step.Sql}\n)"))}
            {steps[^1].Sql}
            """;
    }

    /// <summary>
    /// Outside writers (the monolith's collectors) keep writing extracted_positions after the
    /// cut-over, when it is a view. Each row they insert, update or delete is applied to the
    /// collector result's rows as the view shows them, and the collector result's star rows are
    /// rebuilt from those with the backfill's own fan-out, so a write through the view lands exactly
    /// as the capture trigger would have mirrored it. The monolith's constraints hold (one brand row
    /// and one row per competitor per collector result); what the star schema cannot hold is refused,
    /// not dropped: a competitor unknown to brand_competitors, a competitor row before its brand row.
    /// Brand numbers come from the brand row (competitor rows only repeat them), and deleting the
    /// brand row deletes its collector result, as metric_facts' ON DELETE CASCADE does. Ids of the
    /// view's rows are the fact's (brand row) and the negated competitor_metrics id; RETURNING gives
    /// them. They are not the legacy ids, but they hold: the rebuild keeps the id of every row it
    /// keeps, the updated one included (an UPDATE cannot set it: the id says which star row it is,
    /// so a row turned from brand to competitor row or back gets a new one), and an inserted row
    /// gets a new one whatever the writer gave.
    /// </summary>
    private static readonly string WriteThroughView = $"""
        CREATE FUNCTION {Legacy}_write() RETURNS trigger LANGUAGE plpgsql AS $fn$
        DECLARE
          keys bigint[] := ARRAY[]::bigint[];
          changed bigint;
          wanted {Legacy}[];
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            changed := OLD.id;
            keys := ARRAY[OLD.collector_result_id];
          END IF;
          IF TG_OP <> 'DELETE' THEN
            keys := keys || NEW.collector_result_id;
            NEW.id := CASE WHEN TG_OP = 'UPDATE' THEN OLD.id END;
          END IF;
          -- The collector results' rows as they stand, less the one being changed.
          SELECT coalesce(array_agg(v), ARRAY[]::{Legacy}[]) INTO wanted FROM {Legacy} v
           WHERE v.collector_result_id = ANY(keys) AND v.id IS DISTINCT FROM changed;
          IF TG_OP <> 'DELETE' THEN
            IF EXISTS (SELECT 1 FROM unnest(wanted) w
                        WHERE w.collector_result_id = NEW.collector_result_id AND w.competitor_name IS NOT DISTINCT FROM NEW.competitor_name) THEN
              RAISE EXCEPTION 'duplicate key value violates unique constraint "idx_{Legacy}_collector_result_id"'
                USING ERRCODE = 'unique_violation',
                      DETAIL = format('Key (collector_result_id, competitor_name)=(%s, %s) already exists.', NEW.collector_result_id, NEW.competitor_name);
            END IF;
            IF NEW.competitor_name IS NOT NULL THEN
              IF NOT EXISTS (SELECT 1 FROM brand_competitors bc WHERE bc.brand_id = NEW.brand_id AND bc.competitor_name = NEW.competitor_name) THEN
                RAISE EXCEPTION '{Legacy} is a view over the star schema: competitor "%" has no brand_competitors row for brand %', NEW.competitor_name, NEW.brand_id
                  USING ERRCODE = 'foreign_key_violation', HINT = 'Add the competitor to brand_competitors first.';
              END IF;
              IF NOT EXISTS (SELECT 1 FROM unnest(wanted) w WHERE w.collector_result_id = NEW.collector_result_id AND w.{BrandRow}) THEN
                RAISE EXCEPTION '{Legacy} is a view over the star schema: collector result % has no brand row for competitor "%"', NEW.collector_result_id, NEW.competitor_name
                  USING ERRCODE = 'foreign_key_violation', HINT = 'Write the brand row (competitor_name NULL) first.';
              END IF;
            END IF;
            wanted := wanted || NEW;
          END IF;
        {TargetFromSource("keys", "unnest(wanted)", viewIds: true)};
          IF TG_OP = 'DELETE' THEN
            RETURN OLD;
          END IF;
          SELECT v.id INTO NEW.id FROM {Legacy} v
           WHERE v.collector_result_id = NEW.collector_result_id AND v.competitor_name IS NOT DISTINCT FROM NEW.competitor_name;
          RETURN NEW;
        END $fn$;
        CREATE TRIGGER {Legacy}_write INSTEAD OF INSERT OR UPDATE OR DELETE ON {Legacy} FOR EACH ROW EXECUTE FUNCTION {Legacy}_write();
        -- The monolith's defaults, so writers that leave these out still write what they wrote before.
        ALTER VIEW {Legacy} ALTER COLUMN has_brand_presence SET DEFAULT false;
        ALTER VIEW {Legacy} ALTER COLUMN total_brand_mentions SET DEFAULT 0;
        ALTER VIEW {Legacy} ALTER COLUMN total_word_count SET DEFAULT 0;
        ALTER VIEW {Legacy} ALTER COLUMN competitor_mentions SET DEFAULT 0;
        ALTER VIEW {Legacy} ALTER COLUMN created_at SET DEFAULT now()
        """;

    /// <summary>A collector result as both sides must hold it, from the brand row <c>s</c> of <paramref name="legacy"/>.</summary>
    private static string SourceImage(string legacy) => $"""
        ROW(s.collector_result_id, s.brand_id, s.customer_id, s.query_id, s.collector_type, s.topic, s.processed_at, s.created_at,
            ROW(s.visibility_index, s.share_of_answers_brand, s.has_brand_presence, s.brand_first_position, s.brand_positions,
                s.total_brand_mentions, s.total_word_count)::text,
            CASE WHEN {HasSentiment("s.sentiment_label", "s.sentiment_score")}
                 THEN ROW(s.sentiment_label, s.sentiment_score, coalesce(s.sentiment_positive_sentences, '[]'),
                          coalesce(s.sentiment_negative_sentences, '[]'))::text END,
            (SELECT string_agg(ROW(bc.id, e.visibility_index_competitor, e.share_of_answers_competitor, e.competitor_positions,
                                   e.competitor_mentions)::text, ';' ORDER BY bc.id)
               FROM {legacy} e JOIN brand_competitors bc ON bc.brand_id = e.brand_id AND bc.competitor_name = e.competitor_name
              WHERE e.collector_result_id = s.collector_result_id),
            (SELECT string_agg(ROW(bc.id, e.sentiment_label_competitor, e.sentiment_score_competitor,
                                   coalesce(e.sentiment_positive_sentences_competitor, '[]'),
                                   coalesce(e.sentiment_negative_sentences_competitor, '[]'))::text, ';' ORDER BY bc.id)
               FROM {legacy} e JOIN brand_competitors bc ON bc.brand_id = e.brand_id AND bc.competitor_name = e.competitor_name
              WHERE e.collector_result_id = s.collector_result_id
                AND {HasSentiment("e.sentiment_label_competitor", "e.sentiment_score_competitor")}))::text
        """;

    /// <summary>The same image from the fact <c>t</c> and its four kinds of children.</summary>
    private const string TargetImage = """
        ROW(t.collector_result_id, t.brand_id, t.customer_id, t.query_id, t.collector_type, t.topic, t.processed_at, t.created_at,
            (SELECT ROW(m.visibility_index, m.share_of_answers, m.has_brand_presence, m.brand_first_position, m.brand_positions,
                        m.total_brand_mentions, m.total_word_count)::text
               FROM brand_metrics m WHERE m.metric_fact_id = t.id),
            (SELECT ROW(bs.sentiment_label, bs.sentiment_score, bs.positive_sentences, bs.negative_sentences)::text
               FROM brand_sentiment bs WHERE bs.metric_fact_id = t.id),
            (SELECT string_agg(ROW(c.competitor_id, c.visibility_index, c.share_of_answers, c.competitor_positions,
                                   c.competitor_mentions)::text, ';' ORDER BY c.competitor_id)
               FROM competitor_metrics c WHERE c.metric_fact_id = t.id),
            (SELECT string_agg(ROW(c.competitor_id, c.sentiment_label, c.sentiment_score, c.positive_sentences,
                                   c.negative_sentences)::text, ';' ORDER BY c.competitor_id)
               FROM competitor_sentiment c WHERE c.metric_fact_id = t.id))::text
        """;

    private static readonly string[] LegacyColumns =
    [
        "collector_result_id", "brand_id", "customer_id", "query_id", "collector_type", "topic", "competitor_name",
        "visibility_index", "share_of_answers_brand", "has_brand_presence", "brand_first_position", "brand_positions",
        "total_brand_mentions", "total_word_count", "sentiment_label", "sentiment_score", "sentiment_positive_sentences",
        "sentiment_negative_sentences", "visibility_index_competitor", "share_of_answers_competitor", "competitor_positions",
        "competitor_mentions", "sentiment_label_competitor", "sentiment_score_competitor",
        "sentiment_positive_sentences_competitor", "sentiment_negative_sentences_competitor", "processed_at", "created_at",
    ];

    /// <summary>
    /// The legacy rows rebuilt from the star schema, for the facts matching <paramref name="facts"/>
    /// (a condition on mf): a brand row per fact, and a competitor row per competitor_metrics row
    /// repeating the brand's numbers, as the monolith did. Ids: the fact's for brand rows and the
    /// negated competitor_metrics id for competitor rows — unique, but not the legacy ids.
    /// </summary>
    private static string LegacyRows(string facts, bool withId) => $"""
        SELECT {(withId ? "mf.id, " : "")}mf.collector_result_id, mf.brand_id, mf.customer_id, mf.query_id, mf.collector_type, mf.topic,
               NULL::text AS competitor_name, bm.visibility_index, bm.share_of_answers AS share_of_answers_brand,
               coalesce(bm.has_brand_presence, false) AS has_brand_presence, bm.brand_first_position, bm.brand_positions,
               coalesce(bm.total_brand_mentions, 0) AS total_brand_mentions, coalesce(bm.total_word_count, 0) AS total_word_count,
               bs.sentiment_label, bs.sentiment_score, bs.positive_sentences AS sentiment_positive_sentences,
               bs.negative_sentences AS sentiment_negative_sentences, NULL::numeric(5,2) AS visibility_index_competitor,
               NULL::numeric(5,2) AS share_of_answers_competitor, NULL::integer[] AS competitor_positions, 0 AS competitor_mentions,
               NULL::text AS sentiment_label_competitor, NULL::numeric(5,2) AS sentiment_score_competitor,
               NULL::jsonb AS sentiment_positive_sentences_competitor, NULL::jsonb AS sentiment_negative_sentences_competitor,
               mf.processed_at, mf.created_at
          FROM metric_facts mf
          LEFT JOIN brand_metrics bm ON bm.metric_fact_id = mf.id
          LEFT JOIN brand_sentiment bs ON bs.metric_fact_id = mf.id
         WHERE {facts}
        UNION ALL
        SELECT {(withId ? "-cm.id, " : "")}mf.collector_result_id, mf.brand_id, mf.customer_id, mf.query_id, mf.collector_type, mf.topic,
               bc.competitor_name, bm.visibility_index, bm.share_of_answers, coalesce(bm.has_brand_presence, false), bm.brand_first_position,
               bm.brand_positions, coalesce(bm.total_brand_mentions, 0), coalesce(bm.total_word_count, 0),
               bs.sentiment_label, bs.sentiment_score, bs.positive_sentences, bs.negative_sentences,
               cm.visibility_index, cm.share_of_answers, cm.competitor_positions, cm.competitor_mentions,
               cs.sentiment_label, cs.sentiment_score, cs.positive_sentences, cs.negative_sentences,
               mf.processed_at, mf.created_at
          FROM competitor_metrics cm
          JOIN metric_facts mf ON mf.id = cm.metric_fact_id
          JOIN brand_competitors bc ON bc.id = cm.competitor_id
          LEFT JOIN brand_metrics bm ON bm.metric_fact_id = mf.id
          LEFT JOIN brand_sentiment bs ON bs.metric_fact_id = mf.id
          LEFT JOIN competitor_sentiment cs ON cs.metric_fact_id = cm.metric_fact_id AND cs.competitor_id = cm.competitor_id
         WHERE {facts}
        """;

    private static readonly string Columns = string.Join(", ", LegacyColumns);

    private static readonly (string Install, string Remove) Capture = CaptureTrigger.Build(KnownMigrations.BrandMetrics, $"{Legacy}_capture",
        [new CapturedTable(Legacy, rows => $"SELECT r.collector_result_id::text FROM {rows} r", OnTruncate: "DELETE FROM metric_facts")],
        TargetFromSource("keys::bigint[]"));

    public static readonly DataMigration Declaration = new()
    {
        Name = KnownMigrations.BrandMetrics,
        Source = Legacy,
        Target = "metric_facts",
        Key = "collector_result_id",
        KeyType = "bigint",
        SourceFilter = $"s.{BrandRow}",
        NewTables = ["metric_facts", "brand_metrics", "competitor_metrics", "brand_sentiment", "competitor_sentiment"],
        // Only the facts hold the key. A delete from the other four changes a collector result, and
        // the rollback finds it by its image like any change; a TRUNCATE of metric_facts cascades to them.
        DeletesRecordedOn = [new("metric_facts", "collector_result_id")],
        // The dashboard reads the new side from it (Brands/BrandDailyMetrics.cs).
        Views = [new(Brands.BrandDailyMetrics.ViewName)],
        CopyBatchSteps = FanOutSteps,
        CopyBatchSql = "SELECT 1 FROM facts",
        SourceImage = SourceImage(Legacy),
        TargetImage = TargetImage,
        UpsertTargetSql = TargetFromSource("@keys::bigint[]"),
        // One statement: the capture trigger fires after it, when the rows are back, and rebuilds
        // the same star rows from them.
        UpsertSourceSql = $"""
            WITH rebuilt AS MATERIALIZED ({LegacyRows("mf.collector_result_id = ANY(@keys::bigint[])", withId: false)}),
            removed AS (DELETE FROM {Legacy} WHERE collector_result_id = ANY(@keys::bigint[]))
            INSERT INTO {Legacy} ({Columns}) SELECT * FROM rebuilt
            """,
        DeleteTargetSql = "DELETE FROM metric_facts WHERE collector_result_id = ANY(@keys::bigint[])",
        DeleteSourceSql = $"DELETE FROM {Legacy} WHERE collector_result_id = ANY(@keys::bigint[])",
        Rules =
        [
            new("unknown_competitors", RuleSeverity.Error,
                $"""
                SELECT count(*) FROM {Legacy} e
                 WHERE e.competitor_name IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM brand_competitors bc WHERE bc.brand_id = e.brand_id AND bc.competitor_name = e.competitor_name)
                """,
                "Competitor rows whose name has no brand_competitors row for the brand: the star schema cannot hold them. Add the competitor (then parity and repair copy them) or delete the rows."),
            // An error, not a warning: the rows are lost to every reader once the cut-over's view
            // (built from the star tables) replaces the table, and only the archive keeps them.
            new("competitor_rows_without_brand_row", RuleSeverity.Error,
                $"""
                SELECT count(*) FROM {Legacy} e
                 WHERE e.competitor_name IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM {Legacy} b WHERE b.collector_result_id = e.collector_result_id AND b.{BrandRow})
                """,
                "Competitor rows of a collector result with no brand row: there is no fact to hang them on, so the star schema cannot hold them. Add the brand row or delete the rows."),
            new("unmappable_sentiment_labels", RuleSeverity.Error,
                $"""
                SELECT count(*) FROM {Legacy} e
                 WHERE CASE WHEN e.{BrandRow} THEN e.sentiment_label ELSE e.sentiment_label_competitor END
                       NOT IN ('POSITIVE', 'NEGATIVE', 'NEUTRAL')
                """,
                "Rows whose sentiment label the star schema's CHECK refuses (only POSITIVE, NEGATIVE, NEUTRAL): their batch fails, so the backfill stalls on them. Fix or clear the labels."),
        ],
        InstallCaptureSql = Capture.Install,
        RemoveCaptureSql = Capture.Remove,
        // The plan's tables are new: old readers keep reading extracted_positions through a view over them.
        CutoverSql = $"""
            ALTER TABLE {Legacy} RENAME TO {Legacy}_backup;
            CREATE VIEW {Legacy} AS {LegacyRows("true", withId: true)};
            {WriteThroughView}
            """,
        // The collector results whose star rows differ from the backup, are new, or were deleted
        // while cut over are rebuilt in the backup from the star rows (none, for a deleted one); the
        // rest keep their legacy rows and ids, one only the backup has included (parity and repair
        // copy it later).
        RollbackSql = $"""
            CREATE TEMP TABLE brand_metrics_changed ON COMMIT DROP AS
            SELECT coalesce(s.collector_result_id, t.collector_result_id) AS collector_result_id
              FROM (SELECT s.collector_result_id, {SourceImage($"{Legacy}_backup")} AS image FROM {Legacy}_backup s WHERE s.{BrandRow}) s
              FULL JOIN (SELECT t.collector_result_id, {TargetImage} AS image FROM metric_facts t) t USING (collector_result_id)
             WHERE s.image IS DISTINCT FROM t.image
               AND (t.collector_result_id IS NOT NULL OR {CutoverDeletes.WasDeleted(KnownMigrations.BrandMetrics, "metric_facts", "s.collector_result_id")});
            DELETE FROM {Legacy}_backup WHERE collector_result_id IN (SELECT collector_result_id FROM brand_metrics_changed);
            INSERT INTO {Legacy}_backup ({Columns})
            SELECT {Columns} FROM ({LegacyRows("mf.collector_result_id IN (SELECT collector_result_id FROM brand_metrics_changed)", withId: false)}) r;
            DROP VIEW {Legacy};
            DROP FUNCTION {Legacy}_write();
            ALTER TABLE {Legacy}_backup RENAME TO {Legacy}
            """,
        CutoverSummary = $"{Legacy} renamed to {Legacy}_backup; {Legacy} is now a view over the star schema (brand and competitor rows rebuilt) whose writes go to the star tables.",
        RollbackSummary = $"{Legacy} is a table again; collector results changed since the cut-over were rebuilt from the star schema.",
    };
}
