using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// Tables that outside systems write get a trigger mirroring their inserts, updates and deletes
/// into the new table, from dual_write until the cut-over; otherwise it is removed. Kept in step
/// whenever a stage changes and on every backfill tick (a flag may change elsewhere); the cut-over
/// and its rollback remove and reinstall it in their own transaction.
/// </summary>
public static class CaptureTriggers
{
    // Complete included: the app stops writing the old table there, but outside writers do not know
    // stages and keep writing it until the cut-over turns its name into a view over the new table.
    // Without the copy their rows would be missing from the new table, and repair would then delete
    // them from the old one.
    public static bool Wanted(Stage stage) => stage >= Stage.DualWrite;

    /// <summary>
    /// How long the trigger DDL waits for the legacy table's lock. CREATE/DROP TRIGGER queue behind a
    /// long transaction on the table, and every outside writer then queues behind them: give up
    /// instead, and let the next tick try again.
    /// </summary>
    public const int LockTimeoutSeconds = 5;

    /// <summary>
    /// Installs or removes the capture as the stage asks. In its own transaction with the lock
    /// timeout, unless the caller passes one (which then sets its own timeout).
    /// </summary>
    /// <exception cref="CaptureBusyException">The table's lock was not granted within the timeout.</exception>
    public static async Task SyncAsync(NpgsqlConnection connection, DataMigration m, StageFlag flag, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        if (m.InstallCaptureSql is null && m.RemoveCaptureSql is null)
        {
            return;
        }
        // With a partial rollout some journeys are already past off: mirror as soon as any are.
        var stage = flag.Highest;
        var wanted = Wanted(stage) && !await Cutover.IsCutOverAsync(connection, m.Name, ct);
        var sql = wanted ? m.InstallCaptureSql : m.RemoveCaptureSql;
        if (sql is null)
        {
            return;
        }
        try
        {
            if (tx is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct));
                return;
            }
            await using var own = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition($"SET LOCAL lock_timeout = '{LockTimeoutSeconds}s'", transaction: own, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: own, cancellationToken: ct));
            await own.CommitAsync(ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new CaptureBusyException(
                $"{m.Name}: capture trigger on {m.Source} not {(wanted ? "installed" : "removed")}: its lock was not granted within " +
                $"{LockTimeoutSeconds} s (a long transaction on the table?); the next Backfill tick retries", ex);
        }
    }
}
