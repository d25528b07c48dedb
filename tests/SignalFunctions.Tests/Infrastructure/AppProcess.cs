using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// The real app in its own process, on real Kestrel over loopback: what a browser or the
/// Functions host talks to. Output is kept for assertions and for failure messages.
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

    /// <summary>Starts the app standalone on a free port and waits until /api/health answers.</summary>
    public static async Task<AppProcess> StartAsync(string connectionString, IDictionary<string, string>? settings = null, bool hosted = false)
    {
        var port = Repo.FreePort();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(Repo.AppDll)! };
        start.ArgumentList.Add(Repo.AppDll);
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        start.Environment.Remove("ASPNETCORE_URLS");
        if (hosted)
        {
            start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add($"http://127.0.0.1:{port}");
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return await StartAsync(start, port, hosted ? "/" : "/api/health");
    }

    /// <summary>
    /// Starts the app from any command line that serves on 127.0.0.1:{port} (the packaged
    /// executable, for the hosting contract tests) and waits until readyPath answers.
    /// </summary>
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

    public async Task<System.Text.Json.JsonElement> HealthAsync() =>
        await Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/health");

    /// <summary>SIGKILL: no shutdown code runs, as when a host dies.</summary>
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
            // SIGTERM first so the app drains its queue, as it would under the Functions host.
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
