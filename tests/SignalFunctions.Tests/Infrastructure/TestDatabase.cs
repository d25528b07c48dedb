using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SignalFunctions.Database;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>A fresh database with the schema applied: isolation by construction, one per test class.</summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public string Name { get; } = $"t_{Guid.NewGuid():N}";
    public string ConnectionString { get; private set; } = "";
    private string _admin = "";
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <param name="stopBefore">
    /// Apply only the schema files named before this (e.g. "0018"), so a test can fill the database
    /// as an existing one was filled; <see cref="MigrateAsync"/> applies the rest.
    /// </param>
    public static async Task<TestDatabase> CreateAsync(string? adminConnectionString = null, string? stopBefore = null)
    {
        var database = new TestDatabase();
        await database.InitializeAsync(adminConnectionString, stopBefore);
        return database;
    }

    public Task InitializeAsync() => InitializeAsync(null, null);

    /// <summary>Applies the schema files not applied yet, as the app does at start.</summary>
    public Task MigrateAsync() => Migrator.MigrateAsync(CancellationToken.None);

    private SchemaMigrator Migrator => new(DataSource, NullLogger<SchemaMigrator>.Instance);

    private async Task InitializeAsync(string? adminConnectionString, string? stopBefore)
    {
        var admin = _admin = adminConnectionString ?? await SharedPostgres.AdminConnectionStringAsync();
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync($"CREATE DATABASE \"{Name}\"");
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = Name }.ConnectionString;
        DataSource = DatabaseExtensions.CreateDataSource(ConnectionString);
        await Migrator.MigrateAsync(CancellationToken.None, stopBefore);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        // Leave nothing behind on a SIGNAL_TEST_DB server; a stopped throwaway cluster needs no cleanup.
        try
        {
            await using var connection = new NpgsqlConnection(_admin);
            await connection.OpenAsync();
            await connection.ExecuteAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
        }
        catch (NpgsqlException)
        {
        }
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(sql, args);
    }

    /// <summary>Writes past capture triggers (in one transaction), the way divergence would arise.</summary>
    public Task ExecuteBehindTheTriggersAsync(string sql, object? args = null) => ExecuteAsync($"""
        BEGIN;
        SET LOCAL session_replication_role = replica;
        {sql};
        COMMIT;
        """, args);

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, args)).ToList();
    }

    /// <summary>
    /// Moves every signal_events write, and the backfill's batches, a minute into the past, as if
    /// the backfill had run a while ago: parity leaves rows written within its fence (a few seconds)
    /// out of the comparison, and the gate past shadow wants the last batch compared.
    /// </summary>
    public Task AgeRecordedAsync() => ExecuteAsync("""
        UPDATE signal_events SET recorded_at = recorded_at - interval '1 minute';
        UPDATE backfill_progress
           SET started_at = started_at - interval '1 minute', last_batch_at = last_batch_at - interval '1 minute',
               completed_at = completed_at - interval '1 minute'
         WHERE migration = 'signal-events'
        """);

    /// <summary>Sets a stage the way the stage verb does, through the table whose trigger notifies.</summary>
    public Task SetStageAsync(string migration, string stage, int percent = 100) => ExecuteAsync(
        "UPDATE stage_flags SET stage = @stage, percent = @percent, version = version + 1, updated_at = now() WHERE migration = @migration",
        new { migration, stage, percent });
}
