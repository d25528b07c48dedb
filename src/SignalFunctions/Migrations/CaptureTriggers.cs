using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// Tables that outside systems write get a trigger mirroring their inserts, updates and deletes
/// into the new table, from dual_write until complete; outside those stages it is removed. Kept in
/// step whenever a stage changes and on every backfill tick (a flag may change elsewhere).
/// </summary>
public static class CaptureTriggers
{
    public static bool Wanted(Stage stage) => stage is >= Stage.DualWrite and < Stage.Complete;

    public static async Task SyncAsync(NpgsqlConnection connection, DataMigration m, StageFlag flag, CancellationToken ct)
    {
        // With a partial rollout some journeys are already past off: mirror as soon as any are.
        var stage = flag.Percent > 0 ? flag.Stage : flag.Stage.Previous();
        var sql = Wanted(stage) ? m.InstallCaptureSql : m.RemoveCaptureSql;
        if (sql is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: ct));
        }
    }
}
