using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalFunctions.Guard;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>The backfill yields to ingest by ingest's own latency, read from the guard's measurements.</summary>
public sealed class IngestYieldTests
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;

    /// <summary>A latency histogram: <paramref name="requests"/> requests answered in <paramref name="milliseconds"/> each.</summary>
    private static long[] Window(int requests, double milliseconds)
    {
        var counts = new long[LatencyBuckets.Count];
        counts[LatencyBuckets.IndexOf(milliseconds)] = requests;
        return counts;
    }

    [Fact]
    public void The_yield_starts_at_its_ceiling_eases_back_to_its_floor_while_ingest_holds_and_doubles_when_it_does_not()
    {
        var yielding = new IngestYield(new MigrationOptions { YieldRatio = 2, MaxIngestSlowdown = 1.5, MaxYieldRatio = 10 });
        Assert.Equal(2, yielding.Ratio);
        yielding.Baseline(Window(1000, 10), DateTime.UtcNow);
        Assert.Equal(10, yielding.BaselineP99);
        Assert.Equal(15, yielding.LimitP99);
        Assert.Equal(10, yielding.Ratio);

        var ratios = new List<double>();
        foreach (var p99 in new[] { 5.0, 5, 5, 5, 5, 5, 5, 5, 40, 40, 40, 14, 12 })
        {
            yielding.Judge(Window(1000, p99));
            ratios.Add(Math.Round(yielding.Ratio, 2));
        }

        // Well under the limit (≤ 11.25 ms): 0.8× per window down to the floor of 2. Over it: doubled, up to
        // the ceiling of 10. Under it but not well under (14, 12 ms): held.
        Assert.Equal([8, 6.4, 5.12, 4.1, 3.28, 2.62, 2.1, 2, 4, 8, 10, 10, 10], ratios);
        Assert.Equal("yielding 10× to ingest (p99 12 ms, limit 15 ms, 10 ms alone)", yielding.Describe());
        // A later baseline does not start over from the top.
        yielding.Judge(Window(1000, 5));
        yielding.Baseline(Window(1000, 10), DateTime.UtcNow);
        Assert.Equal(8, yielding.Ratio);
    }

    [Fact]
    public void The_baseline_is_the_median_of_the_last_three_measurements_so_one_taken_in_a_stall_lets_nothing_through()
    {
        var at = DateTime.UtcNow;
        var yielding = new IngestYield(new MigrationOptions { MaxIngestSlowdown = 2 });
        var baselines = new List<double?>();
        foreach (var p99 in new[] { 8.0, 30, 12, 16, 15, 40 })
        {
            yielding.Baseline(Window(1000, p99), at);
            baselines.Add(yielding.BaselineP99);
        }
        // 30 and 40 (a checkpoint, a vacuum) never count; the level rises as ingest alone gets slower (the new table grows).
        Assert.Equal([8, 8, 12, 16, 15, 16], baselines);
        yielding.Baseline(null, at);
        Assert.Equal(16, yielding.BaselineP99);
        Assert.Equal(32, yielding.LimitP99);
    }

    [Fact]
    public void Without_a_baseline_the_yield_stays_at_its_setting()
    {
        var yielding = new IngestYield(new MigrationOptions { YieldRatio = 3 });
        yielding.Baseline(null, DateTime.UtcNow);
        yielding.Judge(Window(1000, 500));

        Assert.Null(yielding.BaselineP99);
        Assert.Equal(3, yielding.Ratio);
        Assert.Null(yielding.Describe());
    }

    [Fact]
    public void The_baseline_is_measured_again_every_two_minutes_and_never_when_steering_is_off()
    {
        var start = new DateTime(2026, 12, 5, 12, 0, 0, DateTimeKind.Utc);
        var yielding = new IngestYield(new MigrationOptions());
        Assert.True(yielding.BaselineDue(start));
        yielding.Baseline(Window(500, 4), start);
        Assert.False(yielding.BaselineDue(start.AddSeconds(119)));
        Assert.True(yielding.BaselineDue(start.AddSeconds(120)));

        Assert.False(new IngestYield(new MigrationOptions { MaxIngestSlowdown = 0 }).BaselineDue(start));
    }

    [Fact]
    public async Task The_sampler_counts_only_what_every_instance_answered_since_its_last_read()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var sampler = new IngestLatencySampler(minRequests: 200);
        await FlushAsync(db, "a", Window(5000, 3));

        // The first read only takes note: those 5,000 were answered before the sampler looked.
        Assert.Null(await sampler.ReadAsync(connection, CancellationToken.None));
        await FlushAsync(db, "a", Sum(Window(5000, 3), Window(150, 20)));
        // 150 are too few to judge; they wait for more.
        Assert.Null(await sampler.ReadAsync(connection, CancellationToken.None));
        // A second instance's first flush counts whole, and one of an older build (other bucket edges) not at all.
        await FlushAsync(db, "b", Window(100, 7));
        await db.ExecuteAsync("""
            INSERT INTO guard_windows (migration, flag_version, instance, requests, server_errors, secondary_writes, secondary_failures, latency_buckets)
            VALUES ('signal-events', 1, 'old-build', 900, 0, 0, 0, ARRAY[900, 0, 0]::bigint[])
            """);

        var window = await sampler.ReadAsync(connection, CancellationToken.None);

        Assert.NotNull(window);
        Assert.Equal(250, window.Sum());
        Assert.Equal(150, window[LatencyBuckets.IndexOf(20)]);
        Assert.Equal(100, window[LatencyBuckets.IndexOf(7)]);
        // A new window starts empty, and after a restart the next growth is dropped: it may predate it.
        Assert.Null(await sampler.ReadAsync(connection, CancellationToken.None));
        sampler.Restart();
        await FlushAsync(db, "a", Sum(Window(5000, 3), Window(150, 20), Window(300, 1)));
        Assert.Null(await sampler.ReadAsync(connection, CancellationToken.None));
        await FlushAsync(db, "a", Sum(Window(5000, 3), Window(150, 20), Window(300, 1), Window(300, 2)));
        var afterRestart = await sampler.ReadAsync(connection, CancellationToken.None);
        Assert.NotNull(afterRestart);
        Assert.Equal(300, afterRestart[LatencyBuckets.IndexOf(2)]);
        Assert.Equal(300, afterRestart.Sum());
    }

    [Theory]
    [InlineData(30, "yielding 16× to ingest (p99 30 ms, limit 4.5 ms, 3 ms alone)", "budget reached")]
    // Eased down from the ceiling; how far depends on how many windows pass before the rows run
    // out, which this machine's load decides (IngestYield's own tests pin the steps and the floor).
    [InlineData(3, null, null)]
    public async Task A_backfill_yields_most_while_its_batches_slow_ingest_down_and_least_while_they_do_not(
        double copyingMilliseconds, string? last, string? outcome)
    {
        await using var db = await TestDatabase.CreateAsync();
        var settings = new MigrationOptions { MinBatchSize = 50, MaxBatchSize = 50, YieldRatio = 2, MaxYieldRatio = 16, MaxIngestSlowdown = 1.5 };
        var backfill = new Backfill(db.DataSource, Options.Create(settings), Options.Create(new GuardOptions { FlushSeconds = 1 }), new Engine(db).Partitions, NullLogger<Backfill>.Instance);
        await new Engine(db).SeedLegacyEventsAsync(20_000);

        var reports = new List<BackfillProgress>();
        BackfillRun run;
        await using (var ingest = new IngestStandIn(db, copying => copying ? copyingMilliseconds : 3))
        {
            run = await backfill.RunAsync(SignalEvents, TimeSpan.FromSeconds(10), new SyncProgress(reports), CancellationToken.None);
        }

        // Held back at 16×, the 20,000 rows take far longer than the budget; eased down, they may all be copied.
        if (outcome is not null)
        {
            Assert.Equal(outcome, run.Outcome);
        }
        Assert.Contains(reports, r => r.PausedBy == "measuring ingest latency without the backfill");
        var said = reports.Select(r => r.Yielding).OfType<string>().Distinct().ToList();
        // From the ceiling, once ingest's latency alone is known: held there, or eased down to the floor.
        Assert.StartsWith("yielding 16× to ingest", said[0], StringComparison.Ordinal);
        if (last is not null)
        {
            Assert.Equal(last, said[^1]);
        }
        else
        {
            static double Ratio(string line) => double.Parse(line["yielding ".Length..line.IndexOf('×')], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Ratio(said[^1]) < 16, $"never eased below the ceiling: {string.Join(" | ", said)}");
            Assert.EndsWith("to ingest (p99 3 ms, limit 4.5 ms, 3 ms alone)", said[^1], StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0, true)]      // Migrations__MaxIngestSlowdown=0
    [InlineData(1.5, false)]   // Guard__Enabled=false: nothing measures ingest
    public async Task With_steering_off_the_backfill_yields_by_the_fixed_ratio_whatever_ingest_answers(double slowdown, bool guard)
    {
        await using var db = await TestDatabase.CreateAsync();
        var settings = new MigrationOptions { MinBatchSize = 50, MaxBatchSize = 50, YieldRatio = 2, MaxIngestSlowdown = slowdown };
        var backfill = new Backfill(db.DataSource, Options.Create(settings), Options.Create(new GuardOptions { FlushSeconds = 1, Enabled = guard }), new Engine(db).Partitions, NullLogger<Backfill>.Instance);
        await new Engine(db).SeedLegacyEventsAsync(2_000);

        var reports = new List<BackfillProgress>();
        BackfillRun run;
        await using (var ingest = new IngestStandIn(db, copying => copying ? 900 : 3))
        {
            run = await backfill.RunAsync(SignalEvents, TimeSpan.FromMinutes(1), new SyncProgress(reports), CancellationToken.None);
            Assert.True(ingest.Flushes > 0);
        }

        Assert.Equal("complete", run.Outcome);
        Assert.DoesNotContain(reports, r => r.PausedBy is not null || r.Yielding is not null);
    }

    [Fact]
    public async Task With_steering_on_and_no_ingest_answering_other_sessions_at_work_do_not_make_the_backfill_yield()
    {
        await using var db = await TestDatabase.CreateAsync();
        var settings = new MigrationOptions { MinBatchSize = 50, MaxBatchSize = 50, YieldRatio = 2, MaxIngestSlowdown = 1.5 };
        var backfill = new Backfill(db.DataSource, Options.Create(settings), Options.Create(new GuardOptions { FlushSeconds = 1 }), new Engine(db).Partitions, NullLogger<Backfill>.Instance);
        await new Engine(db).SeedLegacyEventsAsync(2_000);

        // A session at work the whole time (as the app's own listeners and flushes are), writing no ingest measurements.
        using var stop = new CancellationTokenSource();
        var busy = Task.Run(async () =>
        {
            await using var connection = await db.DataSource.OpenConnectionAsync();
            while (!stop.IsCancellationRequested)
            {
                await connection.ExecuteAsync("SELECT pg_sleep(0.05)");
            }
        });
        var reports = new List<BackfillProgress>();
        BackfillRun run;
        try
        {
            run = await backfill.RunAsync(SignalEvents, TimeSpan.FromMinutes(1), new SyncProgress(reports), CancellationToken.None);
        }
        finally
        {
            await stop.CancelAsync();
            await busy;
        }

        Assert.Equal("complete", run.Outcome);
        Assert.DoesNotContain(reports, r => r.PausedBy is not null || r.Yielding is not null);
    }

    private static long[] Sum(params long[][] windows) =>
        [.. Enumerable.Range(0, LatencyBuckets.Count).Select(i => windows.Sum(w => w[i]))];

    /// <summary>What an instance's <see cref="IngestMeter"/> flush writes: its running totals.</summary>
    private static Task FlushAsync(TestDatabase db, string instance, long[] totals) => db.ExecuteAsync("""
        INSERT INTO guard_windows (migration, flag_version, instance, requests, server_errors, secondary_writes, secondary_failures, latency_buckets)
        VALUES ('signal-events', 1, @instance, @requests, 0, 0, 0, @totals)
        ON CONFLICT (migration, flag_version, instance) DO UPDATE SET
          requests = EXCLUDED.requests, latency_buckets = EXCLUDED.latency_buckets, updated_at = now()
        """, new { instance, requests = totals.Sum(), totals });

    /// <summary>
    /// Stands in for an app instance under load: a session at work that flushes its totals five
    /// times a second, 250 requests at a time, each answered in the latency given for whether the
    /// backfill copied rows since the last flush.
    /// </summary>
    private sealed class IngestStandIn : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _running;

        public int Flushes { get; private set; }

        public IngestStandIn(TestDatabase db, Func<bool, double> milliseconds) => _running = Task.Run(async () =>
        {
            var totals = new long[LatencyBuckets.Count];
            long copiedBefore = 0;
            while (!_stop.IsCancellationRequested)
            {
                var copied = await db.ScalarAsync<long>("SELECT count(*) FROM signal_events");
                totals[LatencyBuckets.IndexOf(milliseconds(copied > copiedBefore))] += 250;
                copiedBefore = copied;
                await FlushAsync(db, "busy", totals);
                Flushes++;
                await Task.Delay(200);
            }
        });

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running;
            _stop.Dispose();
        }
    }
}
