using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SignalFunctions.Partitions;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Partitions;

/// <summary>The layout a fresh database gets, and the months the app keeps ready ahead.</summary>
public sealed class PartitionLayoutTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Fresh_database_is_partitioned_with_history_and_months_ahead()
    {
        Assert.Equal("p", await _db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE oid = 'signal_events'::regclass"));
        Assert.Equal("(id, created_at)", await _db.ScalarAsync<string>("""
            SELECT substring(pg_get_constraintdef(oid) FROM '\(.*\)') FROM pg_constraint
             WHERE conrelid = 'signal_events'::regclass AND contype = 'p'
            """));
        Assert.Equal(["signal_events_history", .. await MonthNamesAsync(0, 4)], await PartitionsAsync());
        Assert.Equal(await _db.ScalarAsync<DateTime>("SELECT date_trunc('month', now(), 'UTC')"), await _db.ScalarAsync<DateTime>(
            "SELECT upper_bound FROM partition_bounds('signal_events') WHERE partition = 'signal_events_history' AND lower_bound IS NULL"));
        Assert.Equal(
            ["signal_events_rollup_deleted", "signal_events_rollup_truncated", "signal_events_rollup_updated"],
            await _db.QueryAsync<string>("SELECT tgname FROM pg_trigger WHERE tgrelid = 'signal_events'::regclass AND NOT tgisinternal ORDER BY 1"));
    }

    [Fact]
    public async Task The_app_makes_the_months_ahead_at_start_once()
    {
        var settings = new Dictionary<string, string> { ["Events__PartitionsAhead"] = "5" };
        await using (await AppProcess.StartAsync(_db.ConnectionString, settings))
        {
        }
        var expected = new List<string> { "signal_events_history" };
        expected.AddRange(await MonthNamesAsync(0, 6));
        Assert.Equal(expected, await PartitionsAsync());
        var tables = await _db.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname LIKE 'signal\\_events\\_p%' AND relkind = 'r'");

        await using (await AppProcess.StartAsync(_db.ConnectionString, settings))
        {
        }

        Assert.Equal(expected, await PartitionsAsync());
        Assert.Equal(tables, await _db.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname LIKE 'signal\\_events\\_p%' AND relkind = 'r'"));
    }

    [Fact]
    public async Task The_timer_makes_the_missing_months_ahead_and_then_none()
    {
        foreach (var month in await MonthNamesAsync(1, 3))
        {
            await _db.ExecuteAsync($"ALTER TABLE signal_events DETACH PARTITION {month}; DROP TABLE {month}");
        }
        await using var services = TimerServices.For(_db, new Dictionary<string, string?> { ["Events:PartitionsAhead"] = "4" });

        Assert.Equal(["Partitions signal_events: 4 made"], (await EventPartitions.RunTimerAsync(services, CancellationToken.None)).Logs);
        Assert.Equal(["Partitions signal_events: 0 made"], (await EventPartitions.RunTimerAsync(services, CancellationToken.None)).Logs);
        Assert.Equal(["signal_events_history", .. await MonthNamesAsync(0, 5)], await PartitionsAsync());
    }

    [Fact]
    public async Task A_months_ahead_setting_out_of_range_is_refused_by_name()
    {
        await using var services = TimerServices.For(_db, new Dictionary<string, string?> { ["Events:PartitionsAhead"] = "0" });

        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<EventsOptions>>().Value);
        Assert.Contains("PartitionsAhead", refused.Message, StringComparison.Ordinal);
    }

    private async Task<List<string>> PartitionsAsync() =>
        [.. await _db.QueryAsync<string>("SELECT partition FROM partition_bounds('signal_events') ORDER BY lower_bound NULLS FIRST")];

    // The names of `count` months from this one plus `from`, as the database's clock has it.
    private async Task<IReadOnlyList<string>> MonthNamesAsync(int from, int count) => await _db.QueryAsync<string>("""
        SELECT 'signal_events_p' || to_char(date_trunc('month', now(), 'UTC') AT TIME ZONE 'UTC' + make_interval(months => i), 'YYYY_MM')
          FROM generate_series(@from, @from + @count - 1) i ORDER BY i
        """, new { from, count });
}
