using Dapper;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// The seeds' last phase ("archive the old table, don't drop it yet"): every *_backup table the
/// cut-over left (one per legacy table of the migration) is renamed to *_archived and loses its
/// indexes, keeping its rows. Only at complete (100 %), cut over, with a clean parity report from
/// before the cut-over (after it the old name is a view over the new table, and parity would
/// compare the new side with itself); afterwards rollback is refused for good. Works for every
/// migration cut over by the view pattern (*_backup tables).
/// </summary>
public sealed class Archive(NpgsqlDataSource dataSource, IStageFlagStore flags)
{
    public async Task<ArchiveResult> RunAsync(DataMigration m, string actor, CancellationToken ct)
    {
        var flag = (await flags.LoadAsync(ct))[m.Name];
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (await ArchivedAsAsync(connection, null, m.Name, ct) is { } done)
        {
            throw new CutoverRefusedException($"{m.Name} is already cleaned up: the old tables are {done}.");
        }
        if (flag.Stage != Stage.Complete || flag.Percent < 100)
        {
            throw new CutoverRefusedException($"{m.Name} is at {flag.Stage.Name()} ({flag.Percent}%): clean up only at complete (100%).");
        }
        var cutOverAt = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT cut_over_at FROM cutovers WHERE migration = @Name", m, cancellationToken: ct));
        if (cutOverAt is null)
        {
            throw new CutoverRefusedException($"{m.Name} is not cut over: run './run.sh cutover {m.Name}' first, so nothing reads or writes {m.Source} as a table.");
        }
        var legacy = m.TablesOf(Side.Legacy);
        var backups = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT b FROM unnest(@candidates) WITH ORDINALITY AS c(b, n) WHERE to_regclass(b) IS NOT NULL ORDER BY n",
            new { candidates = legacy.Select(t => $"{t}_backup").ToArray() }, cancellationToken: ct))).ToList();
        if (backups.Count == 0)
        {
            throw new CutoverRefusedException($"{m.Name}'s cut-over left no backup table ({string.Join(", ", legacy.Select(t => $"{t}_backup"))}) to archive.");
        }
        var report = await Parity.LatestAsync(connection, m.Name, cutOverAt, ct);
        if (report is null || !report.Clean)
        {
            throw new CutoverRefusedException(report is null
                ? $"{m.Name} has no parity report from before its cut-over ({cutOverAt:u}): roll back, run './run.sh parity {m.Name}', and cut over again."
                : $"{m.Name}'s last parity report before the cut-over (#{report.Id}) is not clean: {report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different, " +
                  $"{report.Validation.Count(r => r.Violations > 0 && r.Severity == "error")} error rules firing. Roll back, run parity and repair, and cut over again.");
        }

        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("SET LOCAL lock_timeout = '5s'", transaction: tx, cancellationToken: ct));
        long before = 0, after = 0;
        var archivedNames = new List<string>();
        foreach (var backup in backups)
        {
            var archived = backup[..^"_backup".Length] + "_archived";
            before += await connection.ExecuteScalarAsync<long>(new CommandDefinition(
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
            after += await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT pg_total_relation_size(@archived::regclass)", new { archived }, tx, cancellationToken: ct));
            archivedNames.Add(archived);
        }
        // With no rollback left, nothing needs the deletes recorded for it, nor TRUNCATE refused.
        await connection.ExecuteAsync(new CommandDefinition(CutoverDeletes.RemoveSql(m), transaction: tx, cancellationToken: ct));
        var archivedAs = string.Join(", ", archivedNames);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO migration_archives (migration, archived_as, bytes_before, bytes_after, actor)
            VALUES (@Name, @archivedAs, @before, @after, @actor)
            """, new { m.Name, archivedAs, before, after, actor }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return new ArchiveResult(m.Name, backups, archivedAs, before, after);
    }

    public static async Task<string?> ArchivedAsAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string migration, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT archived_as FROM migration_archives WHERE migration = @migration", new { migration }, tx, cancellationToken: ct));
}
