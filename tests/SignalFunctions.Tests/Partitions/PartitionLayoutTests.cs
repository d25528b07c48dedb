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
    public async Task Quarterly_partitions_fill_what_the_monthly_ones_leave_without_gaps()
    {
        await using var services = TimerServices.For(_db, new Dictionary<string, string?>
        {
            ["Events:PartitionMonths"] = "3",
            ["Events:PartitionsAhead"] = "4",
        });

        await EventPartitions.RunTimerAsync(services, CancellationToken.None);

        // Each partition starts where the one before ends, from MINVALUE to the end of the 4th quarter
        // past the one holding now; past the fresh database's months they are a quarter long.
        var bounds = (await _db.QueryAsync<(DateTime? Lower, DateTime? Upper)>(
            "SELECT lower_bound, upper_bound FROM partition_bounds('signal_events') ORDER BY lower_bound NULLS FIRST")).ToList();
        Assert.Null(bounds[0].Lower);
        Assert.All(bounds.Zip(bounds.Skip(1)), pair => Assert.Equal(pair.First.Upper, pair.Second.Lower));
        var quarter = await _db.ScalarAsync<DateTime>("""
            SELECT make_timestamptz(extract(year FROM now() AT TIME ZONE 'UTC')::int,
                                    1 + (extract(month FROM now() AT TIME ZONE 'UTC')::int - 1) / 3 * 3, 1, 0, 0, 0, 'UTC')
            """);
        Assert.Equal(quarter.AddMonths(15), bounds[^1].Upper);
        Assert.Equal(quarter.AddMonths(12), bounds[^1].Lower);
    }

    [Fact]
    public async Task A_table_of_a_partitions_name_holding_rows_is_not_taken_back()
    {
        var next = (await MonthNamesAsync(1, 1))[0];
        await _db.ExecuteAsync($"""
            INSERT INTO signal_events (id, signal_id, content_id, target_type, target_id, event_type, source_component, created_at)
            VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'article', gen_random_uuid(), 'impression', 'cta_button',
                    date_trunc('month', now(), 'UTC') + interval '1 month 1 day');
            ALTER TABLE signal_events DETACH PARTITION {next};
            """);

        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => _db.ExecuteAsync(
            "SELECT ensure_partition('signal_events', date_trunc('month', now(), 'UTC') + interval '1 month', date_trunc('month', now(), 'UTC') + interval '2 months')"));

        Assert.Contains($"table {next} exists outside the partitions of signal_events and holds rows", refused.MessageText, StringComparison.Ordinal);
        Assert.Equal(1, await _db.ScalarAsync<long>($"SELECT count(*) FROM {next}"));
        Assert.DoesNotContain(next, await PartitionsAsync());
    }

    [Fact]
    public async Task Two_callers_making_the_same_month_at_once_make_it_once()
    {
        var next = (await MonthNamesAsync(1, 1))[0];
        await _db.ExecuteAsync($"ALTER TABLE signal_events DETACH PARTITION {next}; DROP TABLE {next}");
        const string Ensure = "SELECT ensure_partition('signal_events', date_trunc('month', now(), 'UTC') + interval '1 month', date_trunc('month', now(), 'UTC') + interval '2 months')";
        await using var first = new Npgsql.NpgsqlConnection(_db.ConnectionString);
        await using var second = new Npgsql.NpgsqlConnection(_db.ConnectionString);
        await first.OpenAsync();
        await second.OpenAsync();
        await using var firstTx = await first.BeginTransactionAsync();
        Assert.Equal(1, await Dapper.SqlMapper.ExecuteScalarAsync<int>(first, Ensure, transaction: firstTx));

        // The second waits for the first to commit, then finds the month made.
        var secondMade = Dapper.SqlMapper.ExecuteScalarAsync<int>(second, Ensure);
        await WaitUntilWaitingOnALockAsync();
        await firstTx.CommitAsync();

        Assert.Equal(0, await secondMade);
        Assert.Contains(next, await PartitionsAsync());
    }

    private async Task WaitUntilWaitingOnALockAsync()
    {
        while (!await _db.ScalarAsync<bool>("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%ensure_partition%')"))
        {
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_months_ahead_setting_out_of_range_is_refused_by_name()
    {
        await using var services = TimerServices.For(_db, new Dictionary<string, string?> { ["Events:PartitionsAhead"] = "0" });

        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<EventsOptions>>().Value);
        Assert.Contains("PartitionsAhead", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_partition_length_that_does_not_divide_a_year_is_refused_by_name()
    {
        await using var services = TimerServices.For(_db, new Dictionary<string, string?> { ["Events:PartitionMonths"] = "5" });

        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<EventsOptions>>().Value);
        Assert.Contains("Events:PartitionMonths must be 1, 2, 3, 4, 6 or 12", refused.Message, StringComparison.Ordinal);
    }

    private async Task<List<string>> PartitionsAsync() =>
        [.. await _db.QueryAsync<string>("SELECT partition FROM partition_bounds('signal_events') ORDER BY lower_bound NULLS FIRST")];

    // The names of `count` months from this one plus `from`, as the database's clock has it.
    private async Task<IReadOnlyList<string>> MonthNamesAsync(int from, int count) => await _db.QueryAsync<string>("""
        SELECT 'signal_events_p' || to_char(date_trunc('month', now(), 'UTC') AT TIME ZONE 'UTC' + make_interval(months => i), 'YYYY_MM')
          FROM generate_series(@from, @from + @count - 1) i ORDER BY i
        """, new { from, count });
}
