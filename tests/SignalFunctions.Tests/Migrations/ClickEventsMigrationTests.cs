using Npgsql;
using SignalFunctions.Ingest;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>click-events: the chronology rebuilt by the seed's rules, qualification parity, repair both ways, cut-over and rollback.</summary>
public sealed class ClickEventsMigrationTests
{
    private static readonly DataMigration Clicks = ClickEventsMigration.Declaration;

    private const string Created = "2025-01-01T10:00:00.000Z";
    private const string Updated = "2025-01-02T10:00:00.000Z";
    private const string FormSubmit = $$"""{"event": "form_submit", "timestamp": "{{Created}}"}""";
    private const string Lead = $$"""{"event": "generate_lead", "timestamp": "{{Updated}}"}""";

    /// <summary>Old clicks, as the legacy tracker left them: no chronology.</summary>
    internal static Task SeedAsync(TestDatabase db, int rows) => db.ExecuteAsync("""
        INSERT INTO cuft_click_tracking (click_id, platform, utm_source, utm_medium, qualified, score, date_created, date_updated)
        SELECT 'old-' || i, (ARRAY['google', 'facebook', NULL])[1 + i % 3], CASE WHEN i % 2 = 0 THEN 'newsletter' END, 'email',
               i % 5 = 0, i % 100, now() - make_interval(days => i % 90, hours => 2), now() - make_interval(days => i % 90)
          FROM generate_series(1, @rows) AS i
        """, new { rows });

    private static Task<long> AddClickAsync(TestDatabase db, string clickId, string? utmSource, bool qualified, string? events, int dropped = 0, int score = 9) =>
        db.ScalarAsync<long>("""
            INSERT INTO cuft_click_tracking (click_id, utm_source, qualified, score, date_created, date_updated, events, events_dropped)
            VALUES (@clickId, @utmSource, @qualified, @score, @created::timestamptz, @updated::timestamptz, @events::jsonb, @dropped)
            RETURNING id
            """, new { clickId, utmSource, qualified, score, created = Created, updated = Updated, events, dropped });

    private static async Task AssertEventsAsync(TestDatabase db, string clickId, string expected, int dropped = 0)
    {
        var (actual, wanted, actualDropped) = (await db.QueryAsync<(string, string, int)>(
            "SELECT events::text, @expected::jsonb::text, events_dropped FROM cuft_click_tracking WHERE click_id = @clickId", new { clickId, expected })).Single();
        Assert.Equal(wanted, actual);
        Assert.Equal(dropped, actualDropped);
    }

    /// <summary>One write of ClickWriter's, on the sides the stage names, in one transaction.</summary>
    private static async Task IngestAsync(TestDatabase db, string clickId, params (Side Side, string Operation, string Payload)[] writes)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var touch = new NpgsqlCommand("""
            INSERT INTO cuft_click_tracking (click_id) VALUES (@clickId) ON CONFLICT (click_id) DO UPDATE SET date_updated = now()
            """, connection, tx))
        {
            touch.Parameters.AddWithValue("clickId", clickId);
            await touch.ExecuteNonQueryAsync();
        }
        foreach (var (side, operation, payload) in writes)
        {
            await ClickWriter.ApplyAsync(connection, tx, clickId, side, operation, payload, 100, CancellationToken.None);
        }
        await tx.CommitAsync();
    }

    [Fact]
    public async Task Backfill_rebuilds_old_chronologies_by_the_seed_rules_and_leaves_recorded_entries_alone()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await AddClickAsync(db, "utm-only", "google", false, null);
        await AddClickAsync(db, "utm-and-lead", "google", true, null);
        await AddClickAsync(db, "empty-utm", "", false, null);
        await AddClickAsync(db, "lead-with-recorded-click", null, true, """[{"event": "phone_click", "timestamp": "2025-01-01T11:00:00.000Z"}]""");
        await AddClickAsync(db, "all-recorded", "x", true,
            """[{"event": "form_submit", "timestamp": "2025-01-01T11:00:00.000Z"}, {"event": "status_update", "timestamp": "2025-01-01T12:00:00.000Z", "qualified": true, "score": 9}]""");
        await AddClickAsync(db, "recorded-lead", "x", true, """[{"event": "email_click", "timestamp": "2025-01-01T11:30:00.000Z"}, {"event": "generate_lead", "timestamp": "2025-01-01T12:30:00.000Z"}]""");
        // The legacy columns saw a status the chronology missed: the column's state is appended, newest.
        await AddClickAsync(db, "status-missed", null, true, """[{"event": "status_update", "timestamp": "2025-01-01T11:30:00.000Z", "qualified": false, "score": 1}]""");
        await AddClickAsync(db, "unqualified-since", null, false, """[{"event": "generate_lead", "timestamp": "2025-01-01T11:30:00.000Z"}]""", score: 3);

        var run = await engine.BackfillAsync(Clicks);

        Assert.Equal("complete", run.Outcome);
        Assert.Equal(7, run.Progress.RowsCopied);
        await AssertEventsAsync(db, "utm-only", $"[{FormSubmit}]");
        await AssertEventsAsync(db, "utm-and-lead", $"[{FormSubmit}, {Lead}]");
        await AssertEventsAsync(db, "empty-utm", "[]");
        await AssertEventsAsync(db, "lead-with-recorded-click", $$"""[{{Lead}}, {"event": "phone_click", "timestamp": "2025-01-01T11:00:00.000Z"}]""");
        await AssertEventsAsync(db, "all-recorded",
            """[{"event": "form_submit", "timestamp": "2025-01-01T11:00:00.000Z"}, {"event": "status_update", "timestamp": "2025-01-01T12:00:00.000Z", "qualified": true, "score": 9}]""");
        await AssertEventsAsync(db, "recorded-lead", $$"""[{{FormSubmit}}, {"event": "email_click", "timestamp": "2025-01-01T11:30:00.000Z"}, {"event": "generate_lead", "timestamp": "2025-01-01T12:30:00.000Z"}]""");
        await AssertEventsAsync(db, "status-missed", $$"""
            [{{Lead}}, {"event": "status_update", "timestamp": "2025-01-01T11:30:00.000Z", "qualified": false, "score": 1},
             {"event": "status_update", "timestamp": "{{Updated}}", "qualified": true, "score": 9}]
            """);
        await AssertEventsAsync(db, "unqualified-since", $$"""
            [{"event": "generate_lead", "timestamp": "2025-01-01T11:30:00.000Z"}, {"event": "status_update", "timestamp": "{{Updated}}", "qualified": false, "score": 3}]
            """);
        await engine.AssertCleanAsync(Clicks);

        // Idempotent: from the start again, nothing changes.
        var before = await db.QueryAsync<string>("SELECT events::text FROM cuft_click_tracking ORDER BY id");
        await using (var connection = await db.DataSource.OpenConnectionAsync())
        {
            await Backfill.ResetAsync(connection, Clicks.Name, CancellationToken.None);
        }
        var again = await engine.BackfillAsync(Clicks);
        Assert.Equal(0, again.Progress.RowsCopied);
        Assert.Equal(before, await db.QueryAsync<string>("SELECT events::text FROM cuft_click_tracking ORDER BY id"));
    }

    [Fact]
    public async Task The_rebuild_caps_like_ingest_counts_what_fell_off_once_and_leaves_alone_what_it_adds_nothing_to()
    {
        await using var db = await TestDatabase.CreateAsync();
        var settings = new MigrationOptions { ParityFenceSeconds = 0 };
        settings.SqlArguments[MigrationOptions.MaxEventsPerClickArgument] = 3;
        var engine = new Engine(db, settings);
        const string X1 = """{"event": "phone_click", "timestamp": "2025-01-01T11:30:00.000Z"}""";
        const string X2 = """{"event": "phone_click", "timestamp": "2025-01-01T12:30:00.000Z"}""";
        const string X3 = """{"event": "phone_click", "timestamp": "2025-01-01T13:30:00.000Z"}""";
        await AddClickAsync(db, "room-for-one", "google", true, $"[{X1}, {X2}]");
        await AddClickAsync(db, "already-capped", "google", true, $"[{X1}, {X2}, {X3}]", dropped: 2);
        await AddClickAsync(db, "over-a-lowered-cap", null, false, $$"""[{{X1}}, {{X2}}, {{X3}}, {"event": "email_click", "timestamp": "2025-01-01T14:30:00.000Z"}]""");

        await engine.BackfillAsync(Clicks);
        await using (var connection = await db.DataSource.OpenConnectionAsync())
        {
            await Backfill.ResetAsync(connection, Clicks.Name, CancellationToken.None);
        }
        var again = await engine.BackfillAsync(Clicks);

        // In front, the form_submit is the oldest: it is what the cap drops, counted once.
        await AssertEventsAsync(db, "room-for-one", $"[{Lead}, {X1}, {X2}]", dropped: 1);
        // Its oldest entries are gone: nothing goes in front; the missed qualification is appended.
        await AssertEventsAsync(db, "already-capped", $$"""[{{X2}}, {{X3}}, {"event": "status_update", "timestamp": "{{Updated}}", "qualified": true, "score": 9}]""", dropped: 3);
        await AssertEventsAsync(db, "over-a-lowered-cap", $$"""[{{X1}}, {{X2}}, {{X3}}, {"event": "email_click", "timestamp": "2025-01-01T14:30:00.000Z"}]""");
        Assert.Equal(0, again.Progress.RowsCopied);
        var report = await engine.ParityAsync(Clicks);
        Assert.Equal(1, report.Validation.Single(r => r.Name == "chronologies_over_the_cap").Violations);
        Assert.True(report.Clean);
    }

    [Theory]
    [InlineData("dual_write")]
    [InlineData("live")]
    public async Task Parity_compares_qualification_and_repair_follows_the_side_the_stage_trusts(string stageName)
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await SeedAsync(db, 300);
        await engine.MoveAsync(Clicks, Stage.DualWrite);
        await engine.BackfillAsync(Clicks);
        await engine.MoveAsync(Clicks, Stage.Shadow);
        await engine.AssertCleanAsync(Clicks);
        StageRules.TryParse(stageName, out var stage);
        if (stage == Stage.Live)
        {
            await engine.MoveAsync(Clicks, Stage.Live);
        }
        var unqualified = await db.QueryAsync<long>("SELECT id FROM cuft_click_tracking WHERE NOT qualified ORDER BY id LIMIT 2");
        var qualified = await db.ScalarAsync<long>("SELECT id FROM cuft_click_tracking WHERE qualified ORDER BY id LIMIT 1");
        // Each side alone, as a lost secondary write would leave them.
        await db.ExecuteAsync("UPDATE cuft_click_tracking SET qualified = true, score = 77 WHERE id = @id", new { id = unqualified[0] });
        await db.ExecuteAsync("""
            UPDATE cuft_click_tracking
               SET events = events || '[{"event": "status_update", "timestamp": "2025-02-01T00:00:00.000Z", "qualified": true, "score": 42}]'
             WHERE id = @id
            """, new { id = unqualified[1] });
        // And a click the new side never wrote.
        var unwritten = await db.ScalarAsync<long>("UPDATE cuft_click_tracking SET events = NULL WHERE id = @qualified RETURNING id", new { qualified });

        var report = await engine.ParityAsync(Clicks);
        Assert.Equal((0L, 0L), (report.MissingCount, report.ExtraCount));
        Assert.Equal(new[] { unqualified[0], unqualified[1], unwritten }.Select(i => i.ToString()).Order(), report.DifferentKeys.Order());

        await engine.RepairAsync(Clicks);

        await engine.AssertCleanAsync(Clicks);
        var legacy = await db.QueryAsync<(bool Qualified, int Score)>(
            "SELECT qualified, score FROM cuft_click_tracking WHERE id = ANY(@ids) ORDER BY id", new { ids = unqualified.ToArray() });
        var lastEntry = await db.ScalarAsync<string>("SELECT events -> -1 ->> 'qualified' FROM cuft_click_tracking WHERE id = @id", new { id = unqualified[1] });
        if (stage == Stage.DualWrite)
        {
            // The legacy columns win: the chronology learns the first click's lead; the second one's status is outvoted.
            Assert.Equal((true, 77), legacy[0]);
            Assert.False(legacy[1].Qualified);
            Assert.Equal("false", lastEntry);
        }
        else
        {
            // The chronology wins: the first click has no lead recorded; the second is qualified with its status's score.
            Assert.Equal((false, 77), legacy[0]);
            Assert.Equal((true, 42), legacy[1]);
        }
        Assert.False(await db.ScalarAsync<bool>("SELECT events IS NULL FROM cuft_click_tracking WHERE id = @unwritten", new { unwritten }));
        Assert.True(await db.ScalarAsync<bool>("SELECT qualified FROM cuft_click_tracking WHERE id = @unwritten", new { unwritten }));
    }

    [Fact]
    public async Task Ingest_dual_writes_keep_parity_clean_though_tracked_clicks_have_utm_source_without_form_submit()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await SeedAsync(db, 100);
        await engine.MoveAsync(Clicks, Stage.DualWrite);
        await engine.BackfillAsync(Clicks);

        await IngestAsync(db, "tracked", (Side.Legacy, "set_columns", """{"platform": "google", "utm_source": "ads"}"""), (Side.New, "init_events", "{}"));
        await IngestAsync(db, "tracked", (Side.New, "append_event", """{"event": "phone_click", "timestamp": "2025-03-01T00:00:00.000Z"}"""));
        await IngestAsync(db, "tracked",
            (Side.Legacy, "set_columns", """{"qualified": true, "score": 12}"""),
            (Side.New, "append_event", """{"event": "status_update", "timestamp": "2025-03-01T00:01:00.000Z", "qualified": true, "score": 12}"""));
        await IngestAsync(db, "old-3", (Side.Legacy, "set_columns", """{"qualified": true}"""),
            (Side.New, "append_event", """{"event": "generate_lead", "timestamp": "2025-03-01T00:02:00.000Z"}"""));
        await IngestAsync(db, "old-5",
            (Side.Legacy, "set_columns", """{"qualified": false, "score": 0}"""),
            (Side.New, "append_event", """{"event": "status_update", "timestamp": "2025-03-01T00:03:00.000Z", "qualified": false, "score": 0}"""));

        await engine.AssertCleanAsync(Clicks);
        Assert.False(await db.ScalarAsync<bool>("SELECT events @> '[{\"event\": \"form_submit\"}]' FROM cuft_click_tracking WHERE click_id = 'tracked'"));
    }

    [Fact]
    public async Task An_entry_with_a_client_event_id_is_appended_once_however_often_replayed_and_the_rebuild_keeps_it()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await AddClickAsync(db, "retried", "google", false, null);
        const string WithId = """{"event": "phone_click", "timestamp": "2025-03-01T00:00:00.000Z", "id": "0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20"}""";
        const string WithoutId = """{"event": "email_click", "timestamp": "2025-03-01T00:01:00.000Z"}""";

        // A retry wrote the entry; then the repair job replays the first attempt's failed write of it.
        await IngestAsync(db, "retried", (Side.New, "append_event", WithId));
        await IngestAsync(db, "retried", (Side.New, "append_event", WithId));
        // Without an id nothing tells two sends apart: each is appended, as before ids existed.
        await IngestAsync(db, "retried", (Side.New, "append_event", WithoutId));
        await IngestAsync(db, "retried", (Side.New, "append_event", WithoutId));
        await engine.BackfillAsync(Clicks);

        await AssertEventsAsync(db, "retried", $"[{FormSubmit}, {WithId}, {WithoutId}, {WithoutId}]");
        await engine.AssertCleanAsync(Clicks);
    }

    [Fact]
    public async Task Validation_rules_fire_on_future_dated_and_malformed_entries()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await SeedAsync(db, 50);
        await engine.BackfillAsync(Clicks);
        await db.ExecuteAsync("""
            UPDATE cuft_click_tracking SET events = events || '[{"event": "phone_click", "timestamp": "2999-01-01T00:00:00.000Z"}]' WHERE click_id = 'old-1';
            UPDATE cuft_click_tracking SET events = events || '[{"timestamp": "2025-01-01T00:00:00.000Z"}]' WHERE click_id = 'old-2';
            """);

        var report = await engine.ParityAsync(Clicks);

        Assert.True(report.Equal);
        Assert.False(report.Clean);
        Assert.Equal(1, report.Validation.Single(r => r.Name == "future_dated_chronology_entries").Violations);
        Assert.Equal(1, report.Validation.Single(r => r.Name == "malformed_chronology_entries").Violations);
    }

    [Fact]
    public async Task Off_to_complete_cut_over_renames_the_dropped_columns_and_rollback_restores_them_up_to_date()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await SeedAsync(db, 200);
        var utmRows = await db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking WHERE utm_source IS NOT NULL AND platform IS NOT NULL");

        await engine.MoveAsync(Clicks, Stage.DualWrite);
        Assert.True((await engine.StageAsync(Clicks, Stage.Shadow)).Refused);
        await engine.BackfillAsync(Clicks);
        await engine.MoveAsync(Clicks, Stage.Shadow);
        Assert.True((await engine.StageAsync(Clicks, Stage.Live)).Refused);
        await engine.AssertCleanAsync(Clicks);
        await engine.MoveAsync(Clicks, Stage.Live);
        await engine.AssertCleanAsync(Clicks);
        await engine.MoveAsync(Clicks, Stage.Rampdown);
        await engine.AssertCleanAsync(Clicks);
        await engine.MoveAsync(Clicks, Stage.Complete);

        var summary = await engine.Cutover.CutOverAsync(Clicks, "test", CancellationToken.None);

        Assert.Contains("utm_source and .platform renamed to *_backup", summary, StringComparison.Ordinal);
        var gone = await Assert.ThrowsAsync<PostgresException>(() => db.ScalarAsync<long>("SELECT count(utm_source) FROM cuft_click_tracking"));
        Assert.Equal(PostgresErrorCodes.UndefinedColumn, gone.SqlState);
        Assert.Equal(utmRows, await db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking WHERE utm_source_backup IS NOT NULL AND platform_backup IS NOT NULL"));
        // At complete only the chronology is written, while cut over too.
        await IngestAsync(db, "old-1", (Side.New, "append_event", """{"event": "status_update", "timestamp": "2025-03-01T00:00:00.000Z", "qualified": true, "score": 55}"""));
        await IngestAsync(db, "new-at-complete", (Side.New, "init_events", "{}"));
        Assert.True((await engine.StageAsync(Clicks, Stage.Rampdown)).Refused);
        // One table, no backup: a click deleted while cut over has no old copy to come back from.
        await db.ExecuteAsync("DELETE FROM cuft_click_tracking WHERE click_id = 'old-2'");

        var restored = await engine.Cutover.RollBackAsync(Clicks, CancellationToken.None);

        Assert.Contains("brought up to date from the chronology", restored, StringComparison.Ordinal);
        Assert.Equal(utmRows, await db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking WHERE utm_source IS NOT NULL AND platform IS NOT NULL"));
        Assert.Equal((true, 55), (await db.QueryAsync<(bool, int)>("SELECT qualified, score FROM cuft_click_tracking WHERE click_id = 'old-1'")).Single());
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking WHERE click_id = 'old-2'"));
        await engine.MoveAsync(Clicks, Stage.Rampdown);
        await engine.AssertCleanAsync(Clicks);
        await engine.MoveAsync(Clicks, Stage.Off);
    }

    [Fact]
    public async Task A_bigint_keyed_backfill_scans_each_click_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db, new MigrationOptions { ParityFenceSeconds = 0, MinBatchSize = 100, MaxBatchSize = 100 });
        await SeedAsync(db, 1234);

        var run = await engine.BackfillAsync(Clicks);

        // Keys 99 and 158 sort the other way as text: the checkpoint must follow the numbers.
        Assert.Equal((1234L, 1234L, 1234L), (run.Progress.RowsScanned, run.Progress.RowsCopied, run.Progress.RowsTotal ?? 0));
        Assert.Equal(14L, await db.ScalarAsync<long>("SELECT batches FROM backfill_progress WHERE migration = 'click-events'"));
    }

    [Fact]
    public async Task A_backfill_interrupted_again_and_again_resumes_from_its_checkpoint_and_ends_clean()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db, new MigrationOptions { ParityFenceSeconds = 0, MinBatchSize = 150, MaxBatchSize = 150 });
        await SeedAsync(db, 12_000);

        var checkpoints = await BackfillInterruptions.RunUntilCompleteAsync(
            engine, Clicks, () => db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking WHERE events IS NOT NULL"));

        Assert.True(checkpoints.Count > 3, $"only {checkpoints.Count} runs: nothing was interrupted");
        Assert.Equal(12_000, checkpoints[^1]);
        await engine.AssertCleanAsync(Clicks);
    }
}
