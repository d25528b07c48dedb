using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

public sealed record StageChangeResult(StageChange? Change, IReadOnlyList<string> FailedGates, bool Forced)
{
    public bool Refused => Change is null;
}

/// <summary>
/// Moves a migration's stage through its gates: past dual_write only once the backfill is
/// complete; past shadow only with a clean parity report newer than the last backfill batch, the
/// declared views refreshed since that batch, and an empty repair queue; never below complete
/// while cut over. --force overrides (except the last) and is recorded. Every change lands in
/// stage_history.
/// </summary>
public sealed partial class StageControl(NpgsqlDataSource dataSource, IStageFlagStore store, ILogger<StageControl> logger)
{
    public async Task<StageChangeResult> ChangeAsync(
        string migration, Stage stage, int percent, string actor, bool force, string? reason, CancellationToken ct)
    {
        // No flag yet (a new App Configuration store): the write creates it, as from off.
        var current = (await store.LoadAsync(ct)).Flags.GetValueOrDefault(migration)?.Stage ?? Stage.Off;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (stage < Stage.Complete && await Cutover.IsCutOverAsync(connection, migration, ct))
        {
            // The old table is a read-only view now: writing to it would fail every request.
            return new StageChangeResult(null, [$"{migration} is cut over (its old table is a view); run './run.sh rollback {migration}' first"], false);
        }

        var failed = stage > current ? await FailedGatesAsync(connection, migration, stage, ct) : [];
        if (failed.Count > 0 && !force)
        {
            return new StageChangeResult(null, failed, false);
        }
        var change = await store.SetStageAsync(migration, stage, percent, actor, ct);
        if (MigrationCatalog.Find(migration) is { } declared)
        {
            // Outside writers are mirrored from the moment the stage asks for it, before any backfill.
            await CaptureTriggers.SyncAsync(connection, declared, new StageFlag(migration, stage, percent, change.Version, DateTimeOffset.UtcNow), ct);
        }
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO stage_history (migration, from_stage, to_stage, percent, actor, forced, reason)
            VALUES (@migration, @from, @to, @percent, @actor, @forced, @reason)
            """, new
        {
            migration, from = current.Name(), to = stage.Name(), percent, actor,
            forced = failed.Count > 0, reason = failed.Count > 0 ? $"{reason} (forced past: {string.Join("; ", failed)})".Trim() : reason,
        }, cancellationToken: ct));
        if (failed.Count > 0)
        {
            LogForced(migration, stage.Name(), actor, string.Join("; ", failed));
        }
        return new StageChangeResult(change, failed, failed.Count > 0);
    }

    public static async Task<List<string>> FailedGatesAsync(NpgsqlConnection connection, string migration, Stage stage, CancellationToken ct)
    {
        var failed = new List<string>();
        if (MigrationCatalog.Find(migration) is null)
        {
            return failed;
        }
        var backfill = await connection.QuerySingleOrDefaultAsync<(DateTime? CompletedAt, DateTime? LastBatchAt)>(new CommandDefinition(
            "SELECT completed_at, last_batch_at FROM backfill_progress WHERE migration = @migration", new { migration }, cancellationToken: ct));
        if (stage > Stage.DualWrite && backfill.CompletedAt is null)
        {
            failed.Add($"the backfill is not complete (run './run.sh backfill {migration} --until-done')");
        }
        if (stage > Stage.Shadow)
        {
            var report = await Parity.LatestAsync(connection, migration, ct);
            var errors = report?.Validation.Where(r => r.Severity == "error" && r.Violations > 0).ToList() ?? [];
            if (errors.Count > 0)
            {
                // Repair cannot fix these: the operator must, so the gate names them.
                failed.Add("the latest parity report has validation errors: " +
                           string.Join(", ", errors.Select(r => $"{r.Name} ({r.Violations}: {r.Description})")));
            }
            if (report is null || !report.Equal)
            {
                failed.Add($"the latest parity report is not clean (run './run.sh parity {migration}', then './run.sh repair {migration}')");
            }
            else if (backfill.LastBatchAt is { } last && report.FinishedAt < DateTime.SpecifyKind(last, DateTimeKind.Utc))
            {
                failed.Add($"the clean parity report is older than the last backfill batch (run './run.sh parity {migration}')");
            }
            if (await Views.DeclaredViews.StaleAsync(connection, MigrationCatalog.Find(migration)!, ct) is { Count: > 0 } stale)
            {
                // From live the new side's views are read: without the backfilled rows they would answer wrong.
                failed.Add($"{string.Join(", ", stale)} not refreshed since the last backfill batch (run './run.sh refresh-views')");
            }
            var pending = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM repair_entries WHERE migration = @migration AND resolved_at IS NULL", new { migration }, cancellationToken: ct));
            if (pending > 0)
            {
                failed.Add($"{pending} repair entries are queued (run './run.sh repair {migration}')");
            }
        }
        return failed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage of {Migration} forced to {Stage} by {Actor} past failed gates: {Gates}")]
    private partial void LogForced(string migration, string stage, string actor, string gates);
}
