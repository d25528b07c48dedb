using SignalFunctions.Migrations;
using SignalFunctions.Tests.Infrastructure;
using SignalFunctions.Views;
using static SignalFunctions.Tests.Views.RollupKit;

namespace SignalFunctions.Tests.Views;

/// <summary>The RefreshViews timer's runs: one summary line per view.</summary>
public sealed class RefreshViewsTimerTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private async Task<IReadOnlyList<string>> InvokeAsync()
    {
        await using var services = TimerServices.For(db);
        return (await DeclaredViews.RunTimerAsync(services, CancellationToken.None)).Logs;
    }

    [Fact]
    public async Task Each_invocation_refreshes_the_rollup_and_returns_its_summary_line()
    {
        var content = Guid.NewGuid();
        await InsertAsync(db, [Event(Guid.NewGuid(), content, "impression", At(FirstDay, 3))]);
        var first = await InvokeAsync();

        await InsertAsync(db, [Event(Guid.NewGuid(), content, "click", At(FirstDay, 4))]);
        var second = await InvokeAsync();

        await using (var other = await db.DataSource.OpenConnectionAsync())
        await using (await JobLock.TryTakeAsync(other, "refresh-views", DailyRollup.ViewName, CancellationToken.None))
        {
            Assert.Equal("RefreshViews signal_daily_rollup: skipped, another refresh holds the lock", (await InvokeAsync())[0]);
        }

        // One line per view: the rollup, then the brand view (mv_brand_daily_metrics, always whole).
        Assert.StartsWith("RefreshViews signal_daily_rollup: full (first refresh), ", first[0], StringComparison.Ordinal);
        Assert.StartsWith("RefreshViews signal_daily_rollup: incremental, 1 buckets recomputed", second[0], StringComparison.Ordinal);
        Assert.All([first, second], lines => Assert.StartsWith("RefreshViews mv_brand_daily_metrics: refreshed concurrently, ", lines[1], StringComparison.Ordinal));
        Assert.Contains(await RowsAsync(db, content), r => r is { EventType: "click", Events: 1 });
    }
}
