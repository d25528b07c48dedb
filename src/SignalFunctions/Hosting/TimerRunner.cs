using System.Diagnostics;

namespace SignalFunctions.Hosting;

/// <summary>
/// Runs one timer function as the Functions host invokes it. Every run logs its lines and outcome;
/// a failed run is logged and then thrown, never swallowed.
/// </summary>
public sealed partial class TimerRunner(IServiceScopeFactory scopes, ILogger<TimerRunner> logger)
{
    public async Task RunAsync(string timer, Func<IServiceProvider, CancellationToken, Task<TimerOutcome>> run, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        TimerOutcome outcome;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            outcome = await run(scope.ServiceProvider, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogFailed(ex, timer, watch.ElapsedMilliseconds);
            throw new TimerRunFailedException(timer, [ex.Message], ex);
        }
        foreach (var line in outcome.Logs)
        {
            LogLine(timer, line);
        }
        if (outcome.Failed)
        {
            LogPartlyFailed(timer, watch.ElapsedMilliseconds);
            throw new TimerRunFailedException(timer, outcome.Logs);
        }
        LogSucceeded(timer, watch.ElapsedMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Timer}: {Line}")]
    private partial void LogLine(string timer, string line);

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer {Timer} finished in {ElapsedMs} ms")]
    private partial void LogSucceeded(string timer, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer {Timer} finished in {ElapsedMs} ms, with failures (see its lines)")]
    private partial void LogPartlyFailed(string timer, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer {Timer} failed after {ElapsedMs} ms")]
    private partial void LogFailed(Exception exception, string timer, long elapsedMs);
}
