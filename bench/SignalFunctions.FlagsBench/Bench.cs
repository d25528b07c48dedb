using System.Diagnostics;
using Npgsql;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;

internal static class Bench
{
    public static async Task<(string, string, List<double>, List<double>)> RunAsync(string mode, Args options)
    {
        var database = $"flags_bench_{mode}";
        await using (var admin = new NpgsqlConnection(options.AdminConnectionString))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", admin).ExecuteNonQueryAsync();
            await new NpgsqlCommand($"CREATE DATABASE {database}", admin).ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(options.AdminConnectionString) { Database = database }.ConnectionString;
        await using var store = mode == "embedded" ? null : await ContractServer.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Signal"] = connectionString,
            ["Ingest__RateLimitPerSecond"] = "0", // one client sending as fast as it can
        };
        if (store is not null)
        {
            store.PageSize = 100;
            foreach (var migration in KnownMigrations.Names)
            {
                SetFlag(store, migration, Stage.Off);
            }
            settings["AppConfig__ConnectionString"] = store.ConnectionString;
            // Push: a poll interval far beyond a round, so what arrives came by push.
            settings["Flags__RefreshSeconds"] = mode == "push" ? "300" : $"{options.RefreshSeconds}";
        }
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var a = await App.StartAsync(options, settings);
        await using var b = await App.StartAsync(options, settings);
        var timesA = new List<double>();
        var timesB = new List<double>();
        var stage = Stage.Off;
        // Round 0 warms both instances up (first writes to each table, JIT) and is not counted.
        for (var round = -1; round < options.Rounds; round++)
        {
            stage = stage == Stage.Off ? Stage.Complete : Stage.Off;
            var watch = Stopwatch.StartNew();
            if (store is null)
            {
                await using var command = dataSource.CreateCommand(
                    "UPDATE stage_flags SET stage = $1, version = version + 1, updated_at = now() WHERE migration = 'signal-events'");
                command.Parameters.AddWithValue(stage.Name());
                await command.ExecuteNonQueryAsync();
            }
            else
            {
                var entry = SetFlag(store, KnownMigrations.SignalEvents, stage);
                if (mode == "push")
                {
                    await a.PushAsync(entry.Key, store.Sequence);
                }
            }
            var followed = await Task.WhenAll(a.FirstWriteOnAsync(dataSource, stage, watch), b.FirstWriteOnAsync(dataSource, stage, watch));
            if (round >= 0)
            {
                timesA.Add(followed[0]);
                timesB.Add(followed[1]);
            }
            Console.WriteLine($"{mode} {(round < 0 ? "warm-up" : $"round {round + 1}")}: {stage.Name()} followed by A after {followed[0]:0} ms, by B after {followed[1]:0} ms");
            await Task.Delay(TimeSpan.FromMilliseconds(300 + Random.Shared.Next(700))); // rounds start out of step with the polls
        }
        var target = mode switch
        {
            "embedded" => "<= 1000 ms",
            "polling" => $"<= {options.RefreshSeconds * 1000 + 1000} ms (refresh interval + 1 s)",
            _ => "<= 1000 ms",
        };
        return (mode, target, timesA, timesB);
    }

    private static ContractServer.Entry SetFlag(ContractServer store, string migration, Stage stage) =>
        store.Seed(StageFeatureFlag.Key(migration), null, FeatureFlagKeys.Serialize(StageFeatureFlag.Create(migration, stage, 100)), FeatureFlagKeys.ContentType);
}
