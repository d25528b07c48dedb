using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Migrations;

namespace SignalFunctions.Views;

/// <summary>
/// Refreshes signal_daily_rollup (0006_views.sql), the rollup signal-events declares: per content, UTC day and event type, events,
/// distinct journeys and the journeys among them that converted on that content that day.
/// <para>
/// Incremental: recomputes only the (content, day) buckets touched since the last run. Inserts are
/// found by recorded_at at or after the durable watermark (less a small overlap); updates and
/// deletes, which recorded_at cannot show, come from a change log filled by statement triggers and
/// consumed with DELETE … RETURNING. The watermark never moves past the start of the oldest
/// transaction still open when the run reads: recorded_at defaults to now(), which is the
/// transaction's start, so any row not yet visible to this run has recorded_at at or after it, and
/// the next run reads it even if it commits long after this one.
/// </para>
/// <para>
/// Full: computes every bucket aside and applies only the difference (delete what vanished, upsert
/// what changed), which is what REFRESH MATERIALIZED VIEW CONCURRENTLY does. Both kinds run in one
/// transaction with the watermark, under an advisory lock; readers see the old rows until commit
/// and are never blocked.
/// </para>
/// </summary>
public sealed partial class DailyRollup(NpgsqlDataSource dataSource, IOptions<ViewOptions> options, ILogger<DailyRollup> logger) : IViewRefresher
{
    public const string ViewName = "signal_daily_rollup";

    /// <summary>An incremental run never needs a full one below this many dirty buckets.</summary>
    private const int SmallChange = 1000;

    /// <summary>Past this share of all buckets, one hash pass over the table beats an index probe per bucket.</summary>
    private const double FullRefreshShare = 0.25;

    string IViewRefresher.View => ViewName;

    async Task<ViewRefreshResult> IViewRefresher.RefreshAsync(bool full, CancellationToken ct)
    {
        var refresh = await RefreshAsync(full, ct);
        return new ViewRefreshResult(ViewName, refresh.Skipped, refresh.Summary, refresh.Elapsed, refresh);
    }

    public async Task<RollupRefresh> RefreshAsync(bool full, CancellationToken ct)
    {
        var settings = options.Value;
        var watch = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var jobLock = await JobLock.TryTakeAsync(connection, "refresh-views", ViewName, ct);
        if (jobLock is null)
        {
            return RollupRefresh.SkippedRun(watch.Elapsed);
        }

        await using var tx = await connection.BeginTransactionAsync(ct);
        Task<int> ExecuteAsync(string sql, object? args = null) =>
            connection.ExecuteAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct));

        // The first statement that reads pg_stat_activity fixes this transaction's view of it.
        var state = await connection.QuerySingleAsync<State>(new CommandDefinition(StateSql, new { view = ViewName }, tx, cancellationToken: ct));
        await ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"SET LOCAL work_mem = '{settings.WorkMemMegabytes}MB'"));

        var reason = full ? "requested"
            : state.Watermark is null ? "first refresh"
            : state.NeedsFull ? "signal_events was truncated"
            : settings.FullRefreshHours > 0 && (state.LastFullAt is null || state.Now - state.LastFullAt.Value >= TimeSpan.FromHours(settings.FullRefreshHours))
                ? string.Create(CultureInfo.InvariantCulture, $"the full refresh every {settings.FullRefreshHours} h is due")
            : null;

        long buckets = 0, logged = 0;
        if (reason is null)
        {
            (buckets, logged, reason) = await CollectChangesAsync(connection, tx, state.Watermark!.Value - TimeSpan.FromSeconds(settings.OverlapSeconds), ct);
        }
        else
        {
            await ExecuteAsync("DELETE FROM signal_rollup_changes");
        }

        var mode = reason is null ? RefreshMode.Incremental : RefreshMode.Full;
        if (mode == RefreshMode.Incremental)
        {
            // A few hundred buckets out of many: probe the indexes. The rollup and the recent events are
            // in cache, and with the default random_page_cost (4, for spinning disks) the planner scans the
            // whole rollup to update a handful of rows.
            await ExecuteAsync("ANALYZE rollup_dirty");
            await ExecuteAsync("SET LOCAL random_page_cost = 1.1");
        }
        await ExecuteAsync("""
            CREATE TEMP TABLE rollup_fresh (
              content_id uuid NOT NULL, day date NOT NULL, event_type text NOT NULL,
              events bigint NOT NULL, signals bigint NOT NULL, conversions bigint NOT NULL
            ) ON COMMIT DROP
            """);
        var freshRows = await ExecuteAsync(mode == RefreshMode.Full ? FreshFullSql : FreshIncrementalSql);
        // Statistics for the two joins against the rollup that follow (a temporary table has none).
        await ExecuteAsync("ANALYZE rollup_fresh");
        var deleted = await ExecuteAsync(mode == RefreshMode.Full ? DeleteVanishedFullSql : DeleteVanishedIncrementalSql);
        var written = await ExecuteAsync(UpsertChangedSql);

        if (mode == RefreshMode.Full)
        {
            buckets = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM rollup_fresh WHERE event_type = 'all'", transaction: tx, cancellationToken: ct));
        }
        var refresh = new RollupRefresh(false, mode, reason, buckets, logged, written, deleted,
            mode == RefreshMode.Full ? freshRows : null, watch.Elapsed, state.Now - state.Horizon);
        await ExecuteAsync("""
            UPDATE view_refreshes
               SET watermark = @Horizon, refreshed_at = now(), last_summary = @summary,
                   -- Only a full run clears it: a TRUNCATE may have set it after this run read it.
                   needs_full = CASE WHEN @isFull THEN false ELSE needs_full END,
                   last_full_at = CASE WHEN @isFull THEN now() ELSE last_full_at END
             WHERE view_name = @view
            """, new { state.Horizon, summary = refresh.Summary, isFull = mode == RefreshMode.Full, view = ViewName });
        await tx.CommitAsync(ct);

        refresh = refresh with { Elapsed = watch.Elapsed };
        LogRefreshed(refresh.Summary);
        return refresh;
    }

    /// <summary>
    /// Fills rollup_dirty with the buckets touched since the last run, consuming the change log, and
    /// says why a full refresh is better when too many changed.
    /// </summary>
    private static async Task<(long Buckets, long Logged, string? FullReason)> CollectChangesAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, DateTime since, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            "CREATE TEMP TABLE rollup_dirty (content_id uuid NOT NULL, day date NOT NULL, logged boolean NOT NULL) ON COMMIT DROP",
            transaction: tx, cancellationToken: ct));
        // One statement, one snapshot: every log row it consumes belongs to a change it can see.
        long buckets = await connection.ExecuteAsync(new CommandDefinition(CollectDirtySql, new { since }, tx, cancellationToken: ct));
        if (buckets > SmallChange)
        {
            var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM signal_daily_rollup WHERE event_type = 'all'", transaction: tx, cancellationToken: ct));
            if (buckets > FullRefreshShare * total)
            {
                return (buckets, 0, string.Create(CultureInfo.InvariantCulture, $"{buckets:N0} of {total:N0} buckets changed"));
            }
        }
        var logged = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM rollup_dirty WHERE logged", transaction: tx, cancellationToken: ct));
        return (buckets, logged, null);
    }

    /// <summary>When the rollup was last refreshed (null: never), for the reports' "as of".</summary>
    public static Task<DateTime?> RefreshedAtAsync(NpgsqlConnection connection, CancellationToken ct) =>
        connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT refreshed_at FROM view_refreshes WHERE view_name = @view", new { view = ViewName }, cancellationToken: ct));

    private sealed record State(DateTime? Watermark, bool NeedsFull, DateTime? LastFullAt, DateTime Horizon, DateTime Now);

    // Autovacuum never writes user rows, and its long runs would only hold the horizon back.
    private const string StateSql = """
        SELECT watermark, needs_full AS NeedsFull, last_full_at AS LastFullAt,
               least(statement_timestamp(),
                     (SELECT min(xact_start) FROM pg_stat_activity
                       WHERE datname = current_database() AND pid <> pg_backend_pid()
                         AND backend_type <> 'autovacuum worker')) AS Horizon,
               statement_timestamp() AS Now
          FROM view_refreshes
         WHERE view_name = @view
        """;

    private const string CollectDirtySql = """
        WITH consumed AS (DELETE FROM signal_rollup_changes RETURNING content_id, day)
        INSERT INTO rollup_dirty (content_id, day, logged)
        SELECT content_id, day, bool_or(logged)
          FROM (SELECT content_id, day, true AS logged FROM consumed
                UNION ALL
                SELECT content_id, (created_at AT TIME ZONE 'UTC')::date, false
                  FROM signal_events WHERE recorded_at >= @since) touched
         GROUP BY content_id, day
        """;

    private static readonly string[] EventTypes = ["impression", "click", "save", "refer", "convert"];

    private static string Each(string separator, Func<string, string> part) => string.Join(separator, EventTypes.Select(part));

    // The rollup's one definition, over a scope of (content_id, day, event_type, signal_id) rows.
    // First one row per journey and bucket with its events per type, then one row per bucket with
    // events, journeys and converting journeys per type and in all, unpivoted into rows. Hash
    // aggregates only: no sort of the events, no window.
    private static string Fresh(string scope) => $"""
        WITH journeys AS (
          SELECT content_id, day, signal_id,
                 {Each(",\n         ", t => $"count(*) FILTER (WHERE event_type = '{t}') AS n_{t}")}
            FROM ({scope}) scope
           GROUP BY content_id, day, signal_id
        ), buckets AS (
          SELECT content_id, day,
                 {Each(",\n         ", t => $"sum(n_{t})::bigint AS {t}_events, count(*) FILTER (WHERE n_{t} > 0) AS {t}_signals, " +
                                   $"count(*) FILTER (WHERE n_{t} > 0 AND n_convert > 0) AS {t}_conversions")},
                 sum({Each(" + ", t => $"n_{t}")})::bigint AS all_events, count(*) AS all_signals,
                 count(*) FILTER (WHERE n_convert > 0) AS all_conversions
            FROM journeys
           GROUP BY content_id, day
        )
        INSERT INTO rollup_fresh (content_id, day, event_type, events, signals, conversions)
        SELECT b.content_id, b.day, t.event_type, t.events, t.signals, t.conversions
          FROM buckets b
         CROSS JOIN LATERAL (VALUES
                 {Each(",\n         ", t => $"('{t}', b.{t}_events, b.{t}_signals, b.{t}_conversions)")},
                 ('all', b.all_events, b.all_signals, b.all_conversions)) AS t (event_type, events, signals, conversions)
         WHERE t.events > 0
        """;

    private static readonly string FreshFullSql = Fresh("""
        SELECT content_id, (created_at AT TIME ZONE 'UTC')::date AS day, event_type, signal_id FROM signal_events
        """);

    // OFFSET 0 keeps the subquery apart, so each bucket is one range scan of (content_id, created_at)
    // rather than a hash join over the whole table.
    private static readonly string FreshIncrementalSql = Fresh("""
        SELECT d.content_id, d.day, e.event_type, e.signal_id
          FROM rollup_dirty d
          CROSS JOIN LATERAL (
            SELECT event_type, signal_id FROM signal_events e
             WHERE e.content_id = d.content_id
               AND e.created_at >= d.day::timestamp AT TIME ZONE 'UTC'
               AND e.created_at < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
            OFFSET 0) e
        """);

    private const string DeleteVanishedIncrementalSql = """
        DELETE FROM signal_daily_rollup r
         USING rollup_dirty d
         WHERE r.content_id = d.content_id AND r.day = d.day
           AND NOT EXISTS (SELECT FROM rollup_fresh f
                            WHERE f.content_id = r.content_id AND f.day = r.day AND f.event_type = r.event_type)
        """;

    // A decision: days below signal_events' lowest partition bound were retired by retention (their
    // partitions dropped whole, or being detached), and the rollup keeps their rows as the only record
    // of those days. The bound is -infinity while a MINVALUE partition exists or the table is not partitioned.
    private const string DeleteVanishedFullSql = """
        DELETE FROM signal_daily_rollup r
         WHERE r.day >= (SELECT coalesce((CASE WHEN bool_or(lower_bound IS NULL) THEN NULL ELSE min(lower_bound) END AT TIME ZONE 'UTC')::date,
                                         '-infinity')
                           FROM partition_bounds('signal_events') WHERE NOT detach_pending)
           AND NOT EXISTS (SELECT FROM rollup_fresh f
                            WHERE f.content_id = r.content_id AND f.day = r.day AND f.event_type = r.event_type)
        """;

    // Rows whose numbers did not change are not written at all: no dead tuples, no WAL.
    private const string UpsertChangedSql = """
        INSERT INTO signal_daily_rollup AS r (content_id, day, event_type, events, signals, conversions)
        SELECT f.content_id, f.day, f.event_type, f.events, f.signals, f.conversions
          FROM rollup_fresh f
          LEFT JOIN signal_daily_rollup o USING (content_id, day, event_type)
         WHERE o.content_id IS NULL
            OR (o.events, o.signals, o.conversions) IS DISTINCT FROM (f.events, f.signals, f.conversions)
        ON CONFLICT (content_id, day, event_type) DO UPDATE
          SET events = EXCLUDED.events, signals = EXCLUDED.signals, conversions = EXCLUDED.conversions
        """;

    [LoggerMessage(Level = LogLevel.Information, Message = "Refreshed {Summary}")]
    private partial void LogRefreshed(string summary);
}
