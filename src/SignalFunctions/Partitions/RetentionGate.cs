using Dapper;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Migrations;
using SignalFunctions.Stages;

namespace SignalFunctions.Partitions;

/// <summary>
/// Holds retention back while a declared migration still needs a table's rows: from the moment it
/// leaves off until it is cleaned up. Its backfill, parity and repair read the table, and a rollback
/// copies back from it; DETACH and DROP fire no DELETE trigger, so the cut-over's record of deleted
/// rows would never learn the rows went. There is no override.
/// </summary>
public static class RetentionGate
{
    /// <summary>Why the partitions of table must stay, one sentence per migration holding them; null when none does.</summary>
    public static async Task<string?> ReasonAsync(NpgsqlConnection connection, FlagSnapshot flags, string table, CancellationToken ct)
    {
        var reasons = new List<string>();
        foreach (var m in MigrationCatalog.All.Where(m => Uses(m, table)))
        {
            // No flag: no stage is known, and the engine leaves such a migration alone.
            if (!flags.Flags.TryGetValue(m.Name, out var flag) || flag.Stage == Stage.Off
                || await Archive.ArchivedAsAsync(connection, null, m.Name, ct) is not null)
            {
                continue;
            }
            var other = m.TablesOf(Side.Legacy).Contains(table) ? m.Target : m.Source;
            var cutOver = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT FROM cutovers WHERE migration = @Name)", m, cancellationToken: ct));
            var wayOut = cutOver
                ? $"once {m.Name} is cleaned up ('./run.sh cleanup {m.Name}'; it is cut over, so it cannot be set off)"
                : $"once {m.Name} is cleaned up ('./run.sh cleanup {m.Name}') or set off ('./run.sh stage {m.Name} off')";
            reasons.Add(
                $"migration {m.Name} is at {flag.Stage.Name()}{(flag.Percent < 100 ? $" ({flag.Percent}%)" : "")}: its backfill, parity and repair " +
                $"still read {table} (retired rows would show as missing against {other}), and a rollback copies back from it, " +
                $"while DETACH and DROP fire no DELETE trigger for the cut-over to record. Retention resumes {wayOut}.");
        }
        return reasons.Count == 0 ? null : string.Join(" And ", reasons);
    }

    private static bool Uses(DataMigration m, string table) =>
        m.Source == table || m.Target == table || m.TablesOf(Side.Legacy).Contains(table) || m.TablesOf(Side.New).Contains(table);
}
