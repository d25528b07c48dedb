using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Npgsql;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Infrastructure;

// bench/flags.sh runs this: for each mode (embedded store, App Configuration polling, App
// Configuration with the Event Grid push), two app processes on one database; each round writes
// the signal-events flag (off <-> complete) and times, on each instance, the first ingest write
// that follows the new stage (the event lands only in the table that stage writes).
if (args.Contains("--eval"))
{
    await EvalBench.RunAsync();
    return;
}
var options = Args.Parse(args);
var results = new List<(string Mode, string Target, List<double> A, List<double> B)>();
foreach (var mode in new[] { "embedded", "polling", "push" })
{
    results.Add(await Bench.RunAsync(mode, options));
}
Console.WriteLine();
Console.WriteLine($"{options.Rounds} rounds per mode, two instances, Flags__RefreshSeconds={options.RefreshSeconds} (polling); {Environment.ProcessorCount} cores");
Console.WriteLine($"{"mode",-10}{"instance",-10}{"median ms",12}{"max ms",10}   target");
foreach (var (mode, target, a, b) in results)
{
    foreach (var (name, times) in new[] { ("A", a), ("B", b) })
    {
        times.Sort();
        Console.WriteLine($"{mode,-10}{name,-10}{times[times.Count / 2],12:0}{times[^1],10:0}   {target}");
    }
}

/// <summary>
/// --pg CONNSTRING; --app DLL, the worker as built, whose folder the dev host serves; --devhost DLL,
/// SignalFunctions.DevHost.dll; --settings FILE, the dev host's app settings (flags.sh passes
/// local.settings.sample.json, as ./run.sh does); --rounds N (10); --refresh S (5).
/// </summary>
internal sealed record Args(string AdminConnectionString, string AppDll, string DevHostDll, string? SettingsFile, int Rounds, int RefreshSeconds)
{
    public static Args Parse(string[] args)
    {
        string? Optional(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        string Value(string name, string? fallback = null) => Optional(name) ?? fallback ?? throw new ArgumentException($"{name} is required");
        return new Args(Value("--pg"), Value("--app"), Value("--devhost"), Optional("--settings"),
            int.Parse(Value("--rounds", "10"), CultureInfo.InvariantCulture), int.Parse(Value("--refresh", "5"), CultureInfo.InvariantCulture));
    }
}

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

/// <summary>One instance, served as ./run.sh serves the app: the dev host, which starts the worker and forwards HTTP to it.</summary>
internal sealed class App : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _client;

    private App(Process process, int port)
    {
        _process = process;
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    public static async Task<App> StartAsync(Args options, IReadOnlyDictionary<string, string> settings)
    {
        var port = Repo.FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(options.DevHostDll);
        start.ArgumentList.Add("--script-root");
        start.ArgumentList.Add(Path.GetDirectoryName(Path.GetFullPath(options.AppDll))!);
        if (options.SettingsFile is { } settingsFile)
        {
            start.ArgumentList.Add("--settings");
            start.ArgumentList.Add(settingsFile);
        }
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        // The dev host passes its environment on to the worker, over the settings file.
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new App(process, port);
        // The dev host opens its port only once the worker has loaded its functions, which it allows 120 s.
        for (var i = 0; i < 1200 && !process.HasExited; i++)
        {
            try
            {
                using var health = await app._client.GetAsync("/api/health");
                if (health.IsSuccessStatusCode)
                {
                    return app;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        var exited = process.HasExited ? $"exited with code {process.ExitCode}" : "did not become healthy within 120 s";
        await app.DisposeAsync();
        throw new TimeoutException($"the app (dev host and worker) {exited}");
    }

    /// <summary>The Event Grid delivery App Configuration sends, to this one instance.</summary>
    public async Task PushAsync(string key, long sequence)
    {
        var token = $"{ContractServer.TokenId}={Convert.ToBase64String(Encoding.ASCII.GetBytes(sequence.ToString(CultureInfo.InvariantCulture)))};sn={sequence}";
        var json = $$"""[{"id":"{{Guid.NewGuid()}}","topic":"/bench","subject":"","eventType":"Microsoft.AppConfiguration.KeyValueModified","eventTime":"{{DateTimeOffset.UtcNow:O}}","data":{"key":"{{key}}","label":null,"etag":"e","syncToken":"{{token}}"},"dataVersion":"1","metadataVersion":"1"}]""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/flags/changed") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("aeg-event-type", "Notification");
        using var response = await _client.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Posts events until one lands only in the table <paramref name="stage"/> writes; ms since the flag write.</summary>
    public async Task<double> FirstWriteOnAsync(NpgsqlDataSource dataSource, Stage stage, Stopwatch sinceWrite)
    {
        var wanted = stage.WritePlan().Authoritative == Side.New ? (false, true) : (true, false);
        while (sinceWrite.Elapsed < TimeSpan.FromMinutes(2))
        {
            var id = Guid.NewGuid();
            using var response = await _client.PostAsJsonAsync("/api/signal/events", new Dictionary<string, object>
            {
                ["id"] = id, ["signal_id"] = Guid.NewGuid(), ["content_id"] = Guid.NewGuid(), ["content_type"] = "article",
                ["target_type"] = "tutor", ["target_id"] = Guid.NewGuid(), ["event_type"] = "impression", ["source_component"] = "tutor_embed",
            });
            response.EnsureSuccessStatusCode();
            var elapsed = sinceWrite.Elapsed.TotalMilliseconds;
            await using var command = dataSource.CreateCommand("""
                SELECT EXISTS (SELECT 1 FROM blog_attribution_events WHERE id = $1), EXISTS (SELECT 1 FROM signal_events WHERE id = $1)
                """);
            command.Parameters.AddWithValue(id);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            if ((reader.GetBoolean(0), reader.GetBoolean(1)) == wanted)
            {
                return elapsed;
            }
        }
        throw new TimeoutException($"no write followed {stage.Name()} within 2 minutes");
    }

    /// <summary>
    /// SIGTERM to the dev host, as ./run.sh stops it: it stops taking requests, the worker drains,
    /// both exit; both are killed if they have not within 45 s (the host allows the worker 30 s).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                await term.WaitForExitAsync();
            }
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(45));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }
}
