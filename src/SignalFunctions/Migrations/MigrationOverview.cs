using Dapper;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Partitions;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>Everything an operator asks about a migration, for `status` and GET /api/migrations alike.</summary>
public static class MigrationOverview
{
    /// <summary>Keys listed per kind in a summary: enough to start looking; `parity MIGRATION` prints the report's full list.</summary>
    public const int KeysShown = 20;

    /// <param name="guardEnabled">Whether the guard runs (Guard:Enabled).</param>
    /// <param name="partitions">Shown with every migration that has its table among its own.</param>
    public static async Task<IReadOnlyList<MigrationState>> ReadAsync(
        NpgsqlConnection connection, FlagSnapshot flags, bool guardEnabled, PartitionsSummary? partitions, CancellationToken ct)
    {
        var pending = (await connection.QueryAsync<(string Migration, long Count)>(new CommandDefinition(
                "SELECT migration, count(*) FROM repair_entries WHERE resolved_at IS NULL GROUP BY migration", cancellationToken: ct)))
            .ToDictionary(r => r.Migration, r => r.Count);
        var cutOver = (await connection.QueryAsync<string>(new CommandDefinition("SELECT migration FROM cutovers", cancellationToken: ct))).ToHashSet();
        var states = new List<MigrationState>();
        foreach (var name in KnownMigrations.Names)
        {
            if (!flags.Flags.TryGetValue(name, out var flag))
            {
                continue;
            }
            BackfillSummary? backfill = null;
            ParitySummary? parity = null;
            var declared = MigrationCatalog.Find(name);
            if (declared is not null)
            {
                var progress = await Backfill.ReadAsync(connection, declared, ct);
                backfill = new BackfillSummary(progress.RowsScanned, progress.RowsCopied, progress.RowsTotal, progress.Percent,
                    progress.RowsPerSecond, progress.Eta?.TotalSeconds, progress.Completed, progress.LastError, progress.LastErrorAt);
                if (await Parity.LatestAsync(connection, name, ct) is { } report)
                {
                    parity = new ParitySummary(report.Id, report.FinishedAt, report.Clean, report.RangesChecked, report.RowsCompared,
                        report.ComparedThrough, report.RowsFenced, Math.Round(report.DurationSeconds, 3), report.MissingCount, report.ExtraCount, report.DifferentCount,
                        [.. report.MissingKeys.Take(KeysShown)], [.. report.ExtraKeys.Take(KeysShown)], [.. report.DifferentKeys.Take(KeysShown)],
                        report.Validation, report.RepairError);
                }
            }
            var history = (await connection.QueryAsync<StageHistoryEntry>(new CommandDefinition("""
                SELECT from_stage AS FromStage, to_stage AS ToStage, percent, actor, forced, reason, changed_at AS ChangedAt
                  FROM stage_history WHERE migration = @name ORDER BY id DESC LIMIT 5
                """, new { name }, cancellationToken: ct))).ToList();
            var guardActions = (await connection.QueryAsync<GuardActionEntry>(new CommandDefinition("""
                SELECT from_stage AS FromStage, to_stage AS ToStage, rule, reason, measured, threshold, sample, acted_at AS ActedAt
                  FROM guard_actions WHERE migration = @name ORDER BY id DESC LIMIT 5
                """, new { name }, cancellationToken: ct))).ToList();
            var next = flag.Stage.Next();
            var blockedBy = next is { } stage ? await StageControl.RefusalsAsync(connection, name, flag, stage, 100, ct) : [];
            var guard = new GuardState(guardEnabled, guardEnabled && flag.Stage >= Stage.DualWrite, guardActions.FirstOrDefault());
            states.Add(new MigrationState(name, flag.Stage.Name(), flag.Percent, flag.Stage.Previous().Name(), flag.Version,
                flag.UpdatedAt.UtcDateTime, backfill, parity, pending.GetValueOrDefault(name), cutOver.Contains(name), history, guardActions,
                next?.Name(), blockedBy, guard,
                partitions is not null && declared is not null && declared.TablesOf(Side.New).Concat(declared.TablesOf(Side.Legacy)).Contains(partitions.Table) ? partitions : null));
        }
        return states;
    }
}
