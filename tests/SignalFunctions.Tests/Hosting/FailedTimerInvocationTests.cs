using SignalFunctions.DevHost.Rpc;
using SignalFunctions.DevHost.Triggers;
using SignalFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace SignalFunctions.Tests.Hosting;

/// <summary>A timer run that fails must come back to the host as a failed invocation, and leave the worker serving.</summary>
public sealed class FailedTimerInvocationTests : IAsyncLifetime
{
    private PostgresCluster _cluster = null!;
    private TestDatabase _db = null!;

    public async Task InitializeAsync()
    {
        // A cluster of its own, to stop under the running worker.
        _cluster = await PostgresCluster.StartNewAsync();
        _db = await TestDatabase.CreateAsync(_cluster.AdminConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Timer_run_that_cannot_reach_the_database_is_a_failed_invocation_naming_what_failed()
    {
        var package = await FunctionPackage.GetAsync();
        await using var host = await PackagedApp.HostAsync(package, PackagedApp.Settings(_db.ConnectionString));
        var timers = new TimerTrigger(host, NullLogger<TimerTrigger>.Instance);
        await _cluster.StopAsync();

        var failed = await timers.RunAsync(host.Find("Repair")!, "test", null, CancellationToken.None);

        Assert.Equal(StatusResult.Types.Status.Failure, failed!.Result.Status);
        Assert.Contains("Repair", failed.Result.Exception.Message, StringComparison.Ordinal);

        // The failure ended the run, not the worker: it still answers the next invocation.
        var again = await timers.RunAsync(host.Find("Repair")!, "test", null, CancellationToken.None);
        Assert.NotNull(again);
        Assert.Null(host.WorkerExitCode);
    }
}
