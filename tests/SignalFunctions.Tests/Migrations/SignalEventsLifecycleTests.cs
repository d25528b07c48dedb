using System.Net.Http.Json;
using System.Text.Json;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// signal-events from off to complete and back with the ops verbs alone, as an operator would:
/// gates refuse what is not ready, repair fixes what parity found, cut-over and rollback are exact.
/// </summary>
public sealed class SignalEventsLifecycleTests
{
    private static Task<(int Exit, string Out, string Err)> Ops(TestDatabase db, params string[] args) => OpsCommand.RunAsync(db.ConnectionString, args);

    [Fact]
    public async Task Gates_refuse_each_step_until_its_precondition_holds_and_force_is_recorded()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(300);

        Assert.Equal(0, (await Ops(db, "stage", "signal-events", "dual_write")).Exit);
        var early = await Ops(db, "stage", "signal-events", "shadow");
        Assert.Equal(1, early.Exit);
        Assert.Contains("backfill is not complete", early.Err, StringComparison.Ordinal);

        Assert.Equal(0, (await Ops(db, "backfill", "signal-events", "--until-done")).Exit);
        await db.AgeRecordedAsync();
        Assert.Equal(0, (await Ops(db, "stage", "signal-events", "shadow")).Exit);
        var noParity = await Ops(db, "stage", "signal-events", "live");
        Assert.Equal(1, noParity.Exit);
        Assert.Contains("parity report is not clean", noParity.Err, StringComparison.Ordinal);

        var parity = await Ops(db, "parity", "signal-events");
        Assert.Equal(0, parity.Exit);
        Assert.Contains("clean", parity.Out, StringComparison.Ordinal);
        await db.ExecuteAsync("""
            INSERT INTO repair_entries (migration, target_side, entity_key, operation, payload, error)
            VALUES ('signal-events', 'new', 'k', 'insert_event', '{}', 'injected')
            """);
        var queued = await Ops(db, "stage", "signal-events", "live");
        Assert.Equal(1, queued.Exit);
        Assert.Contains("1 repair entries are queued", queued.Err, StringComparison.Ordinal);

        var forced = await Ops(db, "stage", "signal-events", "live", "--force", "--reason", "drill");
        Assert.Equal(0, forced.Exit);
        Assert.Contains("forced past", forced.Err, StringComparison.Ordinal);
        var history = await db.QueryAsync<(string To, bool Forced, string? Reason)>(
            "SELECT to_stage, forced, reason FROM stage_history WHERE migration = 'signal-events' ORDER BY id");
        Assert.Equal(["dual_write", "shadow", "live"], history.Select(h => h.To));
        Assert.True(history[^1].Forced);
        Assert.Contains("drill", history[^1].Reason, StringComparison.Ordinal);
        // Stepping back needs no gate.
        Assert.Equal(0, (await Ops(db, "stage", "signal-events", "dual_write")).Exit);
    }

    [Theory]
    [InlineData("dual_write", "legacy")]
    [InlineData("live", "new")]
    public async Task Repair_fixes_parity_keys_from_the_side_the_stage_trusts(string stage, string trusted)
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(400);
        await engine.BackfillAsync(SignalFunctions.Migrations.Declarations.SignalEventsMigration.Declaration);
        await db.SetStageAsync("signal-events", stage);
        await db.AgeRecordedAsync();
        var ids = await db.QueryAsync<Guid>("SELECT id FROM signal_events ORDER BY id LIMIT 3");
        await db.ExecuteAsync("DELETE FROM signal_events WHERE id = @id", new { id = ids[0] });
        await db.ExecuteAsync("DELETE FROM blog_attribution_events WHERE id = @id", new { id = ids[1] });
        await db.ExecuteAsync(
            "UPDATE signal_events SET event_type = CASE WHEN event_type = 'convert' THEN 'click' ELSE 'convert' END WHERE id = @id", new { id = ids[2] });
        var changedType = await db.ScalarAsync<string>("SELECT event_type FROM signal_events WHERE id = @id", new { id = ids[2] });

        Assert.Equal(1, (await Ops(db, "parity", "signal-events")).Exit);
        var repair = await Ops(db, "repair", "signal-events");
        Assert.Equal(0, repair.Exit);
        Assert.Equal(0, (await Ops(db, "parity", "signal-events")).Exit);

        var exists = async (string table, Guid id) => await db.ScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = @id)", new { id });
        var legacyType = await db.ScalarAsync<string>("SELECT event_type FROM blog_attribution_events WHERE id = @id", new { id = ids[2] });
        if (trusted == "legacy")
        {
            Assert.True(await exists("signal_events", ids[0]));         // copied back from legacy
            Assert.False(await exists("signal_events", ids[1]));        // legacy deleted it: so is the copy
            Assert.NotEqual(changedType, await db.ScalarAsync<string>("SELECT event_type FROM signal_events WHERE id = @id", new { id = ids[2] }));
        }
        else
        {
            Assert.False(await exists("blog_attribution_events", ids[0])); // new side deleted it
            Assert.True(await exists("blog_attribution_events", ids[1]));  // copied back from new
            Assert.Equal(changedType, legacyType);
        }
    }

    [Fact]
    public async Task Cutover_serves_old_readers_through_a_view_and_rollback_restores_the_table_with_new_rows()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(200);
        var before = await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events");

        var early = await Ops(db, "cutover", "signal-events");
        Assert.Equal(1, early.Exit);
        Assert.Contains("only at complete", early.Err, StringComparison.Ordinal);

        Assert.Equal(0, (await Ops(db, "stage", "signal-events", "dual_write")).Exit);
        Assert.Equal(0, (await Ops(db, "backfill", "signal-events", "--until-done")).Exit);
        await db.AgeRecordedAsync();
        Assert.Equal(0, (await Ops(db, "parity", "signal-events")).Exit);
        // The reports read signal_daily_rollup: from live it must hold the backfilled rows.
        var stale = await Ops(db, "stage", "signal-events", "complete");
        Assert.Equal(1, stale.Exit);
        Assert.Contains("signal_daily_rollup not refreshed since the last backfill batch (run './run.sh refresh-views')", stale.Err, StringComparison.Ordinal);
        Assert.Equal(0, (await Ops(db, "refresh-views")).Exit);
        Assert.Equal(0, (await Ops(db, "stage", "signal-events", "complete")).Exit);
        var cut = await Ops(db, "cutover", "signal-events");
        Assert.Equal(0, cut.Exit);
        Assert.Equal(1, (await Ops(db, "cutover", "signal-events")).Exit);
        var back = await Ops(db, "stage", "signal-events", "live");
        Assert.Equal(1, back.Exit);
        Assert.Contains("rollback signal-events", back.Err, StringComparison.Ordinal);

        Assert.Equal("v", await db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'blog_attribution_events'"));
        // The old query shape still works, journey included, through the view.
        Assert.Equal(before, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE blog_article_id IS NOT NULL AND metadata ? 'signal_id'"));
        // Written while cut over (stage complete writes the new table only).
        await db.ExecuteAsync("""
            INSERT INTO signal_events (id, signal_id, content_id, target_type, target_id, event_type, source_component)
            VALUES ('00000000-0000-4000-8000-000000000001', gen_random_uuid(), gen_random_uuid(), 'tutor', gen_random_uuid(), 'save', 'tutor_embed')
            """);

        Assert.Equal(0, (await Ops(db, "rollback", "signal-events")).Exit);
        Assert.Equal(1, (await Ops(db, "rollback", "signal-events")).Exit);
        await db.AgeRecordedAsync();
        Assert.Equal("r", await db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'blog_attribution_events'"));
        Assert.Equal(before + 1, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events"));
        Assert.False(await db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'blog_attribution_events_backup')"));
        Assert.Equal(0, (await Ops(db, "stage", "signal-events", "rampdown")).Exit);
        Assert.Equal(0, (await Ops(db, "parity", "signal-events")).Exit);
    }

    [Fact]
    public async Task Rollback_keeps_rows_only_the_backup_has_and_takes_along_deletes_rekeys_and_updates_made_while_cut_over()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        var m = SignalEventsMigration.Declaration;
        await engine.SeedLegacyEventsAsync(100);
        await engine.BackfillAsync(m);
        await db.SetStageAsync(m.Name, "complete");
        var ids = await db.QueryAsync<Guid>("SELECT id FROM blog_attribution_events ORDER BY id LIMIT 4");
        await engine.Cutover.CutOverAsync(m, "test", CancellationToken.None);

        // Through the view, and in the new table directly (as ingest or an operator would).
        await db.ExecuteAsync("DELETE FROM blog_attribution_events WHERE id = @id", new { id = ids[0] });
        await db.ExecuteAsync("DELETE FROM signal_events WHERE id = @id", new { id = ids[1] });
        var rekeyed = await db.ScalarAsync<Guid>("UPDATE blog_attribution_events SET id = gen_random_uuid() WHERE id = @id RETURNING id", new { id = ids[2] });
        await db.ExecuteAsync("UPDATE blog_attribution_events SET event_type = 'refer', target_type = 'referral' WHERE id = @id", new { id = ids[3] });
        // A row only the old side has (nothing copied it): the rollback must not take it for a delete.
        var stray = Guid.NewGuid();
        await db.ExecuteAsync("""
            INSERT INTO blog_attribution_events_backup (id, blog_article_id, target_type, target_id, event_type, source_component)
            VALUES (@stray, gen_random_uuid(), 'tutor', gen_random_uuid(), 'save', 'tutor_embed')
            """, new { stray });
        var truncate = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.ExecuteAsync("TRUNCATE signal_events"));
        Assert.Equal(Npgsql.PostgresErrorCodes.ObjectNotInPrerequisiteState, truncate.SqlState);
        Assert.Contains("signal_events cannot be truncated while signal-events is cut over", truncate.MessageText, StringComparison.Ordinal);

        await engine.Cutover.RollBackAsync(m, CancellationToken.None);

        Assert.Equal((0L, 0L, 0L, 1L, 1L), (await RowsAsync(ids[0]), await RowsAsync(ids[1]), await RowsAsync(ids[2]), await RowsAsync(rekeyed), await RowsAsync(stray)));
        Assert.Equal("refer/referral", await db.ScalarAsync<string>("SELECT event_type || '/' || target_type FROM blog_attribution_events WHERE id = @id", new { id = ids[3] }));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cutover_deletes"));
        await db.ExecuteAsync("TRUNCATE signal_events");

        Task<long> RowsAsync(Guid id) => db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = @id", new { id });
    }

    [Fact]
    public async Task Migrations_endpoint_and_status_show_backfill_parity_history_the_guard_and_what_blocks_the_next_stage()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(120);
        Assert.Equal(0, (await Ops(db, "stage", "signal-events", "dual_write", "--reason", "week 1")).Exit);
        // The verbs alone move it: a timer's backfill or parity would change what blocks the next stage under the test.
        await using var app = await AppProcess.StartAsync(db.ConnectionString, new Dictionary<string, string>
        {
            ["BackfillSchedule"] = FaultKit.NeverSchedule,
            ["ParitySchedule"] = FaultKit.NeverSchedule,
            ["RepairSchedule"] = FaultKit.NeverSchedule,
        });

        // Before the backfill: shadow is blocked, in the words the stage verb refuses it with.
        var blocked = await SignalEventsStateAsync(app);
        Assert.Equal("shadow", blocked.GetProperty("next_stage").GetString());
        var reasons = blocked.GetProperty("next_stage_blocked_by").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Equal(["the backfill is not complete (run './run.sh backfill signal-events --until-done')"], reasons);
        var refused = await Ops(db, "stage", "signal-events", "shadow");
        Assert.Equal(1, refused.Exit);
        Assert.StartsWith($"error: not changed, because {string.Join("; and ", reasons)}.", refused.Err, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^signal-events +shadow: blocked, because the backfill is not complete", (await Ops(db, "status")).Out);
        var guard = blocked.GetProperty("guard");
        Assert.True(guard.GetProperty("enabled").GetBoolean() && guard.GetProperty("watching").GetBoolean());
        Assert.Equal(JsonValueKind.Null, guard.GetProperty("last_action").ValueKind);

        Assert.Equal(0, (await Ops(db, "backfill", "signal-events", "--until-done")).Exit);
        Assert.Equal(0, (await Ops(db, "parity", "signal-events")).Exit);

        var signal = await SignalEventsStateAsync(app);

        Assert.Equal("dual_write", signal.GetProperty("stage").GetString());
        Assert.Equal(("shadow", 0), (signal.GetProperty("next_stage").GetString(), signal.GetProperty("next_stage_blocked_by").GetArrayLength()));
        Assert.True(signal.GetProperty("backfill").GetProperty("completed").GetBoolean());
        Assert.Equal(120, signal.GetProperty("backfill").GetProperty("rows_scanned").GetInt64());
        Assert.True(signal.GetProperty("parity").GetProperty("clean").GetBoolean());
        Assert.Equal("week 1", signal.GetProperty("history")[0].GetProperty("reason").GetString());
        var status = await Ops(db, "status");
        Assert.Contains("complete (120 rows)", status.Out, StringComparison.Ordinal);
        Assert.Contains("clean", status.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^signal-events +shadow: the gates pass$", status.Out);
        // Nothing gates dual_write.
        Assert.Matches(@"(?m)^click-events +dual_write: the gates pass$", status.Out);
        // The last stage has no next one, and nothing blocks it.
        await db.SetStageAsync("signal-events", "complete");
        Assert.True(await app.WaitForStageAsync("signal-events", "complete", TimeSpan.FromSeconds(5)) < TimeSpan.FromSeconds(5));
        var last = await SignalEventsStateAsync(app);
        Assert.Equal((JsonValueKind.Null, 0), (last.GetProperty("next_stage").ValueKind, last.GetProperty("next_stage_blocked_by").GetArrayLength()));
    }

    private static async Task<JsonElement> SignalEventsStateAsync(AppProcess app) =>
        (await app.Client.GetFromJsonAsync<JsonElement>("/api/migrations")).EnumerateArray().Single(m => m.GetProperty("migration").GetString() == "signal-events");

    [Fact]
    public async Task A_cutover_behind_a_long_query_gives_up_after_its_lock_timeout_and_changes_nothing()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.SetStageAsync("signal-events", "complete");
        await using var reader = await db.DataSource.OpenConnectionAsync();
        await using var longQuery = await reader.BeginTransactionAsync();
        await using (var read = new Npgsql.NpgsqlCommand("SELECT count(*) FROM blog_attribution_events", reader, longQuery))
        {
            await read.ExecuteScalarAsync();
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var cut = await Ops(db, "cutover", "signal-events");

        Assert.Equal(1, cut.Exit);
        Assert.Contains("stayed busy", cut.Err, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), watch.Elapsed.ToString());
        await longQuery.RollbackAsync();
        Assert.Equal("r", await db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'blog_attribution_events'"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cutovers"));
    }
}
