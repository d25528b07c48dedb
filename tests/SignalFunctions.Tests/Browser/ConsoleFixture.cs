using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Partitions;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Browser;

/// <summary>
/// The app (timers off: nothing moves unless a test moves it) over a database holding what the
/// console must show: signal-events at dual_write with its backfill cut off after one batch, a
/// parity report with rows missing and one row different, a failed secondary write in the repair
/// queue, a journey of several events with hostile metadata, and a journey longer than the Signal
/// Path Viewer's limit; clicks with chronologies over a month, one of them hostile; and signal_events
/// with a month archived and dropped by retention (Events__RetentionMonths=2) and older history due
/// but kept, because signal-events is past off.
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

    public const int RetentionMonths = 2;

    /// <summary>The partition retention archived and dropped before the stage left off.</summary>
    public string RetiredPartition { get; private set; } = "";

    public const int RetiredRows = 40;

    private readonly string _archives = Directory.CreateTempSubdirectory("console-archives-").FullName;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        var settings = FaultKit.TimersOff();
        settings["Events__RetentionMonths"] = $"{RetentionMonths}";
        App = await AppProcess.StartAsync(Db.ConnectionString, settings);
        // Batches of 100, so one batch is a tenth of the seeded rows.
        Engine = new Engine(Db, new MigrationOptions { ParityFenceSeconds = 0, MinBatchSize = 100, MaxBatchSize = 100 });

        await Engine.SeedLegacyEventsAsync(1000);
        await Db.ExecuteAsync("""
            INSERT INTO blog_attribution_events (blog_article_id, session_id, target_type, target_id, event_type, source_component, metadata, created_at)
            SELECT gen_random_uuid(), 'long-journey', 'tutor', gen_random_uuid(), 'impression', 'tutor_embed',
                   jsonb_build_object('signal_id', @journey, 'n', i), now() - make_interval(secs => 5000 - i)
              FROM generate_series(1, @events) AS i
            """, new { journey = LongJourney.ToString(), events = LongJourneyEvents });

        await RetireAMonthAsync();
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
        await SeedClicksAsync();
    }

    /// <summary>
    /// History up to three months back, then a partition a month: the oldest month is filled and
    /// archived as retention does it (the gate lets it while signal-events is off); the history stays due.
    /// </summary>
    private async Task RetireAMonthAsync()
    {
        RetiredPartition = (await Db.PastMonthsAsync(3, keepHistory: true))[0];
        await Db.FillAsync(RetiredPartition, RetiredRows);
        await using var services = TimerServices.For(Db, new Dictionary<string, string?> { ["Events:RetentionMonths"] = $"{RetentionMonths}" });
        var run = await services.GetRequiredService<PartitionRetention>().RetireAsync(
            new RetireRequest(RetiredPartition, _archives, DryRun: false, "console-test"), null, CancellationToken.None);
        Assert.Equal("dropped", Assert.Single(run!.Retired).State);
    }

    /// <summary>A click whose utm values a spreadsheet would run as formulas or a page as markup.</summary>
    public const string HostileClick = "console-hostile";

    public static readonly IReadOnlyDictionary<string, string> HostileUtm = new Dictionary<string, string>
    {
        ["utm_medium"] = "=HYPERLINK(\"http://evil.example/\",\"open\")",
        ["utm_campaign"] = "-1<script>window.__pwned=3</script><b>bold</b>",
        ["utm_term"] = "+1+1",
        ["utm_content"] = "@SUM(A1:A2)",
    };

    /// <summary>
    /// 30 clicks, one a day back from yesterday, with 1 to 3 chronology entries of the four types an
    /// hour apart (every tenth without a chronology, as legacy clicks are until the backfill; one
    /// that lost older entries to the cap), some qualified; and today a hostile one.
    /// </summary>
    private async Task SeedClicksAsync()
    {
        await Db.ExecuteAsync("""
            INSERT INTO cuft_click_tracking (click_id, platform, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
                                             qualified, score, date_created, date_updated, events)
            SELECT 'console-' || lpad(i::text, 2, '0'), 'google', 'google',
                   (ARRAY['cpc', 'organic', 'email'])[1 + i % 3], (ARRAY['spring_sale', 'tutor_match'])[1 + i % 2],
                   CASE WHEN i % 4 = 0 THEN 'maths tutor' END, 'ad_' || i,
                   i % 5 = 0, CASE WHEN i % 5 = 0 THEN 60 + i ELSE 0 END,
                   d.day, d.day + interval '5 hours',
                   CASE WHEN i % 10 <> 7 THEN (
                     SELECT jsonb_agg(jsonb_build_object(
                              'event', (ARRAY['phone_click', 'email_click', 'form_submit', 'generate_lead'])[1 + (i + k) % 4],
                              'timestamp', to_char((d.day + make_interval(hours => k)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ORDER BY k)
                       FROM generate_series(1, 1 + i % 3) AS k) END
              FROM generate_series(1, 30) AS i
             CROSS JOIN LATERAL (SELECT date_trunc('day', now()) - make_interval(days => i) + make_interval(mins => 7 * i) AS day) d;
            UPDATE cuft_click_tracking SET events_dropped = 3 WHERE click_id = 'console-11';
            INSERT INTO cuft_click_tracking (click_id, platform, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
                                             qualified, score, date_created, date_updated, events)
            VALUES (@click, 'web', 'direct', @medium, @campaign, @term, @content, true, 90, now() - interval '3 hours', now() - interval '2 hours',
                    jsonb_build_array(
                      jsonb_build_object('event', 'status_update', 'timestamp', to_char((now() - interval '2 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                         'qualified', true, 'score', 90),
                      jsonb_build_object('event', 'phone_click', 'timestamp', to_char((now() - interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))))
            """, new
        {
            click = HostileClick,
            medium = HostileUtm["utm_medium"],
            campaign = HostileUtm["utm_campaign"],
            term = HostileUtm["utm_term"],
            content = HostileUtm["utm_content"],
        });
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
        Directory.Delete(_archives, recursive: true);
    }
}
