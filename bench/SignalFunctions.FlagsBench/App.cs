using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Npgsql;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Infrastructure;

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
