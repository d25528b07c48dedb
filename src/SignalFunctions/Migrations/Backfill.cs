using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Guard;
using SignalFunctions.Partitions;

namespace SignalFunctions.Migrations;

/// <summary>
/// Copies a migration's existing source rows to the target: keyset batches (never OFFSET), one
/// set-based statement per batch, each in its own transaction together with the checkpoint, so a
/// kill at any moment loses at most the batch in flight. Batch size follows a target duration;
/// the run pauses while the database is busy, yields to ingest as long as ingest's latency asks,
/// and stops cleanly at its time budget.
/// </summary>
public sealed partial class Backfill(
    NpgsqlDataSource dataSource, IOptions<MigrationOptions> options, IOptions<GuardOptions> guardOptions, EventPartitions partitions,
    ILogger<Backfill> logger)
{
    // Fewest ingest requests a latency window is judged on: a p99 of fewer is mostly one request.
    private const int LatencyWindowRequests = 200;

    // Per migration, across this process's runs: a timer run starts from where the last one had to yield.
    private readonly ConcurrentDictionary<string, IngestYield> _yields = new();

    public async Task<BackfillRun> RunAsync(DataMigration migration, TimeSpan budget, IProgress<BackfillProgress>? progress, CancellationToken ct)
    {
        var settings = options.Value;
        var watch = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var jobLock = await JobLock.TryTakeAsync(connection, "backfill", migration.Name, ct);
        if (jobLock is null)
        {
            return new BackfillRun(await ReadAsync(connection, migration, ct), 0, watch.Elapsed, TimeSpan.Zero, "skipped: another run holds the lock");
        }

        var state = await StartAsync(connection, migration, settings, ct);
        if (state.CompletedAt is not null)
        {
            return new BackfillRun(await ReadAsync(connection, migration, ct), 0, watch.Elapsed, TimeSpan.Zero, "already complete");
        }
        if (state.LastKey is null)
        {
            await EnsureTargetPartitionsAsync(connection, migration, settings, ct);
        }

        var batchSize = Math.Clamp(state.BatchSize, settings.MinBatchSize, settings.MaxBatchSize);
        var lastKey = state.LastKey;
        // Progress as the checkpoint row holds it, kept here rather than read back after every batch.
        var current = new BackfillProgress(migration.Name, state.RowsScanned, state.RowsCopied, state.RowsTotal, batchSize, null, Completed: false);
        long rowsThisRun = 0;
        var paused = TimeSpan.Zero;
        var outcome = "budget reached";
        var lastLog = DateTime.UtcNow;
        var lastEstimate = DateTime.MinValue;
        var yielding = _yields.GetOrAdd(migration.Name, _ => new IngestYield(settings));
        var steering = yielding.Steering && guardOptions.Value.Enabled;
        var latency = new IngestLatencySampler(LatencyWindowRequests);
        var flushEvery = TimeSpan.FromSeconds(guardOptions.Value.FlushSeconds);
        while (watch.Elapsed < budget)
        {
            if (ct.IsCancellationRequested)
            {
                outcome = "cancelled";
                break;
            }
            var load = await Throttle.ReadAsync(connection, settings, ct);
            if (load.BusyReason is { } busy)
            {
                LogPaused(migration.Name, busy);
                progress?.Report(current with { PausedBy = busy });
                var pause = TimeSpan.FromSeconds(1);
                await Task.Delay(pause, ct);
                paused += pause;
                continue;
            }
            if (steering && load.OthersAtWork > 0 && latency.IngestSeenWithin(2 * flushEvery) && yielding.BaselineDue(DateTime.UtcNow))
            {
                // Counted in the rate like a yield, not as a pause: it recurs for as long as ingest runs.
                progress?.Report(current with { PausedBy = "measuring ingest latency without the backfill" });
                var alone = await MeasureAloneAsync(connection, latency, ct);
                yielding.Baseline(alone, DateTime.UtcNow);
                if (alone is not null && yielding.BaselineP99 is { } p99 && yielding.LimitP99 is { } limit)
                {
                    LogBaseline(migration.Name, p99, limit);
                }
                else
                {
                    LogNoBaseline(migration.Name, yielding.Ratio);
                }
                continue;
            }

            var batchWatch = Stopwatch.StartNew();
            var rowsBefore = rowsThisRun;
            var activeBefore = watch.Elapsed - paused;
            (string? LastKey, long Scanned, long Copied) batch;
            int nextSize;
            double rate;
            try
            {
                (batch, nextSize, rate) = await CopyBatchAsync(connection, migration, settings, lastKey, batchSize,
                    scanned => (rowsBefore + scanned) / Math.Max(0.001, (activeBefore + batchWatch.Elapsed).TotalSeconds), batchWatch, ct);
            }
            catch (PostgresException ex) when (!ex.IsTransient && !ct.IsCancellationRequested)
            {
                // A row the new schema refuses fails its batch on every run: the backfill stalls
                // there. Say where and which error rules name the rows, rather than only throw.
                var firing = await FiringErrorRulesAsync(connection, migration, settings, ct);
                LogStalled(migration.Name, lastKey, ex.SqlState, ex.MessageText, firing);
                await RecordErrorAsync(migration, ex);
                outcome = $"stalled: the batch after key {lastKey ?? "(start)"} fails ({ex.SqlState}: {ex.MessageText}); " +
                          (firing.Length > 0 ? $"error rules firing: {firing}" : "no error rule names the rows");
                break;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // Kept where status and /api/migrations read it: a batch failing every tick is otherwise
                // only in the host's logs. The failure still fails the run.
                await RecordErrorAsync(migration, ex);
                throw;
            }

            rowsThisRun += batch.Scanned;
            lastKey = batch.LastKey ?? lastKey;
            batchSize = nextSize;
            current = current with
            {
                RowsScanned = current.RowsScanned + batch.Scanned,
                RowsCopied = current.RowsCopied + batch.Copied,
                BatchSize = nextSize,
                RowsPerSecond = rate,
                Completed = batch.Scanned == 0,
                LastError = null,
                LastErrorAt = null,
                PausedBy = null,
            };
            if (steering && await latency.ReadAsync(connection, ct) is { } window)
            {
                yielding.Judge(window);
            }
            // Steered by ingest's latency, it yields only while ingest answers requests: other sessions
            // (the app's own flag watcher, a guard flush, a report) are no reason to copy at a third of its speed.
            var yields = load.OthersAtWork > 0 && yielding.Ratio > 0 && (!steering || latency.IngestSeenWithin(2 * flushEvery));
            current = current with { Yielding = yields ? yielding.Describe() : null };
            if (!current.Completed && current.RowsScanned >= current.RowsTotal && DateTime.UtcNow - lastEstimate > TimeSpan.FromSeconds(10))
            {
                // Ingest added rows ahead of the checkpoint: 100 % with an ETA of zero would be a lie.
                current = current with { RowsTotal = await EstimateTotalAsync(connection, migration, settings, lastKey, current.RowsScanned, ct) };
                lastEstimate = DateTime.UtcNow;
            }
            progress?.Report(current);
            if (DateTime.UtcNow - lastLog > TimeSpan.FromSeconds(10))
            {
                LogProgress(migration.Name, current.RowsScanned, current.RowsTotal, current.Percent, current.RowsPerSecond, current.Eta?.TotalSeconds,
                    yielding.Ratio, yielding.LastP99, yielding.BaselineP99);
                lastLog = DateTime.UtcNow;
            }
            if (batch.Scanned == 0)
            {
                outcome = "complete";
                break;
            }
            if (yields)
            {
                // Leave the cores and the WAL to the sessions at work for a while (gh-ost's nice
                // ratio): their latency, not the backfill's speed, is what users see. Counted in
                // the rate, so the ETA stays honest.
                await Task.Delay(batchWatch.Elapsed * yielding.Ratio, ct);
            }
        }
        var final = await ReadAsync(connection, migration, ct);
        LogRun(migration.Name, rowsThisRun, final.RowsScanned, final.RowsTotal, final.RowsPerSecond, EtaText.Of(final.Eta), outcome);
        return new BackfillRun(final, rowsThisRun, watch.Elapsed, paused, outcome);
    }

    /// <summary>
    /// Ingest's latency with the backfill paused: the window after the next flush of the guard's
    /// measurements (the one before may hold requests answered while it copied). Null when too few
    /// requests come within a few flushes to tell; the run then yields by the fixed ratio.
    /// </summary>
    private async Task<long[]?> MeasureAloneAsync(NpgsqlConnection connection, IngestLatencySampler latency, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        var longest = TimeSpan.FromSeconds(3 * guardOptions.Value.FlushSeconds + 1);
        latency.Restart();
        while (waited.Elapsed < longest)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
            if (await latency.ReadAsync(connection, ct) is { } window)
            {
                latency.Restart();
                return window;
            }
        }
        latency.Restart();
        return null;
    }

    /// <summary>One batch and its checkpoint, in one transaction (rolled back when anything in it fails).</summary>
    private static async Task<((string? LastKey, long Scanned, long Copied) Batch, int NextSize, double Rate)> CopyBatchAsync(
        NpgsqlConnection connection, DataMigration migration, MigrationOptions settings, string? lastKey, int batchSize,
        Func<long, double> rateAfter, Stopwatch batchWatch, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        var batch = await connection.QuerySingleAsync<(string? LastKey, long Scanned, long Copied)>(new CommandDefinition(
            BatchSql(migration, first: lastKey is null), settings.ArgumentsWith(migration, new { after = lastKey, limit = batchSize }), tx, cancellationToken: ct));
        var rate = rateAfter(batch.Scanned);
        var nextSize = NextBatchSize(batchSize, batchWatch.Elapsed, settings);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE backfill_progress
               SET last_key = coalesce(@lastKey, last_key), rows_scanned = rows_scanned + @scanned,
                   rows_copied = rows_copied + @copied, batches = batches + 1, batch_size = @nextSize,
                   last_batch_at = now(), rate = @rate,
                   completed_at = CASE WHEN @scanned = 0 THEN now() END,
                   last_error = NULL, last_error_at = NULL
             WHERE migration = @name
            """, new { lastKey = batch.LastKey, batch.Scanned, batch.Copied, nextSize, rate, name = migration.Name }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (batch, nextSize, rate);
    }

    private static async Task<string> FiringErrorRulesAsync(NpgsqlConnection connection, DataMigration m, MigrationOptions settings, CancellationToken ct)
    {
        var firing = new List<string>();
        foreach (var rule in m.Rules.Where(r => r.Severity == RuleSeverity.Error))
        {
            var violations = await connection.ExecuteScalarAsync<long>(new CommandDefinition(rule.CountSql, settings.ArgumentsWith(m, null), cancellationToken: ct));
            if (violations > 0)
            {
                firing.Add($"{rule.Name} ({violations})");
            }
        }
        return string.Join(", ", firing);
    }

    /// <summary>Text for an operator: a PostgreSQL error's code and message, else the exception's message.</summary>
    public static string ErrorText(Exception ex) => ex is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : ex.Message;

    // On a connection of its own: the run's may be what broke.
    private async Task RecordErrorAsync(DataMigration migration, Exception error)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE backfill_progress SET last_error = @error, last_error_at = now() WHERE migration = @name",
                new { error = ErrorText(error), name = migration.Name }, cancellationToken: CancellationToken.None));
        }
        catch (NpgsqlException ex)
        {
            LogErrorNotRecorded(ex, migration.Name);
        }
    }

    /// <summary>
    /// Forget the checkpoint, so the next run copies everything again (idempotently). False when
    /// there was none.
    /// </summary>
    public static async Task<bool> ResetAsync(NpgsqlConnection connection, string migration, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM backfill_progress WHERE migration = @migration", new { migration }, cancellationToken: ct)) > 0;

    internal static int NextBatchSize(int current, TimeSpan took, MigrationOptions settings)
    {
        // Move toward the target duration, at most doubling or halving per batch, so one slow batch (a
        // checkpoint, a vacuum) does not collapse the size.
        var factor = Math.Clamp(settings.TargetBatchMilliseconds / Math.Max(1.0, took.TotalMilliseconds), 0.5, 2.0);
        return Math.Clamp((int)(current * factor), settings.MinBatchSize, settings.MaxBatchSize);
    }

    // The last key is ordered by the column, not by its text: an unqualified name in ORDER BY would
    // sort the text output, and put bigint key 99 after 158.
    private static string BatchSql(DataMigration m, bool first)
    {
        var where = PastCheckpoint(m, first);
        // Where a capture trigger mirrors outside writes, an outside DELETE of a row this batch
        // copies must not slip between the batch's read and its commit: its trigger would find
        // nothing to delete yet, and the batch would then put the deleted row back. FOR KEY SHARE
        // makes that DELETE wait for the batch (and skips a row whose delete is in flight);
        // updates are not held up, and their trigger's upsert already meets the batch on the key.
        // Rows from several tables (SourceRows) cannot be locked here; such a copy holds them itself.
        var holdAgainstDeletes = m.InstallCaptureSql is null || m.SourceRows is not null ? "" : "FOR KEY SHARE OF s";
        var steps = string.Concat(m.CopyBatchSteps.Select(step => $"{step.Name} AS (\n{step.Sql}\n), "));
        return $"""
            WITH batch AS (
              SELECT s.* FROM {m.SourceFrom} s {where} ORDER BY s.{m.Key} LIMIT @limit {holdAgainstDeletes}
            ), {steps}copied AS (
              {m.CopyBatchSql}
            )
            SELECT (SELECT b.{m.Key}::text FROM batch b ORDER BY b.{m.Key} DESC LIMIT 1) AS LastKey,
                   (SELECT count(*) FROM batch) AS Scanned,
                   (SELECT count(*) FROM copied) AS Copied
            """;
    }

    /// <summary>The WHERE clause for the source rows past the checkpoint (@after), or all of them at the first batch.</summary>
    private static string PastCheckpoint(DataMigration m, bool first)
    {
        var conditions = new List<string>();
        if (!first)
        {
            conditions.Add($"s.{m.Key} > @after::{m.KeyType}");
        }
        if (m.SourceFilter is not null)
        {
            conditions.Add($"({m.SourceFilter})");
        }
        return conditions.Count > 0 ? "WHERE " + string.Join(" AND ", conditions) : "";
    }

    /// <summary>
    /// Before the first batch into signal_events: a partition for every month from the source's oldest
    /// row to now, or those rows would stall the backfill for want of one. Nothing to do (and no scan
    /// for the oldest) while a MINVALUE partition takes everything older, as on a fresh database; it
    /// matters once retention has dropped that partition.
    /// </summary>
    private async Task EnsureTargetPartitionsAsync(NpgsqlConnection connection, DataMigration m, MigrationOptions settings, CancellationToken ct)
    {
        if (m.Target != EventPartitions.Table || m.SourceTime is null || !await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
                SELECT EXISTS (SELECT FROM partition_bounds(@Target))
                   AND NOT EXISTS (SELECT FROM partition_bounds(@Target) WHERE lower_bound IS NULL)
                """, m, cancellationToken: ct)))
        {
            return;
        }
        var oldest = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            $"SELECT min({m.SourceTime}) FROM {m.SourceFrom} s {(m.SourceFilter is null ? "" : $"WHERE ({m.SourceFilter})")}",
            settings.ArgumentsWith(m, null), cancellationToken: ct));
        if (oldest is { } from)
        {
            var made = await partitions.EnsureCoveringAsync(DateTime.SpecifyKind(from, DateTimeKind.Utc), DateTimeOffset.UtcNow, ct);
            LogPartitionsMade(m.Name, made, m.Target, from);
        }
    }

    private sealed record State(string? LastKey, int BatchSize, DateTime? CompletedAt, long RowsScanned, long RowsCopied, long? RowsTotal);

    private static async Task<State> StartAsync(NpgsqlConnection connection, DataMigration m, MigrationOptions settings, CancellationToken ct)
    {
        var state = await connection.QuerySingleAsync<State>(new CommandDefinition("""
            INSERT INTO backfill_progress AS p (migration, started_at) VALUES (@name, now())
            ON CONFLICT (migration) DO UPDATE SET started_at = coalesce(p.started_at, now())
            RETURNING last_key AS LastKey, batch_size AS BatchSize, completed_at AS CompletedAt,
                      rows_scanned AS RowsScanned, rows_copied AS RowsCopied, rows_total AS RowsTotal
            """, new { name = m.Name }, cancellationToken: ct));
        return state.CompletedAt is null
            ? state with { RowsTotal = await EstimateTotalAsync(connection, m, settings, state.LastKey, state.RowsScanned, ct) }
            : state;
    }

    /// <summary>
    /// The rows scanned so far plus those past the checkpoint now: all the backfill will scan, as far
    /// as is known. Counting only what is left keeps each run's count short as the backfill goes on,
    /// and a recount catches up with the rows ingest adds ahead of the checkpoint meanwhile.
    /// </summary>
    private static async Task<long> EstimateTotalAsync(
        NpgsqlConnection connection, DataMigration m, MigrationOptions settings, string? lastKey, long scanned, CancellationToken ct)
    {
        var left = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT count(*) FROM {m.SourceFrom} s {PastCheckpoint(m, lastKey is null)}", settings.ArgumentsWith(m, new { after = lastKey }), cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE backfill_progress SET rows_total = @total WHERE migration = @name", new { total = scanned + left, name = m.Name }, cancellationToken: ct));
        return scanned + left;
    }

    public static async Task<BackfillProgress> ReadAsync(NpgsqlConnection connection, DataMigration m, CancellationToken ct)
    {
        var row = await connection.QuerySingleOrDefaultAsync<(long Scanned, long Copied, long? Total, int BatchSize, double? Rate, DateTime? CompletedAt, string? LastError, DateTime? LastErrorAt)>(
            new CommandDefinition("""
                SELECT rows_scanned, rows_copied, rows_total, batch_size, rate, completed_at, last_error, last_error_at
                  FROM backfill_progress WHERE migration = @name
                """, new { name = m.Name }, cancellationToken: ct));
        return new BackfillProgress(m.Name, row.Scanned, row.Copied, row.Total, row.BatchSize, row.Rate, row.CompletedAt is not null,
            row.LastError, row.LastErrorAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Backfill {Migration}: {RowsScanned} of {RowsTotal} rows ({Percent:0.0}%), {RowsPerSecond:0} rows/s, ETA {EtaSeconds:0} s; yield {YieldRatio:0.#}× (ingest p99 {IngestP99Milliseconds} ms, {IngestAloneP99Milliseconds} ms without the backfill)")]
    private partial void LogProgress(string migration, long rowsScanned, long? rowsTotal, double? percent, double? rowsPerSecond, double? etaSeconds,
        double yieldRatio, double? ingestP99Milliseconds, double? ingestAloneP99Milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backfill {Migration}: ingest p99 {IngestAloneP99Milliseconds} ms without the backfill; it may reach {IngestLimitP99Milliseconds} ms while the backfill copies")]
    private partial void LogBaseline(string migration, double ingestAloneP99Milliseconds, double ingestLimitP99Milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backfill {Migration}: too few ingest requests to measure their latency without the backfill; yielding {YieldRatio:0.#}× the batch time while others are at work")]
    private partial void LogNoBaseline(string migration, double yieldRatio);

    [LoggerMessage(Level = LogLevel.Error, Message = "Backfill {Migration} stalled: the batch after key {LastKey} fails ({SqlState}: {Error}); error rules firing: {Rules}")]
    private partial void LogStalled(string migration, string? lastKey, string sqlState, string error, string rules);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backfill {Migration} paused: {Reason}")]
    private partial void LogPaused(string migration, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backfill {Migration}: {RowsThisRun} rows this run, {RowsScanned} of {RowsTotal} in all, {RowsPerSecond:0} rows/s, ETA {Eta} ({Outcome})")]
    private partial void LogRun(string migration, long rowsThisRun, long rowsScanned, long? rowsTotal, double? rowsPerSecond, string eta, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backfill {Migration}: made {Count} partition(s) of {Table} for the source's rows from {Oldest:u} on")]
    private partial void LogPartitionsMade(string migration, int count, string table, DateTime oldest);

    [LoggerMessage(Level = LogLevel.Error, Message = "Backfill {Migration}: the batch's error could not be recorded in backfill_progress")]
    private partial void LogErrorNotRecorded(Exception exception, string migration);
}
