using Dapper;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// The seed's view pattern, done safely: cut-over renames the old table to *_backup and puts a view
/// with the old name over the new table, so old readers keep working; rollback first brings the
/// backup up to date from the new table, then undoes the rename exactly. Each runs in one
/// transaction, and neither runs twice. A capture trigger goes with the cut-over (outside writers
/// reach the new table through the view) and comes back with the rollback, in the same transaction,
/// so no outside write falls between the two. The recording of deletes from the new tables
/// (<see cref="CutoverDeletes"/>) comes with the cut-over and goes with the rollback likewise, so
/// the rollback sees every delete since the cut-over.
/// </summary>
public sealed class Cutover(NpgsqlDataSource dataSource, IStageFlagStore flags)
{
    public async Task<string> CutOverAsync(DataMigration m, string actor, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // The stage verb's lock: a stage change under way (say rampdown) finishes before the stage
        // is read here, and none starts until the cut-over is done, and then sees it.
        await StageControl.LockStageAsync(connection, tx, m.Name, ct);
        var flag = (await flags.LoadAsync(ct))[m.Name];
        if (flag.Stage != Stage.Complete || flag.Percent < 100)
        {
            throw new CutoverRefusedException($"{m.Name} is at {flag.Stage.Name()} ({flag.Percent}%): cut over only at complete (100%), when nothing writes the old table any more.");
        }
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO cutovers (migration, actor) VALUES (@Name, @actor) ON CONFLICT DO NOTHING", new { m.Name, actor }, tx, cancellationToken: ct));
        if (inserted == 0)
        {
            throw new CutoverRefusedException($"{m.Name} is already cut over; './run.sh rollback {m.Name}' undoes it.");
        }
        await ExecuteAsync(connection, tx, m.RemoveCaptureSql, ct);
        await ExecuteAsync(connection, tx, m.CutoverSql, ct);
        await ExecuteAsync(connection, tx, CutoverDeletes.InstallSql(m), ct);
        await tx.CommitAsync(ct);
        return $"{m.Name}: {m.CutoverDescription}";
    }

    public async Task<string> RollBackAsync(DataMigration m, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await Archive.ArchivedAsAsync(connection, tx, m.Name, ct) is { } archived)
        {
            throw new CutoverRefusedException($"{m.Name} was cleaned up: the old table is {archived}, without indexes; a rollback is no longer possible.");
        }
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM cutovers WHERE migration = @Name", m, tx, cancellationToken: ct));
        if (deleted == 0)
        {
            throw new CutoverRefusedException($"{m.Name} is not cut over; nothing to roll back.");
        }
        await ExecuteAsync(connection, tx, m.RollbackSql, ct);
        await ExecuteAsync(connection, tx, CutoverDeletes.RemoveSql(m), ct);
        // Cut over only at complete, and never moved below it while cut over: the capture is wanted.
        await ExecuteAsync(connection, tx, m.InstallCaptureSql, ct);
        await tx.CommitAsync(ct);
        return $"{m.Name}: {m.RollbackSummary ?? $"{m.Source} is a table again, brought up to date from {m.Target}."}";
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string? sql, CancellationToken ct)
    {
        if (sql is null)
        {
            return;
        }
        // A rename waits for every query on the table, and every new query queues behind it: give up
        // after a few seconds rather than stall the table's traffic behind a long report.
        await connection.ExecuteAsync(new CommandDefinition("SET LOCAL lock_timeout = '5s'", transaction: tx, cancellationToken: ct));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new CutoverRefusedException(
                "The table stayed busy for 5 s (a long query or transaction holds it); nothing was changed. Try again when it is quieter.");
        }
    }

    public static async Task<bool> IsCutOverAsync(NpgsqlConnection connection, string migration, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM cutovers WHERE migration = @migration)", new { migration }, cancellationToken: ct));
}
