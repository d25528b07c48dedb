using Microsoft.Extensions.Configuration;
using SignalFunctions.Cli;
using SignalFunctions.Hosting;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>
/// Issue 3 §7: a timer's schedule is overridable by a setting. Hosted, function.json reads it as
/// %Setting% (the Functions host resolves it); standalone, the scheduler reads the same setting.
/// </summary>
public sealed class TimerScheduleOverrideTests
{
    private const string EverySecond = "* * * * * *";

    public static TheoryData<string> Timers() => [.. Functions.Timers.Select(t => t.Name)];

    private static TimerFunction Timer(string name) => Functions.Timers.Single(t => t.Name == name);

    [Theory]
    [MemberData(nameof(Timers))]
    public void The_generated_function_json_reads_the_schedule_setting_and_the_scheduler_follows_the_same_setting(string name)
    {
        var timer = Timer(name);
        Assert.Equal($"%{name}Schedule%", FunctionsJsonVerb.Render(timer)["bindings"]![0]!["schedule"]!.GetValue<string>());

        var from = new DateTime(2026, 3, 1, 10, 0, 30, DateTimeKind.Utc);
        var overridden = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"{name}Schedule"] = "17 42 3 * * *" }).Build();
        var byDefault = new ConfigurationBuilder().Build();

        Assert.Equal(new DateTime(2026, 3, 2, 3, 42, 17), StandaloneScheduler.Schedule(timer, overridden).GetNextOccurrence(from));
        Assert.NotEqual(new DateTime(2026, 3, 2, 3, 42, 17), StandaloneScheduler.Schedule(timer, byDefault).GetNextOccurrence(from));
        // Another timer's setting is not this one's.
        var other = Functions.Timers.First(t => t.Name != name);
        Assert.Equal(StandaloneScheduler.Schedule(other, byDefault).GetNextOccurrence(from), StandaloneScheduler.Schedule(other, overridden).GetNextOccurrence(from));
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task The_running_app_fires_a_timer_on_the_schedule_its_setting_gives()
    {
        await using var db = await TestDatabase.CreateAsync();
        // A replay that keeps failing: every Repair run adds one attempt, so attempts count the runs.
        var (entry, _) = await RepairEntries.QueueNewSideEventAsync(db);
        await RepairEntries.BlockInsertsAsync(db, "signal_events", "blocked while the timer is counted");
        var settings = Functions.Timers.ToDictionary(t => t.ScheduleSetting, _ => FaultKit.NeverSchedule);
        settings["RepairSchedule"] = EverySecond;

        await using var app = await AppProcess.StartAsync(db.ConnectionString, settings);
        // Every second, three runs come within seconds; on its default (once a minute) at most one
        // would come within the wait.
        var deadline = DateTime.UtcNow.AddSeconds(45);
        var attempts = 0;
        while (DateTime.UtcNow < deadline && (attempts = (await RepairEntries.ReadAsync(db, entry)).Attempts) < 3)
        {
            await Task.Delay(200);
        }

        Assert.True(attempts >= 3, $"{attempts} Repair runs within 45 s on a schedule of every second:\n{app.Output}");
        Assert.Null((await RepairEntries.ReadAsync(db, entry)).ResolvedAt);
    }
}
