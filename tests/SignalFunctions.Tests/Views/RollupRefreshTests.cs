using Dapper;
using SignalFunctions.Database;
using SignalFunctions.Migrations;
using SignalFunctions.Tests.Infrastructure;
using SignalFunctions.Views;
using static SignalFunctions.Tests.Views.RollupKit;

namespace SignalFunctions.Tests.Views;

/// <summary>signal_daily_rollup: its numbers, and incremental refreshes that always end where a full one would.</summary>
public sealed class RollupRefreshTests
{
    private static readonly ViewOptions Exact = new() { OverlapSeconds = 0, FullRefreshHours = 0 };

    [Fact]
    public async Task Rollup_counts_events_journeys_and_same_day_conversions_per_type_and_for_the_whole_bucket()
    {
        await using var db = await TestDatabase.CreateAsync();
        Guid content = Guid.NewGuid(), a = Guid.NewGuid(), b = Guid.NewGuid(), c = Guid.NewGuid();
        var day = FirstDay;
        await InsertAsync(db, [
            Event(a, content, "impression", At(day, 9)), Event(a, content, "impression", At(day, 9.1)),
            Event(a, content, "click", At(day, 9.2)), Event(a, content, "convert", At(day, 9.5)),
            Event(b, content, "impression", At(day, 10)), Event(b, content, "click", At(day, 11)),
            // b converts the next day: a conversion of that day's bucket, not of this one.
            Event(b, content, "convert", At(day.AddDays(1), 8)),
            Event(c, content, "save", At(day, 23.99)),
        ]);

        var refresh = await Rollup(db.DataSource).RefreshAsync(full: false, CancellationToken.None);

        Assert.Equal(RefreshMode.Full, refresh.Mode);
        Assert.Equal("first refresh", refresh.FullReason);
        var d0 = day;
        var d1 = day.AddDays(1);
        Assert.Equal<Row>([
            new(content, d0, "all", 7, 3, 1),
            new(content, d0, "click", 2, 2, 1),
            new(content, d0, "convert", 1, 1, 1),
            new(content, d0, "impression", 3, 2, 1),
            new(content, d0, "save", 1, 1, 0),
            new(content, d1, "all", 1, 1, 1),
            new(content, d1, "convert", 1, 1, 1),
        ], await RowsAsync(db, content));
        await AssertEqualsReferenceAsync(db, "after the first refresh");
    }

    [Fact]
    public async Task Incremental_refreshes_after_random_inserts_updates_and_deletes_on_several_days_equal_the_full_refresh()
    {
        await using var db = await TestDatabase.CreateAsync();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var contents = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToArray();
        var journeys = Enumerable.Range(0, 150).Select(_ => Guid.NewGuid()).ToArray();
        var live = new List<Guid>();
        TestEvent RandomEvent() => Event(
            journeys[random.Next(journeys.Length)], contents[random.Next(contents.Length)],
            EventTypes[random.Next(EventTypes.Length)], At(FirstDay.AddDays(random.Next(10)), random.NextDouble() * 24));
        Guid[] Pick(int count) => Enumerable.Range(0, count).Select(_ => live[random.Next(live.Count)]).Distinct().ToArray();

        var rollup = Rollup(db.DataSource, Exact);
        var initial = Enumerable.Range(0, 2000).Select(_ => RandomEvent()).ToList();
        await InsertAsync(db, initial);
        live.AddRange(initial.Select(e => e.Id));
        Assert.Equal(RefreshMode.Full, (await rollup.RefreshAsync(full: false, CancellationToken.None)).Mode);

        for (var round = 1; round <= 6; round++)
        {
            var inserted = Enumerable.Range(0, 150).Select(_ => RandomEvent()).ToList();
            await InsertAsync(db, inserted);
            live.AddRange(inserted.Select(e => e.Id));
            await db.ExecuteAsync("UPDATE signal_events SET event_type = @type WHERE id = ANY(@ids)",
                new { type = EventTypes[random.Next(EventTypes.Length)], ids = Pick(15) });
            await db.ExecuteAsync("UPDATE signal_events SET created_at = created_at + make_interval(days => @shift) WHERE id = ANY(@ids)",
                new { shift = random.Next(-3, 4), ids = Pick(15) });
            await db.ExecuteAsync("UPDATE signal_events SET content_id = @content WHERE id = ANY(@ids)",
                new { content = contents[random.Next(contents.Length)], ids = Pick(15) });
            await db.ExecuteAsync("UPDATE signal_events SET signal_id = @journey WHERE id = ANY(@ids)",
                new { journey = journeys[random.Next(journeys.Length)], ids = Pick(15) });
            var deleted = Pick(30);
            await db.ExecuteAsync("DELETE FROM signal_events WHERE id = ANY(@deleted)", new { deleted });
            // A whole bucket emptied: its rollup rows must go.
            await db.ExecuteAsync("DELETE FROM signal_events WHERE content_id = @content AND (created_at AT TIME ZONE 'UTC')::date = @day::date",
                new { content = contents[random.Next(contents.Length)], day = FirstDay.AddDays(random.Next(10)).ToDateTime(TimeOnly.MinValue) });
            live = [.. await db.QueryAsync<Guid>("SELECT id FROM signal_events")];

            var refresh = await rollup.RefreshAsync(full: false, CancellationToken.None);

            Assert.Equal(RefreshMode.Incremental, refresh.Mode);
            Assert.True(refresh.LoggedBuckets > 0, "updates and deletes reach the refresh through the change log");
            await AssertEqualsReferenceAsync(db, $"round {round} (seed {seed})");
        }

        var full = await rollup.RefreshAsync(full: true, CancellationToken.None);
        Assert.Equal(RefreshMode.Full, full.Mode);
        Assert.Equal((0L, 0L), (full.RowsWritten, full.RowsDeleted));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_rollup_changes"));
    }

    [Fact]
    public async Task A_row_committed_after_a_refresh_with_an_older_recorded_at_is_counted_by_the_next_one()
    {
        await using var db = await TestDatabase.CreateAsync();
        var rollup = Rollup(db.DataSource, Exact);
        var content = Guid.NewGuid();
        await InsertAsync(db, [Event(Guid.NewGuid(), content, "impression", At(FirstDay, 12))]);
        await rollup.RefreshAsync(full: false, CancellationToken.None);

        // A writer whose transaction started long ago: its row's recorded_at is that start.
        await using var late = await db.DataSource.OpenConnectionAsync();
        await using var tx = await late.BeginTransactionAsync();
        var lateStart = await late.ExecuteScalarAsync<DateTime>("SELECT now()", transaction: tx);
        var lateContent = Guid.NewGuid();
        await InsertAsync(late, [Event(Guid.NewGuid(), lateContent, "convert", At(FirstDay.AddDays(2), 12))], tx);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await InsertAsync(db, [Event(Guid.NewGuid(), content, "click", At(FirstDay, 13))]);

        var before = await rollup.RefreshAsync(full: false, CancellationToken.None);
        var watermark = await db.ScalarAsync<DateTime>("SELECT watermark FROM view_refreshes WHERE view_name = 'signal_daily_rollup'");
        var refreshedAt = await db.ScalarAsync<DateTime>("SELECT refreshed_at FROM view_refreshes WHERE view_name = 'signal_daily_rollup'");
        await tx.CommitAsync();
        var after = await rollup.RefreshAsync(full: false, CancellationToken.None);

        Assert.Equal((RefreshMode.Incremental, RefreshMode.Incremental), (before.Mode, after.Mode));
        Assert.Single(await RowsAsync(db, lateContent), r => r is { EventType: "convert", Events: 1, Conversions: 1 });
        await AssertEqualsReferenceAsync(db, "after the late commit");
        // A watermark at the time of the run would have passed the late row by more than a second.
        Assert.True(refreshedAt > lateStart.AddSeconds(1));
        Assert.True(watermark <= lateStart, $"watermark {watermark:O} is past the open transaction's start {lateStart:O}");
    }

    [Fact]
    public async Task A_delete_committed_after_a_refresh_is_counted_by_the_next_one()
    {
        await using var db = await TestDatabase.CreateAsync();
        var rollup = Rollup(db.DataSource, Exact);
        var content = Guid.NewGuid();
        var doomed = Event(Guid.NewGuid(), content, "save", At(FirstDay.AddDays(1), 8));
        await InsertAsync(db, [doomed, Event(Guid.NewGuid(), content, "impression", At(FirstDay.AddDays(1), 9))]);
        await rollup.RefreshAsync(full: false, CancellationToken.None);

        await using var late = await db.DataSource.OpenConnectionAsync();
        await using var tx = await late.BeginTransactionAsync();
        await late.ExecuteAsync("DELETE FROM signal_events WHERE id = @Id", doomed, tx);
        var during = await rollup.RefreshAsync(full: false, CancellationToken.None);
        await tx.CommitAsync();
        var after = await rollup.RefreshAsync(full: false, CancellationToken.None);

        Assert.Equal(0, during.LoggedBuckets); // the log row is not visible until the delete commits
        Assert.Equal(1, after.LoggedBuckets);
        Assert.DoesNotContain(await RowsAsync(db, content), r => r.EventType == "save");
        await AssertEqualsReferenceAsync(db, "after the late delete");
    }

    [Fact]
    public async Task Days_are_utc_days_of_the_event_whatever_the_session_time_zone()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var newYork = DatabaseExtensions.CreateDataSource(db.ConnectionString + ";Timezone=America/New_York");
        var content = Guid.NewGuid();
        // 02:30 UTC is still the day before in New York.
        await InsertAsync(db, [Event(Guid.NewGuid(), content, "click", At(FirstDay, 2.5))]);

        await Rollup(newYork).RefreshAsync(full: true, CancellationToken.None);

        Assert.All(await RowsAsync(db, content), r => Assert.Equal(FirstDay, r.Day));
    }

    [Fact]
    public async Task Truncate_makes_the_next_refresh_a_full_one()
    {
        await using var db = await TestDatabase.CreateAsync();
        var rollup = Rollup(db.DataSource, Exact);
        await InsertAsync(db, [Event(Guid.NewGuid(), Guid.NewGuid(), "click", At(FirstDay, 5))]);
        await rollup.RefreshAsync(full: false, CancellationToken.None);

        await db.ExecuteAsync("TRUNCATE signal_events");
        var refresh = await rollup.RefreshAsync(full: false, CancellationToken.None);
        var next = await rollup.RefreshAsync(full: false, CancellationToken.None);

        Assert.Equal((RefreshMode.Full, "signal_events was truncated"), (refresh.Mode, refresh.FullReason));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_daily_rollup"));
        Assert.Equal(RefreshMode.Incremental, next.Mode);
    }

    [Fact]
    public async Task When_more_than_a_quarter_of_the_buckets_changed_the_refresh_is_full()
    {
        await using var db = await TestDatabase.CreateAsync();
        var rollup = Rollup(db.DataSource, Exact);
        var contents = Enumerable.Range(0, 2000).Select(_ => Guid.NewGuid()).ToList();
        await InsertAsync(db, contents.Select(c => Event(Guid.NewGuid(), c, "impression", At(FirstDay, 1))).ToList());
        await rollup.RefreshAsync(full: false, CancellationToken.None);

        await InsertAsync(db, contents.Take(1200).Select(c => Event(Guid.NewGuid(), c, "click", At(FirstDay, 2))).ToList());
        var refresh = await rollup.RefreshAsync(full: false, CancellationToken.None);

        Assert.Equal((RefreshMode.Full, "1,200 of 2,000 buckets changed"), (refresh.Mode, refresh.FullReason));
        await AssertEqualsReferenceAsync(db, "after the full refresh");
    }

    [Fact]
    public async Task The_periodic_full_refresh_runs_when_it_is_due()
    {
        await using var db = await TestDatabase.CreateAsync();
        var rollup = Rollup(db.DataSource, new ViewOptions { FullRefreshHours = 24 });
        await InsertAsync(db, [Event(Guid.NewGuid(), Guid.NewGuid(), "click", At(FirstDay, 5))]);
        await rollup.RefreshAsync(full: false, CancellationToken.None);
        var soon = await rollup.RefreshAsync(full: false, CancellationToken.None);

        await db.ExecuteAsync("UPDATE view_refreshes SET last_full_at = now() - interval '25 hours'");
        var due = await rollup.RefreshAsync(full: false, CancellationToken.None);

        Assert.Equal(RefreshMode.Incremental, soon.Mode);
        Assert.Equal((RefreshMode.Full, "the full refresh every 24 h is due"), (due.Mode, due.FullReason));
    }

    [Fact]
    public async Task A_refresh_while_another_holds_the_lock_skips_and_says_so()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var other = await db.DataSource.OpenConnectionAsync();
        await using var held = await JobLock.TryTakeAsync(other, "refresh-views", DailyRollup.ViewName, CancellationToken.None);
        Assert.NotNull(held);

        var refresh = await Rollup(db.DataSource).RefreshAsync(full: true, CancellationToken.None);

        Assert.True(refresh.Skipped);
        Assert.Equal("signal_daily_rollup: skipped, another refresh holds the lock", refresh.Summary);
        Assert.Null(await db.ScalarAsync<DateTime?>("SELECT refreshed_at FROM view_refreshes"));
    }

    [Fact]
    public async Task A_full_refresh_with_nothing_changed_writes_nothing()
    {
        await using var db = await TestDatabase.CreateAsync();
        var rollup = Rollup(db.DataSource);
        await InsertAsync(db, Enumerable.Range(0, 50).Select(i => Event(Guid.NewGuid(), Guid.NewGuid(), EventTypes[i % 5], At(FirstDay.AddDays(i % 3), i % 24))).ToList());
        await rollup.RefreshAsync(full: true, CancellationToken.None);
        var xmin = await db.QueryAsync<string>("SELECT xmin::text FROM signal_daily_rollup ORDER BY 1");

        var again = await rollup.RefreshAsync(full: true, CancellationToken.None);

        Assert.Equal((0L, 0L), (again.RowsWritten, again.RowsDeleted));
        Assert.Equal(xmin, await db.QueryAsync<string>("SELECT xmin::text FROM signal_daily_rollup ORDER BY 1"));
        Assert.StartsWith("signal_daily_rollup: full (requested), ", again.Summary, StringComparison.Ordinal);
    }
}
