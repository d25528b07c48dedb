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

    public static async Task SyncAsync(NpgsqlConnection connection, DataMigration m, StageFlag flag, CancellationToken ct)
    {
        if (m.InstallCaptureSql is null && m.RemoveCaptureSql is null)
        {
            return;
        }
        // With a partial rollout some journeys are already past off: mirror as soon as any are.
        var stage = flag.Highest;
        var wanted = Wanted(stage) && !await Cutover.IsCutOverAsync(connection, m.Name, ct);
        var sql = wanted ? m.InstallCaptureSql : m.RemoveCaptureSql;
        if (sql is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: ct));
        }
    }
}
