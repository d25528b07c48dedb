using Dapper;
using Npgsql;

namespace SignalFunctions.Migrations;

public static class Throttle
{
    public static async Task<DatabaseLoad> ReadAsync(NpgsqlConnection connection, MigrationOptions settings, CancellationToken ct)
    {
        // At work: running a statement now, or finished one within the last second (a group-commit
        // writer between transactions, a busy pool).
        var load = await connection.QuerySingleAsync<(long Active, long LockWaits, double ReplicaLag, long AtWork)>(new CommandDefinition("""
            SELECT count(*) FILTER (WHERE state = 'active' AND pid <> pg_backend_pid()),
                   count(*) FILTER (WHERE wait_event_type = 'Lock'),
                   coalesce((SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication), 0)::double precision,
                   count(*) FILTER (WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
                                      AND (state = 'active' OR state_change > clock_timestamp() - interval '1 second'))
              FROM pg_stat_activity
             WHERE datname = current_database()
            """, cancellationToken: ct));
        var busy = load.Active > settings.MaxActiveBackends
            ? $"{load.Active} active backends (limit {settings.MaxActiveBackends})"
            : load.LockWaits > settings.MaxLockWaits
                ? $"{load.LockWaits} sessions waiting on locks (limit {settings.MaxLockWaits})"
                : load.ReplicaLag > settings.MaxReplicaLagSeconds
                    ? $"replica lag {load.ReplicaLag:0.0} s (limit {settings.MaxReplicaLagSeconds} s)"
                    : null;
        return new DatabaseLoad(busy, load.AtWork);
    }
}
