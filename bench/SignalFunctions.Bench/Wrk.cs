using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace SignalFunctions.Bench;

/// <summary>Runs wrk with bench/ingest.lua: one thread (cheapest on two cores), a fixed window, then a drain.</summary>
public static class Wrk
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static int _tag;

    /// <summary>
    /// Sends for <paramref name="seconds"/>, then waits for every answer; the script stops wrk as soon
    /// as none is outstanding. wrk's own -d is only a backstop. Without <paramref name="occurredAt"/> the
    /// events carry no occurred_at (the app's first-seen path).
    /// </summary>
    public static async Task<WrkResult> RunAsync(
        string script, string url, int connections, int eventsPerRequest, int seconds, bool occurredAt = true, Action<int>? started = null)
    {
        var tag = Interlocked.Increment(ref _tag);
        var resultFile = Path.Combine(Path.GetTempPath(), $"signal-bench-wrk-{Environment.ProcessId}-{tag}.json");
        File.Delete(resultFile);
        var start = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     "-t1", $"-c{connections}", $"-d{seconds + 60}s", "--timeout", "30s", "-s", script, url, "--",
                     eventsPerRequest.ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture),
                     tag.ToString(CultureInfo.InvariantCulture), resultFile, occurredAt ? "send" : "omit",
                 })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start");
        started?.Invoke(process.Id);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (!File.Exists(resultFile))
        {
            throw new InvalidOperationException($"wrk wrote no result (exit {process.ExitCode}):\n{await stdout}\n{await stderr}");
        }
        var result = JsonSerializer.Deserialize<WrkResult>(await File.ReadAllTextAsync(resultFile), Json)!;
        File.Delete(resultFile);
        if (result.Sent != result.Answered)
        {
            throw new InvalidOperationException(
                $"wrk stopped with {result.Sent - result.Answered} requests unanswered; the row count cannot be checked.\n{await stdout}");
        }
        return result;
    }
}
