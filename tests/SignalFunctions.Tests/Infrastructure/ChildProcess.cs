using System.Diagnostics;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Runs a command to its end with its output captured, and kills it (with its children) past a deadline.</summary>
public static class ChildProcess
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} ran over {timeout.TotalSeconds:0} s:\n{await output}{await error}");
        }
        return (process.ExitCode, await output, await error);
    }
}
