using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using SignalFunctions.Guard;
using SignalFunctions.Migrations;
using SignalFunctions.Partitions;
using SignalFunctions.Views;

namespace SignalFunctions.Hosting;

/// <summary>
/// Every timer function. The host reads each schedule from the app setting {Name}Schedule (the
/// %…% in the trigger) and refuses to start a timer whose setting is missing, so the defaults live
/// where the host reads settings: local.settings.sample.json and infra/ (a test keeps the two alike).
/// </summary>
public sealed class TimerFunctions(TimerRunner runner)
{
    /// <summary>The name of every timer function, read from the [Function] attributes below.</summary>
    public static readonly IReadOnlyList<string> Names = typeof(TimerFunctions).GetMethods()
        .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
        .OfType<string>()
        .ToList();

    // The TimerInfo parameters are unused, but their triggers are what make these timer functions.

    [Function("Backfill")]
    public Task Backfill([TimerTrigger("%BackfillSchedule%")] TimerInfo timer, CancellationToken ct) =>
        runner.RunAsync("Backfill", MigrationTimers.BackfillAsync, ct);

    [Function("Parity")]
    public Task Parity([TimerTrigger("%ParitySchedule%")] TimerInfo timer, CancellationToken ct) =>
        runner.RunAsync("Parity", MigrationTimers.ParityAsync, ct);

    [Function("Repair")]
    public Task Repair([TimerTrigger("%RepairSchedule%")] TimerInfo timer, CancellationToken ct) =>
        runner.RunAsync("Repair", MigrationTimers.RepairAsync, ct);

    [Function("RefreshViews")]
    public Task RefreshViews([TimerTrigger("%RefreshViewsSchedule%")] TimerInfo timer, CancellationToken ct) =>
        runner.RunAsync("RefreshViews", DeclaredViews.RunTimerAsync, ct);

    [Function("Partitions")]
    public Task Partitions([TimerTrigger("%PartitionsSchedule%")] TimerInfo timer, CancellationToken ct) =>
        runner.RunAsync("Partitions", EventPartitions.RunTimerAsync, ct);

    [Function("Guard")]
    public Task Guard([TimerTrigger("%GuardSchedule%")] TimerInfo timer, CancellationToken ct) =>
        runner.RunAsync("Guard", StageGuard.RunTimerAsync, ct);
}
