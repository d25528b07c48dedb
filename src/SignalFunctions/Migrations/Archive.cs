using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

public sealed record ArchiveResult(string Migration, string ArchivedAs, long BytesBefore, long BytesAfter);

/// <summary>
/// The seeds' last phase ("archive the old table, don't drop it yet"): the *_backup table the
/// cut-over left is renamed to *_archived and loses its indexes, keeping its rows. Only at complete
/// (100 %), cut over, with a clean latest parity report; afterwards rollback is refused for good.
/// Works for every migration cut over by the view pattern (a *_backup table).
/// </summary>
public sealed class Archive(NpgsqlDataSource dataSource, IStageFlagStore flags)
{
    public async Task<ArchiveResult> RunAsync(DataMigration m, string actor, CancellationToken ct)
    {
        var flag = (await flags.LoadAsync(ct))[m.Name];
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var backup = $"{m.Source}_backup";
        var archived = $"{m.Source}_archived";
        if (await ArchivedAsAsync(connection, null, m.Name, ct) is { } done)
        {
            throw new CutoverRefusedException($"{m.Name} is already cleaned up: the old table is {done}.");
        }
        if (flag.Stage != Stage.Complete || flag.Percent < 100)
        {
            throw new CutoverRefusedException($"{m.Name} is at {flag.Stage.Name()} ({flag.Percent}%): clean up only at complete (100%).");
        }
        if (!await Cutover.IsCutOverAsync(connection, m.Name, ct))
        {
            throw new CutoverRefusedException($"{m.Name} is not cut over: run './run.sh cutover {m.Name}' first, so nothing reads or writes {m.Source} as a table.");
        }
        if (await connection.ExecuteScalarAsync<string?>(new CommandDefinition("SELECT to_regclass(@backup)::text", new { backup }, cancellationToken: ct)) is null)
        {
            throw new CutoverRefusedException($"{m.Name}'s cut-over left no {backup} table to archive.");
        }
        var report = await Parity.LatestAsync(connection, m.Name, ct);
        if (report is null || !report.Clean)
        {
            throw new CutoverRefusedException(report is null
                ? $"{m.Name} has no parity report: run './run.sh parity {m.Name}' first."
                : $"{m.Name}'s latest parity report (#{report.Id}) is not clean: {report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different, " +
                  $"{report.Validation.Count(r => r.Violations > 0 && r.Severity == "error")} error rules firing. Run parity and repair first.");
        }

        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("SET LOCAL lock_timeout = '5s'", transaction: tx, cancellationToken: ct));
        var before = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT pg_total_relation_size(@backup::regclass)", new { backup }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition($"""
            ALTER TABLE {backup} RENAME TO {archived};
            DO $drop$
            DECLARE
              r record;
            BEGIN
              FOR r IN SELECT conname FROM pg_constraint WHERE conrelid = '{archived}'::regclass AND contype IN ('p', 'u', 'x') LOOP
                EXECUTE format('ALTER TABLE {archived} DROP CONSTRAINT %I', r.conname);
              END LOOP;
              FOR r IN SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = '{archived}'::regclass LOOP
                EXECUTE 'DROP INDEX ' || r.name;
              END LOOP;
            END
            $drop$
            """, transaction: tx, cancellationToken: ct));
        var after = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT pg_total_relation_size(@archived::regclass)", new { archived }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO migration_archives (migration, archived_as, bytes_before, bytes_after, actor)
            VALUES (@Name, @archived, @before, @after, @actor)
            """, new { m.Name, archived, before, after, actor }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return new ArchiveResult(m.Name, archived, before, after);
    }

    public static async Task<string?> ArchivedAsAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string migration, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT archived_as FROM migration_archives WHERE migration = @migration", new { migration }, tx, cancellationToken: ct));
}
