using Dapper;
using Npgsql;

namespace SignalFunctions.Migrations;

/// <summary>
/// One runner per job and migration across instances and verbs (a session advisory lock): a second
/// run skips instead of colliding. Released on dispose, or by PostgreSQL when the session dies.
/// </summary>
public sealed class JobLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _job;
    private readonly string _migration;

    private JobLock(NpgsqlConnection connection, string job, string migration)
    {
        _connection = connection;
        _job = job;
        _migration = migration;
    }

    public static async Task<JobLock?> TryTakeAsync(NpgsqlConnection connection, string job, string migration, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT pg_try_advisory_lock(hashtext(@job), hashtext(@migration))", new { job, migration }, cancellationToken: ct))
            ? new JobLock(connection, job, migration)
            : null;

    public async ValueTask DisposeAsync()
    {
        if (_connection.State == System.Data.ConnectionState.Open)
        {
            await _connection.ExecuteAsync("SELECT pg_advisory_unlock(hashtext(@job), hashtext(@migration))", new { job = _job, migration = _migration });
        }
    }
}
