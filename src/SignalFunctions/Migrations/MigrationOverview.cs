using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <param name="LastError">The last batch that failed (until one commits again), and when.</param>
public sealed record BackfillSummary(
    long RowsScanned, long RowsCopied, long? RowsTotal, double? Percent, double? RowsPerSecond, double? EtaSeconds, bool Completed,
    string? LastError, DateTime? LastErrorAt);

/// <summary>The latest parity report, with its key lists capped at <see cref="MigrationOverview.KeysShown"/> (the counts are exact).</summary>
/// <param name="RepairError">Why repair could not fix this report's keys, when it tried and failed.</param>
/// <param name="RowsFenced">Rows written after <paramref name="ComparedThrough"/>, left out as in flight.</param>
public sealed record ParitySummary(
    long Id, DateTime FinishedAt, bool Clean, int RangesChecked, long RowsCompared, DateTime? ComparedThrough, long RowsFenced, double DurationSeconds,
    long Missing, long Extra, long Different,
    IReadOnlyList<string> MissingKeys, IReadOnlyList<string> ExtraKeys, IReadOnlyList<string> DifferentKeys,
    IReadOnlyList<RuleResult> Validation, string? RepairError);

public sealed record StageHistoryEntry(string FromStage, string ToStage, int Percent, string Actor, bool Forced, string? Reason, DateTime ChangedAt);

/// <summary>A step back the guard took (issue 4 §5): which limit, measured against what, on how large a sample.</summary>
public sealed record GuardActionEntry(string FromStage, string ToStage, string Rule, string Reason, double Measured, double Threshold, long Sample, DateTime ActedAt);

/// <summary>The guard as it stands for one migration.</summary>
/// <param name="Watching">Whether its next pass judges this migration: it is on, and the stage is dual_write or later.</param>
/// <param name="LastAction">Its latest step back of this migration, if it ever took one.</param>
public sealed record GuardState(bool Enabled, bool Watching, GuardActionEntry? LastAction);

/// <param name="NextStage">The stage after this one; null at the last.</param>
/// <param name="NextStageBlockedBy">
/// Why `stage MIGRATION NEXT` would be refused now, each reason as it prints it; empty when it would pass.
/// </param>
public sealed record MigrationState(
    string Migration, string Stage, int Percent, string PreviousStage, long Version, DateTime UpdatedAt,
    BackfillSummary? Backfill, ParitySummary? Parity, long RepairPending, bool CutOver, IReadOnlyList<StageHistoryEntry> History,
    IReadOnlyList<GuardActionEntry> GuardActions, string? NextStage, IReadOnlyList<string> NextStageBlockedBy, GuardState Guard);

/// <summary>Everything an operator asks about a migration, for `status` and GET /api/migrations alike.</summary>
public static class MigrationOverview
{
    /// <summary>Keys listed per kind in a summary: enough to start looking; `parity MIGRATION` prints the report's full list.</summary>
    public const int KeysShown = 20;

    /// <param name="guardEnabled">Whether the guard runs (Guard:Enabled).</param>
    public static async Task<IReadOnlyList<MigrationState>> ReadAsync(NpgsqlConnection connection, FlagSnapshot flags, bool guardEnabled, CancellationToken ct)
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
            if (MigrationCatalog.Find(name) is { } declared)
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
                next?.Name(), blockedBy, guard));
        }
        return states;
    }
}
