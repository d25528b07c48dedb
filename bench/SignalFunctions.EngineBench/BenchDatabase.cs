using System.Diagnostics;
using Npgsql;

namespace SignalFunctions.EngineBench;

/// <summary>The benchmark's own database on the throwaway cluster: a connection per statement, no timeouts but the run's.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    public const string Name = "enginebench";

    private BenchDatabase(string connectionString)
    {
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static async Task<BenchDatabase> CreateAsync(string serverConnectionString, CancellationToken ct)
    {
        var server = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres" };
        await using (var admin = NpgsqlDataSource.Create(server.ConnectionString))
        {
            await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS {Name}");
            await drop.ExecuteNonQueryAsync(ct);
            await using var create = admin.CreateCommand($"CREATE DATABASE {Name}");
            await create.ExecuteNonQueryAsync(ct);
        }
        var builder = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = Name, CommandTimeout = 0 };
        return new BenchDatabase(builder.ConnectionString);
    }

    public async Task<int> ExecuteAsync(string sql, CancellationToken ct, params object?[] args)
    {
        await using var command = Command(sql, args);
        return await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<TimeSpan> TimeAsync(string sql, CancellationToken ct, params object?[] args)
    {
        var watch = Stopwatch.StartNew();
        await ExecuteAsync(sql, ct, args);
        return watch.Elapsed;
    }

    public async Task<T> ScalarAsync<T>(string sql, CancellationToken ct, params object?[] args)
    {
        await using var command = Command(sql, args);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<List<T>> ColumnAsync<T>(string sql, CancellationToken ct, params object?[] args)
    {
        await using var command = Command(sql, args);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var values = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            values.Add(reader.GetFieldValue<T>(0));
        }
        return values;
    }

    public async Task<string> SettingAsync(string name, CancellationToken ct) =>
        await ScalarAsync<string>("SELECT current_setting($1)", ct, name);

    /// <summary>Written dirty pages of one step must not land on the next step's clock.</summary>
    public Task CheckpointAsync(CancellationToken ct) => ExecuteAsync("CHECKPOINT", ct);

    private NpgsqlCommand Command(string sql, object?[] args)
    {
        var command = DataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg ?? DBNull.Value });
        }
        return command;
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
