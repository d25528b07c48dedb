using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Hosting;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>The engine's timer functions; each run returns one line per migration for the host's Logs.</summary>
public static class MigrationTimers
{
    /// <summary>Backfills every migration that is at dual_write or later and not complete yet, within one budget.</summary>
    public static async Task<TimerOutcome> BackfillAsync(IServiceProvider services, CancellationToken ct)
    {
        var flags = await services.GetRequiredService<IStageFlagStore>().LoadAsync(ct);
        var budget = TimeSpan.FromSeconds(services.GetRequiredService<IOptions<MigrationOptions>>().Value.BudgetSeconds);
        var deadline = DateTime.UtcNow + budget;
        var logs = new List<string>();
        await using (var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct))
        {
            foreach (var m in MigrationCatalog.All.Where(m => flags.Flags.ContainsKey(m.Name)))
            {
                await CaptureTriggers.SyncAsync(connection, m, flags[m.Name], ct);
            }
        }
        foreach (var m in MigrationCatalog.All)
        {
            // A migration without a flag (none in App Configuration yet) is left alone: no stage is known.
            if (!flags.Flags.TryGetValue(m.Name, out var flag) || flag.Stage == Stage.Complete)
            {
                continue;
            }
            if (flag.Lowest < Stage.DualWrite)
            {
                // Only a table every write reaches can be backfilled for good. A flag moved below
                // dual_write elsewhere (the portal) makes what was copied stale, as the stage verb does.
                await using var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
                if (await Backfill.ResetAsync(connection, m.Name, ct))
                {
                    logs.Add($"Backfill {m.Name}: reset, the stage is below dual_write for some journeys ({flag.Stage.Name()} at {flag.Percent}%); it starts over at dual_write");
                }
                continue;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                logs.Add($"Backfill {m.Name}: no budget left this run");
                continue;
            }
            var run = await services.GetRequiredService<Backfill>().RunAsync(m, left, null, ct);
            logs.Add($"Backfill {m.Name}: {run.Outcome}, {run.RowsThisRun} rows this run, {run.Progress.RowsScanned}/{run.Progress.RowsTotal} in all");
        }
        return new TimerOutcome(logs.Count > 0 ? logs : ["Backfill: no migration is between dual_write and complete"]);
    }

    /// <summary>Checks parity of every migration whose backfill is complete and that is not off.</summary>
    public static async Task<TimerOutcome> ParityAsync(IServiceProvider services, CancellationToken ct)
    {
        var flags = await services.GetRequiredService<IStageFlagStore>().LoadAsync(ct);
        var logs = new List<string>();
        await using var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
        foreach (var m in MigrationCatalog.All)
        {
            if (!flags.Flags.TryGetValue(m.Name, out var flag) || flag.Stage == Stage.Off || !(await Backfill.ReadAsync(connection, m, ct)).Completed)
            {
                continue;
            }
            var report = await services.GetRequiredService<Parity>().RunAsync(m, ct);
            logs.Add(report is null
                ? $"Parity {m.Name}: skipped, another run holds the lock"
                : $"Parity {m.Name}: {report.RowsCompared} rows, {report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different, {(report.Clean ? "clean" : "NOT clean")}");
        }
        return new TimerOutcome(logs.Count > 0 ? logs : ["Parity: no migration has a complete backfill"]);
    }
}
