using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Hosting;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// The engine's timer functions; each run returns one line per migration for the host's Logs. Each
/// migration runs in its own try: one that fails gets a line naming it and its error, the others
/// still run, and the invocation then fails so the host records it.
/// </summary>
public static partial class MigrationTimers
{
    /// <summary>Backfills every migration that is at dual_write or later and not complete yet, within one budget.</summary>
    public static async Task<TimerOutcome> BackfillAsync(IServiceProvider services, CancellationToken ct)
    {
        var flags = await services.GetRequiredService<IStageFlagStore>().LoadAsync(ct);
        var deadline = DeadlineOf(services);
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var run = new EachMigration("Backfill", services, ct);
        // A migration without a flag (none in App Configuration yet) is left alone: no stage is known.
        var synced = new List<(DataMigration Migration, StageFlag Flag)>();
        foreach (var m in MigrationCatalog.All.Where(m => flags.Flags.ContainsKey(m.Name)))
        {
            await run.RunAsync(m.Name, async () =>
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                try
                {
                    await CaptureTriggers.SyncAsync(connection, m, flags[m.Name], ct);
                }
                catch (CaptureBusyException ex)
                {
                    // Not copied this tick: outside writes would slip past a missing capture.
                    return $"Backfill {ex.Message}";
                }
                synced.Add((m, flags[m.Name]));
                return null;
            });
        }
        var backfill = services.GetRequiredService<Backfill>();
        foreach (var (m, flag) in synced.Where(s => s.Flag.Stage != Stage.Complete))
        {
            await run.RunAsync(m.Name, async () =>
            {
                if (flag.Lowest < Stage.DualWrite)
                {
                    // Only a table every write reaches can be backfilled for good. A flag moved below
                    // dual_write elsewhere (the portal) makes what was copied stale, as the stage verb does.
                    await using var connection = await dataSource.OpenConnectionAsync(ct);
                    return await Backfill.ResetAsync(connection, m.Name, ct)
                        ? $"Backfill {m.Name}: reset, the stage is below dual_write for some journeys ({flag.Stage.Name()} at {flag.Percent}%); it starts over at dual_write"
                        : null;
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return $"Backfill {m.Name}: no budget left this run";
                }
                var result = await backfill.RunAsync(m, left, null, ct);
                if (result.Stalled)
                {
                    // Every tick stalls at the same batch until someone fixes the rows: a failure.
                    run.Fail(m.Name, SummaryLine(result));
                    return null;
                }
                return SummaryLine(result);
            });
        }
        return run.Outcome("Backfill: no migration is between dual_write and complete");
    }

    public static string SummaryLine(BackfillRun run)
    {
        var p = run.Progress;
        var line = $"Backfill {p.Migration}: {run.Outcome}, {run.RowsThisRun} rows this run, {p.RowsScanned}/{p.RowsTotal} in all, " +
                   $"{p.RowsPerSecond ?? 0:0} rows/s, ETA {(p.Completed ? "done" : EtaText.Of(p.Eta))}";
        return p.LastError is null ? line : $"{line}; last error {p.LastErrorAt:yyyy-MM-dd HH:mm:ss}Z: {p.LastError}";
    }

    /// <summary>Checks parity of every migration whose backfill is complete and that is not off.</summary>
    public static async Task<TimerOutcome> ParityAsync(IServiceProvider services, CancellationToken ct)
    {
        var flags = await services.GetRequiredService<IStageFlagStore>().LoadAsync(ct);
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var parity = services.GetRequiredService<Parity>();
        var run = new EachMigration("Parity", services, ct);
        foreach (var m in MigrationCatalog.All.Where(m => flags.Flags.TryGetValue(m.Name, out var flag) && flag.Stage != Stage.Off))
        {
            await run.RunAsync(m.Name, async () =>
            {
                await using (var connection = await dataSource.OpenConnectionAsync(ct))
                {
                    if (!(await Backfill.ReadAsync(connection, m, ct)).Completed)
                    {
                        return null;
                    }
                }
                ParityReport? report;
                try
                {
                    report = await parity.RunAsync(m, ct);
                }
                catch (ParityNotApplicableException)
                {
                    // Not a failure: cleanup uses the last report from before the cut-over.
                    return $"Parity {m.Name}: skipped, cut over (the old side no longer is a copy of its own to compare)";
                }
                return report is null
                    ? $"Parity {m.Name}: skipped, another run holds the lock"
                    : $"Parity {m.Name}: {report.RowsCompared} rows, {report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different, {(report.Clean ? "clean" : "NOT clean")}";
            });
        }
        return run.Outcome("Parity: no migration has a complete backfill");
    }

    /// <summary>
    /// Replays every migration's repair queue and fixes its parity keys, all within one budget: the
    /// run as a whole must end inside the Consumption plan's timeout, not each migration.
    /// </summary>
    public static async Task<TimerOutcome> RepairAsync(IServiceProvider services, CancellationToken ct)
    {
        var deadline = DeadlineOf(services);
        var job = services.GetRequiredService<RepairJob>();
        var run = new EachMigration("Repair", services, ct);
        foreach (var migration in KnownMigrations.Names)
        {
            await run.RunAsync(migration, async () =>
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return $"Repair {migration}: no budget left this run";
                }
                var result = await job.RunAsync(migration, left, ct);
                if (result.Skipped)
                {
                    return $"Repair {migration}: skipped, another run holds the lock";
                }
                var line = $"Repair {migration}: {result.Repaired} repaired, {result.Failed} failed, {result.Remaining} remaining, {result.KeysFixed} parity keys fixed";
                if (result.KeysError is { } error)
                {
                    run.Fail(migration, $"{line}; parity keys not fixed: {error}");
                    return null;
                }
                return line;
            });
        }
        return run.Outcome("Repair: no migration");
    }

    private static DateTime DeadlineOf(IServiceProvider services) =>
        DateTime.UtcNow + TimeSpan.FromSeconds(services.GetRequiredService<IOptions<MigrationOptions>>().Value.BudgetSeconds);

    /// <summary>One timer run over the migrations, each in its own try; a failure is a line and fails the run at the end.</summary>
    private sealed class EachMigration(string job, IServiceProvider services, CancellationToken ct)
    {
        private readonly List<string> _logs = [];
        private readonly ILogger _logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MigrationTimers));
        private readonly HashSet<string> _ran = [];
        private readonly List<string> _failed = [];

        /// <summary>Runs one migration's work; its line (if any) goes to Logs, and an exception becomes a failure line.</summary>
        public async Task RunAsync(string migration, Func<Task<string?>> work)
        {
            _ran.Add(migration);
            try
            {
                if (await work() is { } line)
                {
                    _logs.Add(line);
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                LogMigrationFailed(_logger, ex, job, migration);
                Fail(migration, $"{job} {migration} failed: {Backfill.ErrorText(ex)}");
            }
        }

        public void Fail(string migration, string line)
        {
            _logs.Add(line);
            _failed.Add(migration);
        }

        /// <summary>The lines, closed by one naming the failed migrations when any failed.</summary>
        public TimerOutcome Outcome(string whenNothingRan)
        {
            if (_failed.Count > 0)
            {
                _logs.Add($"{job} failed for {_failed.Distinct().Count()} of {_ran.Count} migrations: {string.Join(", ", _failed.Distinct())}");
            }
            return new TimerOutcome(_logs.Count > 0 ? _logs : [whenNothingRan], _failed.Count > 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Job} {Migration} failed; the other migrations go on")]
    private static partial void LogMigrationFailed(ILogger logger, Exception exception, string job, string migration);
}
