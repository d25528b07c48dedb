using NCrontab;

namespace SignalFunctions.Hosting;

/// <summary>
/// Standalone mode's stand-in for the Functions host's timer triggers: the same NCRONTAB
/// schedules (6 fields, UTC), one loop per timer, a run never overlapping the previous one.
/// </summary>
public sealed partial class StandaloneScheduler(
    TimerRunner runner, IConfiguration configuration, TimeProvider clock, ILogger<StandaloneScheduler> logger) : BackgroundService
{
    public static CrontabSchedule Schedule(TimerFunction timer, IConfiguration configuration)
    {
        var expression = configuration[timer.ScheduleSetting] ?? timer.DefaultSchedule;
        return CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true })
            ?? throw new InvalidOperationException(
                $"Setting {timer.ScheduleSetting} = '{expression}' is not a 6-field NCRONTAB expression (sec min hour day month weekday), e.g. '0 */5 * * * *'.");
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Functions.Timers.Select(timer => RunOnScheduleAsync(timer, Schedule(timer, configuration), stoppingToken)));

    private static readonly TimeSpan MaxStep = TimeSpan.FromDays(1);

    private async Task RunOnScheduleAsync(TimerFunction timer, CrontabSchedule schedule, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var next = schedule.GetNextOccurrence(now);
            LogNext(timer.Name, next);
            try
            {
                // Task.Delay refuses more than about 49 days, and a schedule can be further off (yearly,
                // or 29 February): wait in steps of at most a day, so such a setting cannot stop the app.
                for (var wait = next - now; wait > TimeSpan.Zero; wait = next - clock.GetUtcNow().UtcDateTime)
                {
                    await Task.Delay(wait < MaxStep ? wait : MaxStep, clock, ct);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await runner.RunAsync(timer, ct);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Timer {Timer} next runs at {Next:O}")]
    private partial void LogNext(string timer, DateTime next);
}
