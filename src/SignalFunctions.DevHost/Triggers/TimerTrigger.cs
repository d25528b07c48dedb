using System.Collections.Concurrent;
using System.Diagnostics;
using NCrontab;
using SignalFunctions.DevHost.Rpc;
using SignalFunctions.DevHost.Worker;

namespace SignalFunctions.DevHost.Triggers;

/// <summary>
/// Timer triggers as the host runs them: 6-field NCRONTAB in UTC, one run of a function at a time,
/// the worker given TimerInfo JSON, each run logged with its outcome as the host logs it.
/// </summary>
public sealed partial class TimerTrigger(FunctionsHost host, ILogger<TimerTrigger> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, ScheduleStatus> _status = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _running = new();

    /// <summary>Parses every timer's schedule, so a wrong one stops start-up with the setting's name.</summary>
    public static IReadOnlyDictionary<string, CrontabSchedule> Schedules(IEnumerable<FunctionInfo> functions) =>
        functions.Where(f => f.Timer is not null).ToDictionary(f => f.Name, f =>
            CrontabSchedule.TryParse(f.Timer!.ResolvedSchedule, new CrontabSchedule.ParseOptions { IncludingSeconds = true })
            ?? throw new DevHostException(
                $"Function '{f.Name}': schedule '{f.Timer.ResolvedSchedule}'{(f.Timer.Schedule != f.Timer.ResolvedSchedule ? $" (from {f.Timer.Schedule})" : "")} is not a 6-field NCRONTAB expression (sec min hour day month weekday), e.g. '0 */5 * * * *'."));

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Schedules(host.Functions).Select(s => RunOnScheduleAsync(host.Find(s.Key)!, s.Value, stoppingToken)));

    private static readonly TimeSpan MaxStep = TimeSpan.FromDays(1);

    private async Task RunOnScheduleAsync(FunctionInfo function, CrontabSchedule schedule, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var next = schedule.GetNextOccurrence(DateTime.UtcNow);
            try
            {
                // Task.Delay takes at most ~49 days; a yearly schedule must not stop the host.
                for (var wait = next - DateTime.UtcNow; wait > TimeSpan.Zero; wait = next - DateTime.UtcNow)
                {
                    await Task.Delay(wait < MaxStep ? wait : MaxStep, ct);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await RunAsync(function, $"Timer fired at {next:O}", schedule.GetNextOccurrence(next), ct);
        }
    }

    /// <summary>One run, never overlapping the function's previous one. Null when one was still running.</summary>
    public async Task<InvocationResponse?> RunAsync(FunctionInfo function, string reason, DateTime? nextRun, CancellationToken ct)
    {
        var gate = _running.GetOrAdd(function.Name, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, ct))
        {
            LogOverlap(function.Name);
            return null;
        }
        try
        {
            return await InvokeAsync(function, reason, nextRun, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<InvocationResponse> InvokeAsync(FunctionInfo function, string reason, DateTime? nextRun, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var invocationId = Guid.NewGuid().ToString();
        _status.TryGetValue(function.Name, out var status);
        var timerInfo = FunctionsHost.Json(new
        {
            Schedule = new { AdjustForDST = true },
            ScheduleStatus = status,
            IsPastDue = status is not null && now - status.Next > TimeSpan.FromSeconds(30),
        });
        var request = FunctionsHost.NewInvocation(function, invocationId);
        request.InputData.Add(new ParameterBinding { Name = function.Timer!.BindingName, Data = timerInfo });
        request.TriggerMetadata[function.Timer.BindingName] = timerInfo;

        LogExecuting(function.Name, reason, invocationId);
        var started = Stopwatch.GetTimestamp();
        InvocationResponse response;
        try
        {
            response = await host.InvokeAsync(request, ct);
        }
        catch (DevHostException ex)
        {
            response = new InvocationResponse { InvocationId = invocationId, Result = new StatusResult { Status = StatusResult.Types.Status.Failure, Result = ex.Message } };
        }
        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        _status[function.Name] = new ScheduleStatus(now, nextRun ?? now, now);
        if (response.Result?.Status == StatusResult.Types.Status.Success)
        {
            LogSucceeded(function.Name, invocationId, elapsedMs);
        }
        else
        {
            LogFailed(function.Name, invocationId, elapsedMs, response.Result?.Exception?.Message ?? response.Result?.Result ?? "");
        }
        return response;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Executing 'Functions.{Function}' (Reason='{Reason}', Id={InvocationId})")]
    private partial void LogExecuting(string function, string reason, string invocationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Executed 'Functions.{Function}' (Succeeded, Id={InvocationId}, Duration={DurationMs}ms)")]
    private partial void LogSucceeded(string function, string invocationId, long durationMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Executed 'Functions.{Function}' (Failed, Id={InvocationId}, Duration={DurationMs}ms): {Reason}")]
    private partial void LogFailed(string function, string invocationId, long durationMs, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Function {Function} is still running its previous run; this one is skipped")]
    private partial void LogOverlap(string function);
}
