using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Ingest;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// Replays the repair entries of failed secondary writes, then fixes the keys the latest parity
/// report found missing, extra or different, copying from the side the current stage trusts.
/// Each entry is applied under its own savepoint: one that fails again stays queued with its
/// error and attempt count, the rest go on. Idempotent: replaying what already landed changes nothing.
/// </summary>
public sealed partial class RepairJob(
    NpgsqlDataSource dataSource, IStageFlagStore flags, IOptions<ClickOptions> clickOptions, IOptions<MigrationOptions> options,
    ILogger<RepairJob> logger)
{
    private const int BatchSize = 500;

    /// <summary>
    /// A repair entry that names only a key: make that key on its target side equal to the other
    /// side, through the declaration's own upsert or delete. What a capture trigger queues when its
    /// copy fails, so the outside writer's statement never fails because of the new table.
    /// </summary>
    public const string SyncKeyOperation = "sync_key";

    public async Task<RepairResult> RunAsync(string migration, TimeSpan budget, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var jobLock = await JobLock.TryTakeAsync(connection, "repair", migration, ct);
        if (jobLock is null)
        {
            return new RepairResult(migration, 0, 0, 0, Skipped: true);
        }

        var deadline = DateTime.UtcNow + budget;
        int repaired = 0, failed = 0;
        long afterId = 0;
        while (DateTime.UtcNow < deadline)
        {
            var (batchRepaired, batchFailed, lastId) = await RepairBatchAsync(connection, migration, afterId, ct);
            if (lastId is null)
            {
                break;
            }
            repaired += batchRepaired;
            failed += batchFailed;
            afterId = lastId.Value;
        }
        var remaining = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*) FROM repair_entries WHERE migration = @migration AND resolved_at IS NULL",
            new { migration }, cancellationToken: ct));
        var (keysFixed, keysError) = MigrationCatalog.Find(migration) is { } declared
            ? await FixParityKeysAsync(connection, declared, ct)
            : (0, null);
        LogRun(migration, repaired, failed, remaining);
        return new RepairResult(migration, repaired, failed, remaining, Skipped: false, keysFixed, keysError);
    }

    /// <summary>
    /// Makes the keys of the latest unclean parity report (whole, or of one partition) equal on both sides, from the side the
    /// stage trusts. During a partial rollout that is the stage most journeys are on (the previous
    /// one): divergence inside a rollout comes from failed secondary writes, which the entries cover.
    /// A fix that fails is rolled back and its error kept on the report, which stays unrepaired for
    /// the next run; the entries replayed before it stand.
    /// </summary>
    private async Task<(int Fixed, string? Error)> FixParityKeysAsync(NpgsqlConnection connection, DataMigration m, CancellationToken ct)
    {
        var report = await Parity.LatestOfAnyScopeAsync(connection, m.Name, ct);
        if (report is null || report.Equal || await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT repaired_at IS NOT NULL FROM parity_reports WHERE id = @Id", report, cancellationToken: ct)))
        {
            return (0, null);
        }
        try
        {
            return (await FixKeysAsync(connection, m, report, ct), null);
        }
        catch (Exception ex) when (ex is PostgresException or KeyNotFoundException)
        {
            var error = Backfill.ErrorText(ex);
            LogParityFixFailed(ex, m.Name, report.Id);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE parity_reports SET repair_error = @error, repair_error_at = now() WHERE id = @id",
                new { error, id = report.Id }, cancellationToken: ct));
            return (0, error);
        }
    }

    private async Task<int> FixKeysAsync(NpgsqlConnection connection, DataMigration m, ParityReport report, CancellationToken ct)
    {
        if (!(await flags.LoadAsync(ct)).Flags.TryGetValue(m.Name, out var flag))
        {
            throw new KeyNotFoundException($"{m.Name} has no stage flag, so no side is trusted");
        }
        var trusted = TrustedSide(m, flag.Lowest);
        await using var tx = await connection.BeginTransactionAsync(ct);
        async Task RunAsync(string sql, IReadOnlyList<string> keys)
        {
            if (keys.Count > 0)
            {
                await connection.ExecuteAsync(new CommandDefinition(sql, options.Value.ArgumentsWith(m, new { keys = keys.ToArray() }), tx, cancellationToken: ct));
            }
        }
        if (trusted == Side.Legacy)
        {
            await RunAsync(m.UpsertTargetSql, [.. report.MissingKeys, .. report.DifferentKeys]);
            await RunAsync(m.DeleteTargetSql, report.ExtraKeys);
        }
        else
        {
            await RunAsync(m.UpsertSourceSql, [.. report.ExtraKeys, .. report.DifferentKeys]);
            await RunAsync(m.DeleteSourceSql, report.MissingKeys);
        }
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE parity_reports SET repaired_at = now(), repair_error = NULL, repair_error_at = NULL WHERE id = @Id", report, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        var fixedKeys = report.MissingKeys.Count + report.ExtraKeys.Count + report.DifferentKeys.Count;
        LogParityFixed(m.Name, fixedKeys, trusted.Name());
        return fixedKeys;
    }

    /// <summary>
    /// The side parity keys are copied from. Tables with a capture trigger are written by outside
    /// systems, which keep writing the old table whatever the stage says until the cut-over: the new
    /// table is only the trigger's copy, and copying it back would undo their writes.
    /// </summary>
    private static Side TrustedSide(DataMigration m, Stage stage) =>
        m.InstallCaptureSql is not null ? Side.Legacy : stage.WritePlan().Authoritative;

    [LoggerMessage(Level = LogLevel.Error, Message = "Repair {Migration}: the keys of parity report {ReportId} could not be fixed; the report stays unrepaired")]
    private partial void LogParityFixFailed(Exception exception, string migration, long reportId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Repair {Migration}: fixed {Keys} parity keys from the {Side} side")]
    private partial void LogParityFixed(string migration, int keys, string side);

    private async Task<(int Repaired, int Failed, long? LastId)> RepairBatchAsync(NpgsqlConnection connection, string migration, long afterId, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        var entries = (await connection.QueryAsync<Entry>(new CommandDefinition("""
            SELECT id, target_side AS TargetSide, entity_key AS EntityKey, operation, payload::text AS Payload
              FROM repair_entries
             WHERE migration = @migration AND resolved_at IS NULL AND id > @afterId
             ORDER BY id
             LIMIT @batch
               FOR UPDATE SKIP LOCKED
            """, new { migration, afterId, batch = BatchSize }, tx, cancellationToken: ct))).ToList();
        if (entries.Count == 0)
        {
            return (0, 0, null);
        }
        int repaired = 0, failed = 0;
        foreach (var entry in entries)
        {
            await tx.SaveAsync("entry", ct);
            try
            {
                await ApplyAsync(connection, tx, migration, entry, ct);
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE repair_entries SET resolved_at = now(), attempts = attempts + 1, last_attempt_at = now() WHERE id = @Id",
                    entry, tx, cancellationToken: ct));
                await tx.ReleaseAsync("entry", ct);
                repaired++;
            }
            catch (PostgresException ex)
            {
                await tx.RollbackAsync("entry", ct);
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE repair_entries SET attempts = attempts + 1, last_attempt_at = now(), error = @error WHERE id = @id",
                    new { id = entry.Id, error = $"{ex.SqlState}: {ex.MessageText}" }, tx, cancellationToken: ct));
                failed++;
            }
        }
        await tx.CommitAsync(ct);
        return (repaired, failed, entries[^1].Id);
    }

    private async Task ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string migration, Entry entry, CancellationToken ct)
    {
        var side = entry.TargetSide == "legacy" ? Side.Legacy : Side.New;
        if (entry.Operation == "insert_event")
        {
            await connection.ExecuteAsync(new CommandDefinition(
                side == Side.New ? ReplayNewEventSql : ReplayLegacyEventSql, new { payload = entry.Payload }, tx, cancellationToken: ct));
            return;
        }
        if (entry.Operation == SyncKeyOperation && MigrationCatalog.Find(migration) is { } declared)
        {
            await SyncKeyAsync(connection, tx, declared, side, entry.EntityKey, ct);
            return;
        }
        await ClickWriter.ApplyAsync(connection, tx, entry.EntityKey, side, entry.Operation, entry.Payload, clickOptions.Value.MaxEventsPerClick, ct);
    }

    private async Task SyncKeyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, DataMigration m, Side side, string key, CancellationToken ct)
    {
        var (table, alias, filter) = side == Side.New ? (m.SourceFrom, "s", m.SourceFilter) : (m.TargetFrom, "t", m.TargetFilter);
        var settings = options.Value;
        var present = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT EXISTS (SELECT 1 FROM {table} {alias} WHERE {alias}.{m.Key} = @key::{m.KeyType}{(filter is null ? "" : $" AND ({filter})")})",
            settings.ArgumentsWith(m, new { key }), tx, cancellationToken: ct));
        var sql = (side, present) switch
        {
            (Side.New, true) => m.UpsertTargetSql,
            (Side.New, false) => m.DeleteTargetSql,
            (_, true) => m.UpsertSourceSql,
            _ => m.DeleteSourceSql,
        };
        await connection.ExecuteAsync(new CommandDefinition(sql, settings.ArgumentsWith(m, new { keys = new[] { key } }), tx, cancellationToken: ct));
    }

    private const string ReplayNewEventSql = """
        INSERT INTO signal_events (id, signal_id, content_id, content_type, user_id, session_id, target_type,
                                   target_id, event_type, source_component, metadata, created_at)
        SELECT id, signal_id, content_id, content_type, user_id, session_id, target_type,
               target_id, event_type, source_component, metadata, created_at
          FROM jsonb_populate_record(null::signal_events, @payload::jsonb)
        ON CONFLICT DO NOTHING
        """;

    private const string ReplayLegacyEventSql = """
        INSERT INTO blog_attribution_events (id, blog_article_id, user_id, session_id, target_type, target_id,
                                             event_type, source_component, metadata, created_at)
        SELECT id, content_id, user_id, session_id, target_type, target_id, event_type, source_component,
               metadata || jsonb_build_object('signal_id', signal_id), created_at
          FROM jsonb_populate_record(null::signal_events, @payload::jsonb)
        ON CONFLICT (id) DO NOTHING
        """;

    private sealed record Entry(long Id, string TargetSide, string EntityKey, string Operation, string Payload);

    [LoggerMessage(Level = LogLevel.Information, Message = "Repair {Migration}: {Repaired} repaired, {Failed} failed, {Remaining} remaining")]
    private partial void LogRun(string migration, int repaired, int failed, int remaining);
}
