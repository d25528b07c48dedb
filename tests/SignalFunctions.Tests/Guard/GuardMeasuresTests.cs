using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Guard;

/// <summary>
/// What the guard counts: latency in fixed buckets (so a meter started under one p99 limit and a
/// guard reading another agree), parity rows found different as lost like missing ones, and the
/// capture trigger's failed mirrors of outside writes as failed secondary writes.
/// </summary>
public sealed class GuardMeasuresTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    private static GuardOptions Limits(Action<GuardOptions>? change = null)
    {
        var options = new GuardOptions { MinRequests = 100, MinParityRows = 100, MaxRepairBacklog = 100_000 };
        change?.Invoke(options);
        return options;
    }

    private Task<IReadOnlyList<GuardVerdict>> GuardAsync(GuardOptions options)
    {
        var engine = new Engine(_db);
        return new StageGuard(_db.DataSource, engine.Flags, engine.Stages, FixedOptions.Live(options), NullLogger<StageGuard>.Instance)
            .RunAsync(CancellationToken.None);
    }

    private Task<string> StageAsync(string migration) =>
        _db.ScalarAsync<string>("SELECT stage FROM stage_flags WHERE migration = @migration", new { migration });

    private Task<IReadOnlyList<(string Rule, double Measured, long Sample, string Reason)>> ActionsAsync(string migration) =>
        _db.QueryAsync<(string, double, long, string)>(
            "SELECT rule, measured, sample, reason FROM guard_actions WHERE migration = @migration ORDER BY id", new { migration });

    [Fact]
    public void Latency_edges_are_fixed_at_most_10_percent_apart_and_include_the_round_limits()
    {
        var edges = LatencyBuckets.Edges;
        Assert.Equal(1, edges[0]);
        Assert.Equal(1_000_000, edges[^1]);
        for (var i = 1; i < edges.Count; i++)
        {
            Assert.InRange(edges[i] / edges[i - 1], 1.0001, 1.1000001);
        }
        foreach (var limit in new[] { 1, 5, 100, 250, 500, 1000, 2000, 3000, 5000, 10_000, 30_000, 60_000, 600_000 })
        {
            Assert.Contains((double)limit, edges);
        }
        // A bucket's upper edge is inclusive: 5,000 ms is at most 5 s, 5,000.001 ms is over it.
        var at = LatencyBuckets.IndexOf(5000);
        Assert.Equal(5000, edges[at]);
        Assert.Equal(at + 1, LatencyBuckets.IndexOf(5000.001));
        Assert.Equal(0, LatencyBuckets.IndexOf(0.2));
        Assert.Equal(LatencyBuckets.Count - 1, LatencyBuckets.IndexOf(2_000_000));
    }

    [Fact]
    public void The_p99_is_reported_as_its_bucket_and_trips_only_when_the_whole_bucket_is_over_the_limit()
    {
        var counts = new long[LatencyBuckets.Count];
        counts[LatencyBuckets.IndexOf(10)] = 98;
        counts[LatencyBuckets.IndexOf(5200)] = 2;

        Assert.Equal((5000.0, 5500.0), LatencyBuckets.Quantile(counts, 0.99));
        var over = new GuardReading(100, 0, 5500, 0, 0, 0, null, 0, 0) { P99AboveMilliseconds = 5000 };
        Assert.Equal(GuardRules.P99Latency, GuardRules.Check(over, Limits())?.Rule);
        // A limit between edges (5,200 ms) is not known to be passed by a p99 somewhere in (5,000, 5,500].
        Assert.Null(GuardRules.Check(over, Limits(o => o.MaxP99Milliseconds = 5200)));
        Assert.Null(GuardRules.Check(over, Limits(o => o.MaxP99Milliseconds = 5500)));
    }

    [Fact]
    public async Task A_meter_started_under_one_p99_limit_and_a_guard_reading_another_count_the_same_buckets()
    {
        const string migration = KnownMigrations.SignalEvents;
        await _db.SetStageAsync(migration, "live");
        // The instance started with a 5 s limit; ops lowered it to 2 s since (the guard reads it live).
        var state = new FlagState(TimeProvider.System);
        state.Apply(await new Engine(_db).Flags.LoadAsync(CancellationToken.None));
        var meter = new IngestMeter(state, Options.Create(Limits(o => o.MaxP99Milliseconds = 5000)));
        var slow = Stopwatch.GetTimestamp() - (long)(3.1 * Stopwatch.Frequency);
        for (var i = 0; i < 150; i++)
        {
            meter.Answered(migration, 202, slow);
        }
        await meter.FlushAsync(_db.DataSource, CancellationToken.None);

        var within = await GuardAsync(Limits(o => o.MaxP99Milliseconds = 5000));
        Assert.Contains("p99 <= 3200 ms", Assert.Single(within).Line, StringComparison.Ordinal);
        Assert.Equal("live", await StageAsync(migration));

        await GuardAsync(Limits(o => o.MaxP99Milliseconds = 2000));

        Assert.Equal("shadow", await StageAsync(migration));
        var action = Assert.Single(await ActionsAsync(migration));
        Assert.Equal((GuardRules.P99Latency, 3200.0, 150L), (action.Rule, action.Measured, action.Sample));
    }

    private Task RecordParityAsync(string migration, long rowsCompared, long missing, long different) => _db.ExecuteAsync("""
        INSERT INTO parity_reports (migration, started_at, finished_at, ranges_checked, rows_compared, missing_count, extra_count,
                                    different_count, missing_keys, extra_keys, different_keys, validation, clean)
        VALUES (@migration, now(), now(), 4, @rowsCompared, @missing, 0, @different, '{}', '{}', '{}', '[]', @clean)
        """, new { migration, rowsCompared, missing, different, clean = missing + different == 0 });

    [Fact]
    public async Task Parity_rows_found_different_count_as_lost_like_missing_ones()
    {
        const string migration = KnownMigrations.SignalEvents;
        await _db.SetStageAsync(migration, "live");
        await RecordParityAsync(migration, 2000, missing: 0, different: 20);
        var within = await GuardAsync(Limits());
        Assert.Contains("0 missing and 20 different of 2000 rows", Assert.Single(within).Line, StringComparison.Ordinal);
        Assert.Equal("live", await StageAsync(migration));

        // Neither alone is over 1 %, together they are: 5 missing + 16 different of 2,000 is 1.05 %.
        await RecordParityAsync(migration, 2000, missing: 5, different: 16);
        await GuardAsync(Limits());

        Assert.Equal("shadow", await StageAsync(migration));
        var action = Assert.Single(await ActionsAsync(migration));
        Assert.Equal((GuardRules.ParityLoss, 2000L), (action.Rule, action.Sample));
        Assert.Equal(21 / 2000.0, action.Measured, 9);
        Assert.Contains("5 missing and 16 different of 2000 compared rows", action.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outside_writes_the_capture_trigger_could_not_mirror_count_as_failed_secondary_writes()
    {
        var m = ContentQueueMigration.Declaration;
        var engine = new Engine(_db);
        await engine.MoveAsync(m, Stage.DualWrite);
        // The new side refuses every row from now on, so every mirror of an outside write fails.
        await _db.ExecuteAsync("ALTER TABLE content_queue ADD CONSTRAINT guard_test_refuses CHECK (false) NOT VALID");

        // The bot writes the legacy table, one statement per decision, as it does.
        for (var i = 0; i < 3; i++)
        {
            await _db.ExecuteAsync("INSERT INTO content_metadata (content) VALUES ('queued by the bot')");
        }
        Assert.Equal(3L, await _db.ScalarAsync<long>(
            "SELECT count(*) FROM repair_entries WHERE migration = @Name AND operation = 'sync_key'", new { m.Name }));
        Assert.Equal(3L, await _db.ScalarAsync<long>("SELECT count(*) FROM content_metadata"));
        // Three failures prove nothing yet (fewer than MinRequests writes)…
        var within = await GuardAsync(Limits(o => o.MinRequests = 10));
        Assert.Contains("3 secondary writes, 3 failed (3 of them capture-trigger mirrors)",
            Assert.Single(within, v => v.Migration == m.Name).Line, StringComparison.Ordinal);
        Assert.Equal("dual_write", await StageAsync(m.Name));

        await _db.ExecuteAsync("INSERT INTO content_metadata (content) SELECT 'batch ' || g FROM generate_series(1, 9) g");
        await GuardAsync(Limits(o => o.MinRequests = 10));

        Assert.Equal("off", await StageAsync(m.Name));
        var action = Assert.Single(await ActionsAsync(m.Name));
        Assert.Equal((GuardRules.SecondaryFailureRate, 1.0, 12L), (action.Rule, action.Measured, action.Sample));
        Assert.Contains("12 of them outside writers' rows the capture trigger could not mirror", action.Reason, StringComparison.Ordinal);
    }
}
