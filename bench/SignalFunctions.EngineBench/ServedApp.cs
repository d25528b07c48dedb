using System.Diagnostics;
using System.Globalization;

namespace SignalFunctions.EngineBench;

/// <summary>The dev host serving the app; its worker is its child, stopped with it.</summary>
internal sealed class ServedApp(Process process, Uri baseAddress, string pidFile) : IAsyncDisposable
{
    private readonly ProcessOutput _output = ProcessOutput.Of(process);

    public Uri BaseAddress { get; } = baseAddress;

    public string Output => _output.ToString();

    public async Task WaitUntilHealthyAsync(CancellationToken ct)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        // The dev host opens its port only once the worker has loaded its functions, which it allows 120 s.
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the app exited with {process.ExitCode} at start-up:\n{Output}");
            }
            try
            {
                using var response = await client.GetAsync(new Uri("api/health", UriKind.Relative), ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(200, ct);
        }
        throw new TimeoutException($"the app did not answer /api/health within 120 s:\n{Output}");
    }

    /// <summary>
    /// SIGTERM to the dev host, as ./run.sh stops it: it stops taking requests, the worker drains what
    /// it accepted (the host allows 30 s), both exit; both are killed if they have not within 45 s.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(45));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        process.Dispose();
        File.Delete(pidFile);
    }
}
