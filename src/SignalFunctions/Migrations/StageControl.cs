using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// A stage change, or why it was refused: the gates that failed, or (<see cref="Conflict"/>) a
/// change made by someone else in between, which --force does not override.
/// </summary>
public sealed record StageChangeResult(StageChange? Change, IReadOnlyList<string> FailedGates, bool Forced, string? Conflict = null)
{
    public bool Refused => Change is null;
}

/// <summary>
/// Moves a migration's stage through its gates: past dual_write only once the backfill is
/// complete; past shadow only with a clean parity report begun after the last backfill batch, the
/// declared views refreshed since that batch, and an empty repair queue; never below complete
/// while cut over. --force overrides (except the last) and is recorded. Changes of one migration
/// are serialized, and a change based on a flag that has moved since is refused. Every change
/// lands in stage_history.
/// </summary>
public sealed partial class StageControl(NpgsqlDataSource dataSource, IStageFlagStore store, ILogger<StageControl> logger)
{
    /// <param name="basedOn">
    /// The flag the caller decided on (the guard's reading): refused when the flag is not that one
    /// any more, so a step back can never undo, or overshoot, someone else's change.
    /// </param>
    public async Task<StageChangeResult> ChangeAsync(
        string migration, Stage stage, int percent, string actor, bool force, string? reason, CancellationToken ct,
        StageFlag? basedOn = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Two changes of one migration (two operators, an operator and the guard) queue here, so
        // each judges the gates, and writes, from the flag the one before it left.
        await LockStageAsync(connection, tx, migration, ct);

        // No flag yet (a new App Configuration store): the write creates it, as from off.
        var flag = (await store.LoadAsync(ct)).Flags.GetValueOrDefault(migration);
        var current = flag?.Stage ?? Stage.Off;
        if (basedOn is not null && (flag is null || flag.Version != basedOn.Version || flag.Stage != basedOn.Stage || flag.Percent != basedOn.Percent))
        {
            var now = flag is null ? "gone" : $"{flag.Stage.Name()} ({flag.Percent}%), version {flag.Version}";
            return Conflicted($"{migration} changed since it was read at {basedOn.Stage.Name()} ({basedOn.Percent}%), version {basedOn.Version}: it is {now}; nothing was written");
        }
        if (await CutOverRefusalAsync(connection, migration, stage, ct) is { } cutOver)
        {
            return new StageChangeResult(null, [cutOver], false);
        }

        var failed = await FailedGatesAsync(connection, migration, flag, stage, percent, ct);
        if (failed.Count > 0 && !force)
        {
            return new StageChangeResult(null, failed, false);
        }
        if (failed.Count > 0)
        {
            LogForced(migration, stage.Name(), actor, string.Join("; ", failed));
        }
        var historyId = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO stage_history (migration, from_stage, to_stage, percent, actor, forced, reason)
            VALUES (@migration, @from, @to, @percent, @actor, @forced, @reason)
            RETURNING id
            """, new
        {
            migration, from = current.Name(), to = stage.Name(), percent, actor,
            forced = failed.Count > 0, reason = failed.Count > 0 ? $"{reason} (forced past: {string.Join("; ", failed)})".Trim() : reason,
        }, tx, cancellationToken: ct));
        if (StageRules.Lowest(stage, percent) < Stage.DualWrite)
        {
            // Some writes skip the new table from now on, so what the backfill copied goes stale:
            // it starts over at the next dual_write, and parity after it judges the next advance.
            await Backfill.ResetAsync(connection, migration, ct);
        }

        StageChange change;
        try
        {
            change = await store.SetStageAsync(migration, stage, percent, actor, flag, ct);
        }
        catch (StageFlagConflictException ex)
        {
            return Conflicted(ex.Message);
        }
        if (change.Replaced is { } rejected)
        {
            // The audit trail says the write replaced a flag the app had refused, and why.
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE stage_history SET reason = concat_ws(' ', reason, @note) WHERE id = @historyId",
                new { historyId, note = $"(replaced a flag the app had rejected: {rejected})" }, tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);

        if (MigrationCatalog.Find(migration) is { } declared)
        {
            await SyncCaptureAsync(connection, declared, new StageFlag(migration, stage, percent, change.Version, DateTimeOffset.UtcNow), ct);
        }
        return new StageChangeResult(change, failed, failed.Count > 0);
    }

    private static StageChangeResult Conflicted(string why) => new(null, [], false, why);

    /// <summary>
    /// Serializes what judges a migration's stage and then acts on it (a stage change, the cut-over)
    /// until the transaction ends, so none acts on a stage another is changing.
    /// </summary>
    public static Task LockStageAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string migration, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(hashtext('stage'), hashtext(@migration))", new { migration }, tx, cancellationToken: ct));

    // Outside writers are mirrored from the moment the stage asks for it, before any backfill. A
    // legacy table too busy to take the trigger now gets it from the backfill tick, which keeps
    // triggers in step with the flags; the stage is set either way.
    private async Task SyncCaptureAsync(NpgsqlConnection connection, DataMigration declared, StageFlag flag, CancellationToken ct)
    {
        try
        {
            await CaptureTriggers.SyncAsync(connection, declared, flag, ct);
        }
        catch (CaptureBusyException ex)
        {
            LogCaptureDeferred(declared.Name, ex.Message);
        }
    }

    /// <summary>
    /// Why moving <paramref name="migration"/> from <paramref name="flag"/> to <paramref name="stage"/>
    /// at <paramref name="percent"/> would be refused now, each reason as the stage verb prints it;
    /// empty when it would pass. What the console and `status` show before anyone tries.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RefusalsAsync(
        NpgsqlConnection connection, string migration, StageFlag? flag, Stage stage, int percent, CancellationToken ct) =>
        await CutOverRefusalAsync(connection, migration, stage, ct) is { } cutOver
            ? [cutOver]
            : await FailedGatesAsync(connection, migration, flag, stage, percent, ct);

    /// <summary>Below complete while cut over: never, --force or not.</summary>
    private static async Task<string?> CutOverRefusalAsync(NpgsqlConnection connection, string migration, Stage stage, CancellationToken ct) =>
        // The old table is a read-only view now: writing to it would fail every request.
        stage < Stage.Complete && await Cutover.IsCutOverAsync(connection, migration, ct)
            ? $"{migration} is cut over (its old table is a view); run './run.sh rollback {migration}' first"
            : null;

    /// <summary>The gates (--force overrides them) of a move from <paramref name="flag"/> to <paramref name="stage"/> at <paramref name="percent"/>.</summary>
    private static async Task<List<string>> FailedGatesAsync(
        NpgsqlConnection connection, string migration, StageFlag? flag, Stage stage, int percent, CancellationToken ct)
    {
        // Gates judge the furthest stage any journey reaches, before and after.
        var highest = StageRules.Highest(stage, percent);
        return highest > (flag?.Highest ?? Stage.Off) ? await FailedGatesAsync(connection, migration, highest, ct) : [];
    }

    private static async Task<List<string>> FailedGatesAsync(NpgsqlConnection connection, string migration, Stage stage, CancellationToken ct)
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
            else if (backfill.LastBatchAt is { } lastBatch)
            {
                var last = DateTime.SpecifyKind(lastBatch, DateTimeKind.Utc);
                if (report.StartedAt < last)
                {
                    // A report begun before the batch may have passed its range before the batch wrote it.
                    failed.Add($"the clean parity report began before the last backfill batch (run './run.sh parity {migration}')");
                }
                else if (report.ComparedThrough < last)
                {
                    // Begun just after it: the batch's rows were inside the fence, left out as in flight.
                    failed.Add($"the clean parity report left the last backfill batch out, as written within its fence (Migrations__ParityFenceSeconds); run './run.sh parity {migration}' again");
                }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage of {Migration} set, capture trigger not synced yet: {Error}")]
    private partial void LogCaptureDeferred(string migration, string error);
}
