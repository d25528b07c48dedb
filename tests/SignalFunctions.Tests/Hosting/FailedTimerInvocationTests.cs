using System.Net;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>A timer run that fails must fail the invocation (non-2xx), in the same JSON shape, and leave the handler serving.</summary>
public sealed class FailedTimerInvocationTests : IAsyncLifetime
{
    private PostgresCluster _cluster = null!;
    private TestDatabase _db = null!;
    private FunctionsHostDouble _host = null!;

    public async Task InitializeAsync()
    {
        // A cluster of its own, to stop under the running handler.
        _cluster = await PostgresCluster.StartNewAsync();
        _db = await TestDatabase.CreateAsync(_cluster.AdminConnectionString);
        _host = await FunctionsHostDouble.StartAsync(await FunctionPackage.GetAsync(), HostedHandlerFixture.AppSettings(_db.ConnectionString));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _db.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Timer_run_that_cannot_reach_the_database_answers_500_with_the_invocation_result_shape()
    {
        await _cluster.StopAsync();

        using var response = await _host.InvokeTimerAsync("Repair");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        HostContractTests.AssertInvocationResult(response, body);
        Assert.Contains("Repair signal-events failed", body, StringComparison.Ordinal);

        using var ping = await _host.Handler.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
    }
}
