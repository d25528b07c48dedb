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
            if (!flags.Flags.TryGetValue(m.Name, out var flag) || flag.Stage is < Stage.DualWrite or Stage.Complete)
            {
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
            if (await Cutover.IsCutOverAsync(connection, m.Name, ct))
            {
                // The old names are views over the new tables (or nothing writes the old tables any
                // more): a report would compare the new side with itself, or with an abandoned copy.
                // Cleanup uses the last report from before the cut-over.
                logs.Add($"Parity {m.Name}: skipped, cut over (the old side no longer is a copy of its own to compare)");
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
