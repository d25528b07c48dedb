using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace SignalFunctions.Bench;

/// <summary>
/// The app as ./run.sh serves it: the dev host starts the worker from its build output and forwards
/// every request to it. Stopped with SIGTERM, as ./run.sh stops it.
/// </summary>
public sealed class ServedApp(Process devHost, string url, string pidFile) : IAsyncDisposable
{
    // The dev host gives the worker 120 s to load its functions before it gives up.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    public string Url { get; } = url;

    public string EventsUrl => $"{Url}/api/signal/events";

    /// <summary>The worker (our code) and the dev host in front of it.</summary>
    public BenchRun.Served Processes { get; private set; } = new(0, null);

    public static async Task<ServedApp> StartAsync(
        BenchSettings s, string connectionString, HttpClient http, IReadOnlyDictionary<string, string>? settings = null)
    {
        var url = $"http://127.0.0.1:{s.AppPort}";
        var env = new Dictionary<string, string>(s.AppEnvironment)
        {
            ["ConnectionStrings__Signal"] = connectionString,
            // One client address sends everything here; the per-IP limit would answer 429.
            ["Ingest__RateLimitPerSecond"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }
        var log = Path.Combine(s.WorkDir, "app.log");
        var devHost = BenchProcess.Start("dotnet", DevHostArguments(s, url), log, env);
        // bench/run.sh stops it by this file if the bench itself is killed.
        var pidFile = Path.Combine(s.WorkDir, "devhost.pid");
        await File.WriteAllTextAsync(pidFile, devHost.Id.ToString(CultureInfo.InvariantCulture));
        var app = new ServedApp(devHost, url, pidFile);
        try
        {
            // The dev host opens its port only once the worker has loaded its functions.
            await BenchProcess.WaitUntilAsync(async () => (await http.GetAsync($"{url}/api/health")).IsSuccessStatusCode, "the app", devHost, log, StartTimeout);
            var status = await http.GetFromJsonAsync<JsonElement>($"{url}/admin/host/status");
            app.Processes = new BenchRun.Served(status.GetProperty("workerProcessId").GetInt32(), devHost.Id);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return app;
    }

    /// <summary>Resident memory now, and the peak since start (VmHWM, start-up included), beside the largest sampled.</summary>
    public BenchRun.Memory Memory(long workerSampled, long hostSampled) => new(
        Math.Max(workerSampled, ProcFs.MemoryBytes(Processes.Worker, "VmHWM")), ProcFs.MemoryBytes(Processes.Worker),
        Math.Max(hostSampled, ProcFs.MemoryBytes(devHost.Id, "VmHWM")), ProcFs.MemoryBytes(devHost.Id));

    public async ValueTask DisposeAsync()
    {
        await BenchProcess.StopDevHostAsync(devHost);
        devHost.Dispose();
        File.Delete(pidFile);
    }

    /// <summary>./run.sh's command line for the dev host: the worker's output folder as script root, the settings file, the address.</summary>
    private static List<string> DevHostArguments(BenchSettings s, string url)
    {
        var args = new List<string> { s.DevHostDll, "--script-root", Path.GetDirectoryName(Path.GetFullPath(s.AppDll))! };
        if (s.SettingsFile is { } settings)
        {
            args.AddRange(["--settings", settings]);
        }
        args.AddRange(["--urls", url]);
        return args;
    }
}
