using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;
using static SignalFunctions.Tests.Views.RollupKit;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// The engine over a monthly-partitioned signal_events as retention leaves it (no MINVALUE history
/// partition): the backfill makes the months it needs, parity compares the whole table or one
/// partition, repair moves a row across partitions, and the rollup keeps the days of dropped ones.
/// </summary>
public sealed class PartitionedParityTests
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;

    private static Task<(int Exit, string Out, string Err)> Ops(TestDatabase db, params string[] args) => OpsCommand.RunAsync(db.ConnectionString, args);

    /// <summary>Dates the legacy rows over the given months, round robin by id, a few hours into each month.</summary>
    private static Task SpreadOverAsync(TestDatabase db, IReadOnlyList<(string Name, DateTime Lower, DateTime Upper)> months) => db.ExecuteAsync("""
        WITH r AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM blog_attribution_events)
        UPDATE blog_attribution_events b
           SET created_at = (@lowers::timestamptz[])[1 + r.n % cardinality(@lowers::timestamptz[])] + make_interval(mins => r.n::int)
          FROM r WHERE r.id = b.id
        """, new { lowers = months.Select(m => m.Lower).ToArray() });

    /// <summary>
    /// Legacy rows over the past months, backfilled from dual_write and aged past the parity fence. With
    /// <paramref name="oldestRetired"/>, the oldest month's partition is gone first, as retention leaves it.
    /// </summary>
    private static async Task<IReadOnlyList<(string Name, DateTime Lower, DateTime Upper)>> BackfilledOverPastMonthsAsync(
        TestDatabase db, Engine engine, int months, int rows, bool oldestRetired = false)
    {
        var past = await db.WithBoundsAsync(await db.PastMonthsAsync(months));
        await engine.SeedLegacyEventsAsync(rows);
        await SpreadOverAsync(db, past);
        if (oldestRetired)
        {
            await db.ExecuteAsync($"ALTER TABLE signal_events DETACH PARTITION {past[0].Name}; DROP TABLE {past[0].Name};");
        }
        await engine.MoveAsync(SignalEvents, Stage.DualWrite);
        Assert.Equal("complete", (await engine.BackfillAsync(SignalEvents)).Outcome);
        await db.AgeRecordedAsync();
        return past;
    }

    private static Task<long> LegacyRowsInAsync(TestDatabase db, (string Name, DateTime Lower, DateTime Upper) month) => db.ScalarAsync<long>(
        "SELECT count(*) FROM blog_attribution_events WHERE created_at >= @Lower AND created_at < @Upper", new { month.Lower, month.Upper });

    private static Task<IReadOnlyList<(string Partition, long Rows)>> RowsPerPartitionAsync(TestDatabase db) =>
        db.QueryAsync<(string, long)>("SELECT tableoid::regclass::text, count(*) FROM signal_events GROUP BY 1 ORDER BY 1");

    /// <summary>The first <paramref name="count"/> rows (by id) of one partition, deleted through the parent as anything else would.</summary>
    private static async Task<string[]> LoseAsync(TestDatabase db, string partition, int count) =>
        [.. (await db.QueryAsync<Guid>($"DELETE FROM signal_events WHERE id IN (SELECT id FROM {partition} ORDER BY id LIMIT @count) RETURNING id", new { count }))
            .Select(id => id.ToString()).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Backfill_and_parity_clean_over_partitions()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        // Retention dropped the oldest month too: the backfill's first run makes it again.
        var months = await BackfilledOverPastMonthsAsync(db, engine, 4, 800, oldestRetired: true);
        var perMonth = new List<(string, long)>();
        foreach (var month in months)
        {
            perMonth.Add((month.Name, await LegacyRowsInAsync(db, month)));
        }
        Assert.All(perMonth, p => Assert.Equal(200L, p.Item2));
        Assert.Equal(perMonth, await RowsPerPartitionAsync(db));
        await engine.MoveAsync(SignalEvents, Stage.Shadow);

        // One partition, as the operator asks for it: only its rows compared, and the report says so.
        var one = months[1];
        var (exit, output, error) = await Ops(db, "parity", "signal-events", "--partition", one.Name);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"signal-events, partition {one.Name} only: 200 rows compared", output, StringComparison.Ordinal);
        Assert.Contains($"scope: {one.Name} only; the stage gates judge by a whole-table report", output, StringComparison.Ordinal);
        var scoped = await db.QueryAsync<(string? Scope, long Rows, bool Clean)>("SELECT scope, rows_compared, clean FROM parity_reports ORDER BY id");
        Assert.Equal([(one.Name, 200L, true)], scoped);
        // A clean partition opens no gate: the others were not compared.
        await engine.RefreshViewsAsync();
        var refused = await engine.StageAsync(SignalEvents, Stage.Live);
        Assert.True(refused.Refused);
        Assert.Contains(refused.FailedGates, g => g.StartsWith("the latest parity report is not clean", StringComparison.Ordinal));
        var whole = await engine.ParityAsync(SignalEvents);
        Assert.True(whole.Clean);
        Assert.Null(whole.Scope);
        Assert.Equal(800, whole.RowsCompared);
        Assert.False((await engine.StageAsync(SignalEvents, Stage.Live)).Refused);
        await engine.MoveAsync(SignalEvents, Stage.Shadow);

        // Written just now, this month (no legacy home): in flight for the whole table, nothing to a past partition.
        var inFlight = await db.ScalarAsync<Guid>("""
            INSERT INTO signal_events (id, signal_id, content_id, content_type, target_type, target_id, event_type, source_component)
            VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'tutor', 'tutor', gen_random_uuid(), 'click', 'tutor_embed')
            RETURNING id
            """);
        var fenced = new Engine(db, new MigrationOptions { ParityFenceSeconds = 30 });
        Assert.Equal(0, (await fenced.ParityAsync(SignalEvents, one.Name)).RowsFenced);
        Assert.Equal(1, (await fenced.ParityAsync(SignalEvents)).RowsFenced);
        await db.ExecuteAsync("DELETE FROM signal_events WHERE id = @inFlight", new { inFlight });

        // Rows lost from two partitions: one partition's report lists only its own, and repair fixes them.
        var lostFirst = await LoseAsync(db, months[0].Name, 2);
        var lostThird = await LoseAsync(db, months[2].Name, 3);
        var first = await engine.ParityAsync(SignalEvents, months[0].Name);
        Assert.Equal(months[0].Name, first.Scope);
        Assert.Equal(200, first.RowsCompared);
        Assert.Equal(lostFirst, first.MissingKeys);
        Assert.Equal((0L, 0L), (first.ExtraCount, first.DifferentCount));
        Assert.Equal(2, (await engine.RepairAsync(SignalEvents)).KeysFixed);

        var rest = await engine.ParityAsync(SignalEvents);
        Assert.Equal(lostThird, rest.MissingKeys);
        Assert.Equal((0L, 0L), (rest.ExtraCount, rest.DifferentCount));
        Assert.Equal(3, (await engine.RepairAsync(SignalEvents)).KeysFixed);
        await engine.AssertCleanAsync(SignalEvents);
        Assert.Equal(perMonth, await RowsPerPartitionAsync(db));
    }

    [Fact]
    public async Task Repair_moves_a_row_whose_time_changed()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        var months = await BackfilledOverPastMonthsAsync(db, engine, 3, 300);
        await engine.RefreshViewsAsync();

        // Forty days later on the legacy side: the month after, or the one after that.
        var moved = await db.ScalarAsync<Guid>(
            "SELECT id FROM blog_attribution_events WHERE created_at < @Upper ORDER BY id LIMIT 1", new { months[0].Upper });
        var newTime = await db.ScalarAsync<DateTime>(
            "UPDATE blog_attribution_events SET created_at = created_at + interval '40 days' WHERE id = @moved RETURNING created_at", new { moved });
        var newPartition = await db.PartitionHoldingAsync(newTime);
        Assert.NotEqual(months[0].Name, newPartition);

        // Cut to the old partition, the row is not extra there but different: it lives elsewhere on the other side.
        foreach (var report in new[] { await engine.ParityAsync(SignalEvents, months[0].Name), await engine.ParityAsync(SignalEvents) })
        {
            Assert.Equal((0L, 0L), (report.MissingCount, report.ExtraCount));
            Assert.Equal([moved.ToString()], report.DifferentKeys);
        }

        Assert.Equal(1, (await engine.RepairAsync(SignalEvents)).KeysFixed);

        Assert.Equal([newPartition], await db.QueryAsync<string>("SELECT tableoid::regclass::text FROM signal_events WHERE id = @moved", new { moved }));
        Assert.Equal(newTime, await db.ScalarAsync<DateTime>("SELECT created_at FROM signal_events WHERE id = @moved", new { moved }));
        await engine.AssertCleanAsync(SignalEvents);
        // The move reaches the rollup: the old day loses the event and the new day gains it.
        await engine.RefreshViewsAsync();
        await AssertEqualsReferenceAsync(db, "after the repair moved a row");
    }

    [Fact]
    public async Task Full_rollup_refresh_keeps_retired_days()
    {
        await using var db = await TestDatabase.CreateAsync();
        var months = await db.WithBoundsAsync(await db.PastMonthsAsync(2));
        Guid content = Guid.NewGuid(), journey = Guid.NewGuid();
        var retiredDay = DateOnly.FromDateTime(months[0].Lower).AddDays(3);
        var keptDay = DateOnly.FromDateTime(months[1].Lower).AddDays(3);
        await InsertAsync(db, [
            Event(journey, content, "impression", At(retiredDay, 9)), Event(journey, content, "convert", At(retiredDay, 10)),
            Event(journey, content, "click", At(keptDay, 9)),
        ]);
        Assert.Equal(0, (await Ops(db, "refresh-views")).Exit);
        var before = await RowsAsync(db, content);
        Assert.Contains(before, r => r.Day == retiredDay);
        // A bucket above the lowest bound whose events are gone still goes.
        await db.ExecuteAsync(
            "INSERT INTO signal_daily_rollup (content_id, day, event_type, events, signals, conversions) VALUES (@content, @day, 'all', 1, 1, 0)",
            new { content, day = keptDay.AddDays(1) });

        // Retention drops the oldest month whole: no trigger tells the rollup.
        await db.ExecuteAsync($"ALTER TABLE signal_events DETACH PARTITION {months[0].Name}; DROP TABLE {months[0].Name};");
        var (exit, output, error) = await Ops(db, "refresh-views", "--full");

        Assert.True(exit == 0, output + error);
        Assert.Equal(before, await RowsAsync(db, content));
    }

    [Fact]
    public async Task Parity_verb_refuses_a_partition_it_cannot_compare_and_names_those_that_exist()
    {
        await using var db = await TestDatabase.CreateAsync();
        var thisMonth = await db.PartitionHoldingAsync(DateTimeOffset.UtcNow);

        var unknown = await Ops(db, "parity", "signal-events", "--partition", "signal_events_p1999_01");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("signal_events has no partition signal_events_p1999_01; it has signal_events_history [MINVALUE, ", unknown.Err, StringComparison.Ordinal);
        Assert.Contains($"{thisMonth} [", unknown.Err, StringComparison.Ordinal);

        var undeclared = await Ops(db, "parity", "click-events", "--partition", thisMonth);
        Assert.Equal(1, undeclared.Exit);
        Assert.Contains("click-events declares no time to cut both sides by (SourceTime, TargetTime)", undeclared.Err, StringComparison.Ordinal);

        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM parity_reports"));
    }
}
