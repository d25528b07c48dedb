using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// The real app in its own processes, as ./run.sh runs it: the development host (the Functions
/// host's side of the contract, on real Kestrel over loopback) and the worker it starts. Output of
/// both is kept for assertions and for failure messages.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    public int Port { get; }
    public Uri BaseAddress { get; }
    public HttpClient Client { get; }

    private AppProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    /// <summary>
    /// Starts the app as ./run.sh does: the development host with the worker's build output and the
    /// sample settings, serving on a free port, and waits until /api/health answers. The settings go
    /// into the environment, which wins over the sample's values.
    /// </summary>
    public static async Task<AppProcess> StartAsync(string connectionString, IDictionary<string, string>? settings = null)
    {
        var port = Repo.FreePort();
        var start = DevHostStart(Repo.AppOutput, port);
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return await StartAsync(start, port, "/api/health");
    }

    /// <summary>The development host serving the worker in scriptRoot on 127.0.0.1:port, with ./run.sh's settings file.</summary>
    public static ProcessStartInfo DevHostStart(string scriptRoot, int port)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Repo.Root };
        start.ArgumentList.Add(Repo.DevHostDll);
        start.ArgumentList.Add("--script-root");
        start.ArgumentList.Add(scriptRoot);
        start.ArgumentList.Add("--settings");
        start.ArgumentList.Add(Path.Combine(Repo.Root, "local.settings.sample.json"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment.Remove("ASPNETCORE_URLS");
        return start;
    }

    /// <summary>Starts any command line that serves on 127.0.0.1:{port} and waits until readyPath answers.</summary>
    public static async Task<AppProcess> StartAsync(ProcessStartInfo start, int port, string readyPath)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start)!;
        var app = new AppProcess(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) app._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) app._output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await app.WaitUntilAnsweringAsync(readyPath);
        return app;
    }

    private async Task WaitUntilAnsweringAsync(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with {_process.ExitCode} during start-up:\n{Output}");
            }
            try
            {
                using var response = await Client.GetAsync(path);
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"The app did not answer {path} within 60 s:\n{Output}");
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, string json, string contentType = "application/json") =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, contentType));

    /// <summary>The full health report (GET /api/health/details; /api/health only says up or down).</summary>
    public async Task<System.Text.Json.JsonElement> HealthAsync() =>
        await Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/health/details");

    /// <summary>SIGKILL of the host and its worker: no shutdown code runs, as when a machine dies.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            // SIGTERM first: the host stops taking requests and the worker drains its queue, as on a scale-in.
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }
}
