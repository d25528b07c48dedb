using Dapper;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// A clean redo of a migration's backfill (the plan's "truncate and re-run", made safe): empties
/// what the backfill and the capture put on the new side, and forgets the checkpoint and the parity
/// history, in one transaction. Only while nothing reads the new side (up to shadow), only for a
/// declaration that says what its new side is, and never beside a running backfill or parity.
/// </summary>
public sealed class MigrationReset(NpgsqlDataSource dataSource, IStageFlagStore flags)
{
    public async Task<string> ResetAsync(DataMigration m, CancellationToken ct)
    {
        if (m.ResetSql is null)
        {
            throw new ResetRefusedException($"{m.Name} does not declare what its new side is (no reset statement); nothing was changed.");
        }
        var flag = (await flags.LoadAsync(ct))[m.Name];
        if (flag.Stage > Stage.Shadow)
        {
            throw new ResetRefusedException(
                $"{m.Name} is at {flag.Stage.Name()}: the new side is read from live on, so it cannot be emptied. Move it back to shadow first.");
        }
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var backfillLock = await JobLock.TryTakeAsync(connection, "backfill", m.Name, ct);
        await using var parityLock = backfillLock is null ? null : await JobLock.TryTakeAsync(connection, "parity", m.Name, ct);
        if (parityLock is null)
        {
            throw new ResetRefusedException($"a backfill or parity run of {m.Name} is in progress; try again when it ends.");
        }
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("SET LOCAL lock_timeout = '5s'", transaction: tx, cancellationToken: ct));
        // Without the capture while emptying: a sync that writes the legacy side (a derived column)
        // would fire it and copy right back. Its lock holds the outside writers until the commit,
        // so none of their writes slips past it.
        if (m.RemoveCaptureSql is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(m.RemoveCaptureSql, transaction: tx, cancellationToken: ct));
        }
        await connection.ExecuteAsync(new CommandDefinition(m.ResetSql, transaction: tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM backfill_progress WHERE migration = @Name;
            DELETE FROM parity_reports WHERE migration = @Name;
            """, m, tx, cancellationToken: ct));
        await CaptureTriggers.SyncAsync(connection, m, flag, ct, tx);
        await tx.CommitAsync(ct);
        return $"{m.Name}: new side emptied ({string.Join(", ", m.TablesOf(Side.New))}), backfill checkpoint and parity history cleared; " +
               $"run './run.sh backfill {m.Name} --until-done' to copy again.";
    }
}
