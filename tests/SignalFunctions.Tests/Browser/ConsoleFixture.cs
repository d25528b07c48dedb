using System.Net;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Browser;

/// <summary>
/// The app (timers off: nothing moves unless a test moves it) over a database holding what the
/// console must show: signal-events at dual_write with its backfill cut off after one batch, a
/// parity report with rows missing and one row different, a failed secondary write in the repair
/// queue, a journey of several events with hostile metadata, and a journey longer than the Signal
/// Path Viewer's limit.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;

    /// <summary>Markup and script in data: the page must show it as text and run none of it.</summary>
    public const string HostileText = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>";

    public const string RefusedWrite = "console test: the new side refuses writes";

    public TestDatabase Db { get; private set; } = null!;
    public AppProcess App { get; private set; } = null!;
    public Engine Engine { get; private set; } = null!;

    /// <summary>Four events sent through the API, the third with hostile metadata.</summary>
    public Guid Journey { get; } = Guid.NewGuid();

    /// <summary>More events than the viewer lists.</summary>
    public Guid LongJourney { get; } = Guid.NewGuid();

    public const int LongJourneyEvents = 1005;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        App = await AppProcess.StartAsync(Db.ConnectionString, new Dictionary<string, string>
        {
            ["BackfillSchedule"] = FaultKit.NeverSchedule,
            ["ParitySchedule"] = FaultKit.NeverSchedule,
            ["RepairSchedule"] = FaultKit.NeverSchedule,
            ["RefreshViewsSchedule"] = FaultKit.NeverSchedule,
            ["GuardSchedule"] = FaultKit.NeverSchedule,
        });
        // Batches of 100, so one batch is a tenth of the seeded rows.
        Engine = new Engine(Db, new MigrationOptions { ParityFenceSeconds = 0, MinBatchSize = 100, MaxBatchSize = 100 });

        await Engine.SeedLegacyEventsAsync(1000);
        await Db.ExecuteAsync("""
            INSERT INTO blog_attribution_events (blog_article_id, session_id, target_type, target_id, event_type, source_component, metadata, created_at)
            SELECT gen_random_uuid(), 'long-journey', 'tutor', gen_random_uuid(), 'impression', 'tutor_embed',
                   jsonb_build_object('signal_id', @journey, 'n', i), now() - make_interval(secs => 5000 - i)
              FROM generate_series(1, @events) AS i
            """, new { journey = LongJourney.ToString(), events = LongJourneyEvents });

        await Engine.MoveAsync(SignalEvents, Stage.DualWrite);
        await App.WaitForStageAsync(SignalEvents.Name, "dual_write", TimeSpan.FromSeconds(10));
        await BackfillOneBatchAsync();

        await PostJourneyAsync();
        await FailOneSecondaryWriteAsync();

        // The new side holds one backfilled row differently from the old.
        await Db.ExecuteAsync("""
            UPDATE signal_events SET event_type = CASE event_type WHEN 'convert' THEN 'click' ELSE 'convert' END
             WHERE id = (SELECT s.id FROM signal_events s JOIN blog_attribution_events b USING (id) WHERE b.metadata ? 'note' ORDER BY s.id LIMIT 1)
            """);
        await Engine.ParityAsync(SignalEvents);
    }

    /// <summary>Runs the backfill until one more batch has committed, then stops it, as a timer run cut short would.</summary>
    public async Task BackfillOneBatchAsync()
    {
        var before = (await Engine.BackfillProgressAsync(SignalEvents)).RowsScanned;
        using var stop = new CancellationTokenSource();
        try
        {
            await Engine.Backfill.RunAsync(SignalEvents, TimeSpan.FromMinutes(1), new StopAfterBatch(before, stop), stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopped after the batch, as asked: its checkpoint committed with it.
        }
        var after = await Engine.BackfillProgressAsync(SignalEvents);
        Assert.True(after.RowsScanned > before && !after.Completed, $"one batch, not done: {before} → {after.RowsScanned} scanned of {after.RowsTotal}");
    }

    private sealed class StopAfterBatch(long before, CancellationTokenSource stop) : IProgress<BackfillProgress>
    {
        public void Report(BackfillProgress value)
        {
            if (value.RowsScanned > before)
            {
                stop.Cancel();
            }
        }
    }

    private async Task PostJourneyAsync()
    {
        var now = DateTimeOffset.UtcNow;
        string[] types = ["impression", "click", "save", "convert"];
        var events = types.Select((type, i) =>
        {
            var e = Events.Signal(Journey, type);
            e["session_id"] = "console-journey";
            e["occurred_at"] = now.AddMinutes(-10 + (3 * i)).ToString("O");
            e["metadata"] = i == 2
                ? new Dictionary<string, object> { ["page"] = "/blog/a", ["note"] = HostileText, ["formula"] = "=HYPERLINK(\"http://x\")" }
                : new Dictionary<string, object> { ["page"] = $"/blog/step-{i}" };
            return e;
        }).ToList();
        // Sent out of order: the viewer orders by time, not by arrival.
        events.Reverse();
        using var response = await App.PostJsonAsync("/api/signal/events", Events.Json(events));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>One dual write whose new-side half fails: the request still succeeds, the failure is counted and queued for repair.</summary>
    private async Task FailOneSecondaryWriteAsync()
    {
        await RepairEntries.BlockInsertsAsync(Db, "signal_events", RefusedWrite);
        try
        {
            using var response = await App.PostJsonAsync("/api/signal/events", Events.Json(Events.Signal()));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        finally
        {
            await RepairEntries.UnblockAsync(Db, "signal_events");
        }
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
        if (Db is not null)
        {
            await Db.DisposeAsync();
        }
    }
}
