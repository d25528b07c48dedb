using Dapper;
using Npgsql;

namespace SignalFunctions.Migrations;

/// <summary>Is the database too busy for another batch? Active backends, lock waits, replica lag.</summary>
public static class Throttle
{
    public static async Task<string?> BusyReasonAsync(NpgsqlConnection connection, MigrationOptions settings, CancellationToken ct)
    {
        var load = await connection.QuerySingleAsync<(long Active, long LockWaits, double ReplicaLag)>(new CommandDefinition("""
            SELECT count(*) FILTER (WHERE state = 'active' AND pid <> pg_backend_pid()),
                   count(*) FILTER (WHERE wait_event_type = 'Lock'),
                   coalesce((SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication), 0)::double precision
              FROM pg_stat_activity
             WHERE datname = current_database()
            """, cancellationToken: ct));
        if (load.Active > settings.MaxActiveBackends)
        {
            return $"{load.Active} active backends (limit {settings.MaxActiveBackends})";
        }
        if (load.LockWaits > settings.MaxLockWaits)
        {
            return $"{load.LockWaits} sessions waiting on locks (limit {settings.MaxLockWaits})";
        }
        return load.ReplicaLag > settings.MaxReplicaLagSeconds
            ? $"replica lag {load.ReplicaLag:0.0} s (limit {settings.MaxReplicaLagSeconds} s)"
            : null;
    }
}
