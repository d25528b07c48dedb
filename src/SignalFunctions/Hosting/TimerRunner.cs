using System.Diagnostics;

namespace SignalFunctions.Hosting;

/// <summary>
/// Runs one timer function, in either mode: fired by the standalone scheduler or by the Functions
/// host's invocation. Every run logs its outcome; a failed run is logged, never swallowed.
/// </summary>
public sealed partial class TimerRunner(IServiceScopeFactory scopes, ILogger<TimerRunner> logger)
{
    public async Task<(bool Succeeded, IReadOnlyList<string> Logs)> RunAsync(TimerFunction timer, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var outcome = await timer.Run(scope.ServiceProvider, ct);
            foreach (var line in outcome.Logs)
            {
                LogLine(timer.Name, line);
            }
            if (outcome.Failed)
            {
                LogPartlyFailed(timer.Name, watch.ElapsedMilliseconds);
                return (false, outcome.Logs);
            }
            LogSucceeded(timer.Name, watch.ElapsedMilliseconds);
            return (true, outcome.Logs);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogFailed(ex, timer.Name, watch.ElapsedMilliseconds);
            return (false, [$"{timer.Name} failed: {ex.Message}"]);
        }
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
