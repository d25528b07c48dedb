using Dapper;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Hosting;
using SignalFunctions.Migrations;
using SignalFunctions.Stages;

namespace SignalFunctions.Guard;

/// <summary>
/// The guard, the automatic rollback: per migration at dual_write or later, judges what happened since the
/// last stage change (ingest 5xx share and p99, secondary-write failures, the repair queue, the
/// latest parity report) and, past a limit, steps the stage back one step, through the stage
/// gates' own path (<see cref="StageControl"/>, which writes wherever the flags live through
/// <see cref="IStageFlagStore"/>). It never advances a stage. The new flag version starts a new
/// window, so the next step back needs fresh evidence.
/// </summary>
public sealed partial class StageGuard(
    NpgsqlDataSource dataSource,
    IStageFlagStore store,
    StageControl stages,
    LiveOptions<GuardOptions> options,
    ILogger<StageGuard> logger,
    IngestMeter? meter = null)
{
    public const string Actor = "guard";

    public static async Task<TimerOutcome> RunTimerAsync(IServiceProvider services, CancellationToken ct)
    {
        var guard = services.GetRequiredService<StageGuard>();
        if (!guard.Enabled)
        {
            return new TimerOutcome([DisabledLine]);
        }
        var verdicts = await guard.RunAsync(ct);
        return new TimerOutcome(verdicts.Count > 0 ? verdicts.Select(v => v.Line).ToList() : ["Guard: no migration is at dual_write or later"]);
    }

    public const string DisabledLine = "Guard: disabled (Guard__Enabled=false)";

    /// <summary>The alert for a stage flag the app rejects, in the guard's lines and in /api/health.</summary>
    public static string RejectedFlagAlert(string key, string reason) =>
        $"ALERT: stage flag {key} is rejected ({reason}); every instance keeps its last good stage. "
        + "Write a whole flag over it: ./run.sh stage MIGRATION STAGE replaces it (or the portal's Feature manager, with variants and allocation).";

    public bool Enabled => options.Value.Enabled;

    public async Task<IReadOnlyList<GuardVerdict>> RunAsync(CancellationToken ct)
    {
        if (!Enabled)
        {
            return [];
        }
        if (meter is not null)
        {
            // This instance's latest requests count too, not only those of its last flush.
            await meter.FlushAsync(dataSource, ct);
        }
        var flags = await store.LoadAsync(ct);
        // A flag the app refuses holds every instance on its last good stage, whatever the store says: say so first.
        var verdicts = flags.Rejected.Select(r => new GuardVerdict(r.Key, RejectedFlagAlert(r.Key, r.Value))).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        foreach (var migration in KnownMigrations.Names)
        {
            if (flags.Flags.TryGetValue(migration, out var flag) && flag.Stage >= Stage.DualWrite)
            {
                verdicts.Add(await GuardAsync(connection, migration, ct));
            }
        }
        return verdicts;
    }

    private async Task<GuardVerdict> GuardAsync(NpgsqlConnection connection, string migration, CancellationToken ct)
    {
        await using var jobLock = await JobLock.TryTakeAsync(connection, "guard", migration, ct);
        if (jobLock is null)
        {
            return new GuardVerdict(migration, $"Guard {migration}: skipped, another guard run holds the lock");
        }
        // Read again under the lock: another instance may have stepped it back a moment ago.
        var flag = (await store.LoadAsync(ct))[migration];
        if (flag.Stage < Stage.DualWrite)
        {
            return new GuardVerdict(migration, $"Guard {migration}: off, nothing to step back");
        }
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM guard_windows WHERE migration = @migration AND flag_version <> @version",
            new { migration, version = flag.Version }, cancellationToken: ct));

        var reading = await ReadAsync(connection, flag, ct);
        var at = $"{flag.Stage.Name()} ({flag.Percent}%)";
        if (GuardRules.Check(reading, options.Value) is not { } trip)
        {
            return new GuardVerdict(migration, $"Guard {migration}: {at} within limits: {reading.Describe()}");
        }
        // The flag store may serve a snapshot a moment old: never step the same version back twice.
        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM guard_actions WHERE migration = @migration AND flag_version = @version)",
                new { migration, version = flag.Version }, cancellationToken: ct)))
        {
            return new GuardVerdict(migration, $"Guard {migration}: {at} already stepped back from version {flag.Version}; waiting for the flag to show it", trip);
        }

        var to = flag.Stage.Previous();
        var result = await stages.ChangeAsync(migration, to, 100, Actor, force: false, $"guard: {trip.Reason}", ct, basedOn: flag);
        if (result.Change is not { } change)
        {
            var why = result.Conflict ?? string.Join("; ", result.FailedGates);
            LogRefused(migration, flag.Stage.Name(), to.Name(), trip.Reason, why);
            return new GuardVerdict(migration, $"Guard {migration}: {at} past a limit ({trip.Reason}) but cannot step back: {why}", trip);
        }
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO guard_actions (migration, flag_version, from_stage, to_stage, rule, reason, measured, threshold, sample)
            VALUES (@migration, @version, @from, @to, @Rule, @Reason, @Measured, @Threshold, @Sample)
            ON CONFLICT (migration, flag_version) DO NOTHING
            """, new { migration, version = flag.Version, from = flag.Stage.Name(), to = to.Name(), trip.Rule, trip.Reason, trip.Measured, trip.Threshold, trip.Sample },
            cancellationToken: ct));
        LogSteppedBack(migration, flag.Stage.Name(), to.Name(), trip.Rule, trip.Reason);
        return new GuardVerdict(migration, $"Guard {migration}: stepped back {at} -> {to.Name()}: {trip.Reason}", trip, change);
    }

    private async Task<GuardReading> ReadAsync(NpgsqlConnection connection, StageFlag flag, CancellationToken ct)
    {
        var args = new { migration = flag.Migration, version = flag.Version, since = flag.UpdatedAt };
        var windows = (await connection.QueryAsync<WindowRow>(new CommandDefinition("""
            SELECT requests, server_errors AS ServerErrors, secondary_writes AS SecondaryWrites,
                   secondary_failures AS SecondaryFailures, latency_buckets AS LatencyBuckets
              FROM guard_windows WHERE migration = @migration AND flag_version = @version
            """, args, cancellationToken: ct))).ToList();
        var latency = new long[LatencyBuckets.Count];
        // Only rows with today's fixed edges: an instance of an older build may have counted into others.
        foreach (var w in windows.Where(w => w.LatencyBuckets.Length == latency.Length))
        {
            for (var i = 0; i < Math.Min(latency.Length, w.LatencyBuckets.Length); i++)
            {
                latency[i] += w.LatencyBuckets[i];
            }
        }
        var repairs = await connection.QuerySingleAsync<RepairCounts>(new CommandDefinition("""
            SELECT count(*) FILTER (WHERE resolved_at IS NULL) AS Backlog,
                   count(*) FILTER (WHERE operation = @syncKey) AS CaptureFailures
              FROM repair_entries
             WHERE migration = @migration AND created_at >= @since
            """, new { args.migration, args.since, syncKey = RepairJob.SyncKeyOperation }, cancellationToken: ct));
        // Only a whole-table report begun after the change judges this stage; an older one was judged already.
        var parity = await connection.QuerySingleOrDefaultAsync<ParityRow>(new CommandDefinition("""
            SELECT id, rows_compared AS RowsCompared, missing_count AS Missing, different_count AS Different FROM parity_reports
             WHERE migration = @migration AND started_at >= @since AND scope IS NULL
             ORDER BY id DESC LIMIT 1
            """, args, cancellationToken: ct));
        var p99 = LatencyBuckets.Quantile(latency, 0.99);
        return new GuardReading(
            windows.Sum(w => w.Requests), windows.Sum(w => w.ServerErrors),
            p99.Upper,
            windows.Sum(w => w.SecondaryWrites), windows.Sum(w => w.SecondaryFailures),
            repairs.Backlog, parity?.Id, parity?.RowsCompared ?? 0, parity?.Missing ?? 0)
        {
            P99AboveMilliseconds = p99.Lower,
            ParityDifferent = parity?.Different ?? 0,
            // Capture-trigger mirrors that failed (sync_key entries, resolved or not): failed secondary writes.
            CaptureFailures = repairs.CaptureFailures,
        };
    }

    private sealed record RepairCounts(long Backlog, long CaptureFailures);

    private sealed record ParityRow(long Id, long RowsCompared, long Missing, long Different);

    // Properties rather than a constructor: Dapper matches constructors by field type, and an array column's is System.Array.
    private sealed class WindowRow
    {
        public long Requests { get; init; }
        public long ServerErrors { get; init; }
        public long SecondaryWrites { get; init; }
        public long SecondaryFailures { get; init; }
        public long[] LatencyBuckets { get; init; } = [];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Guard stepped {Migration} back from {From} to {To} ({Rule}): {Reason}")]
    private partial void LogSteppedBack(string migration, string from, string to, string rule, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Guard found {Migration} past a limit ({Reason}) but could not step it back from {From} to {To}: {Refusal}")]
    private partial void LogRefused(string migration, string from, string to, string reason, string refusal);
}
