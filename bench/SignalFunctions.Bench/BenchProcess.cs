using System.Diagnostics;
using System.Globalization;

namespace SignalFunctions.Bench;

/// <summary>Starting, waiting for and stopping the processes a benchmark serves: the app (dev host and worker) and the bare endpoint.</summary>
public static class BenchProcess
{
    public static Process Start(string file, IEnumerable<string> args, string log, IDictionary<string, string> env)
    {
        // exec under bash only to send the output to a file: the pid is the process itself.
        var start = new ProcessStartInfo("bash") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec \"$0\" \"$@\" > '{log}' 2>&1");
        start.ArgumentList.Add(file);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }
        return Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
    }

    public static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// SIGTERM, as ./run.sh stops it: the dev host stops taking requests, the worker drains what it
    /// accepted, both exit. The host gives the worker 30 s; past 45 s both are killed.
    /// </summary>
    public static async Task StopDevHostAsync(Process devHost)
    {
        if (devHost.HasExited)
        {
            return;
        }
        using (var term = Process.Start("kill", ["-TERM", devHost.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        try
        {
            await devHost.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            devHost.Kill(entireProcessTree: true);
            await devHost.WaitForExitAsync();
        }
    }

    /// <summary>Polls until the condition holds; fails at once, with the end of its log, if the process it waits for exits.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, Process? process = null, string? log = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            if (process is { HasExited: true })
            {
                var output = log is not null && File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(40)) : "";
                throw new InvalidOperationException($"{what} exited with code {process.ExitCode} before it was ready:\n{output}");
            }
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Waited {limit.TotalSeconds:0} s for {what}.");
    }
}
