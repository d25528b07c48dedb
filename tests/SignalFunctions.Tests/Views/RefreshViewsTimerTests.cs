using SignalFunctions.Migrations;
using SignalFunctions.Tests.Hosting;
using SignalFunctions.Views;
using static SignalFunctions.Tests.Views.RollupKit;

namespace SignalFunctions.Tests.Views;

/// <summary>The RefreshViews timer as the Functions host fires it: one summary line per view in the invocation's Logs.</summary>
public sealed class RefreshViewsTimerTests(HostedHandlerFixture fixture) : IClassFixture<HostedHandlerFixture>
{
    private Task<IReadOnlyList<string>> InvokeAsync() => fixture.Host.InvokeTimerForLogsAsync("RefreshViews");

    [Fact]
    public async Task Each_invocation_refreshes_the_rollup_and_returns_its_summary_line()
    {
        var content = Guid.NewGuid();
        await InsertAsync(fixture.Db, [Event(Guid.NewGuid(), content, "impression", At(FirstDay, 3))]);
        var first = await InvokeAsync();

        await InsertAsync(fixture.Db, [Event(Guid.NewGuid(), content, "click", At(FirstDay, 4))]);
        var second = await InvokeAsync();

        await using (var other = await fixture.Db.DataSource.OpenConnectionAsync())
        await using (await JobLock.TryTakeAsync(other, "refresh-views", DailyRollup.ViewName, CancellationToken.None))
        {
            Assert.Equal("RefreshViews signal_daily_rollup: skipped, another refresh holds the lock", (await InvokeAsync())[0]);
        }

        // One line per view: the rollup, then the brand view (mv_brand_daily_metrics, always whole).
        Assert.StartsWith("RefreshViews signal_daily_rollup: full (first refresh), ", first[0], StringComparison.Ordinal);
        Assert.StartsWith("RefreshViews signal_daily_rollup: incremental, 1 buckets recomputed", second[0], StringComparison.Ordinal);
        Assert.All([first, second], lines => Assert.StartsWith("RefreshViews mv_brand_daily_metrics: refreshed concurrently, ", lines[1], StringComparison.Ordinal));
        Assert.Contains(await RowsAsync(fixture.Db, content), r => r is { EventType: "click", Events: 1 });
    }
}
