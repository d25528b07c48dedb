using Microsoft.Extensions.DependencyInjection;
using SignalFunctions.Flags;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Flags;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// Stage changes as the stage verb and the guard make them: what a move below dual_write does to
/// the backfill and the gates, and what happens when two changes meet.
/// </summary>
public sealed class StageControlTests
{
    private static readonly DataMigration M = SignalEventsMigration.Declaration;

    /// <summary>dual_write, a complete backfill and a clean parity report: ready for shadow and on.</summary>
    private static async Task<Engine> BackfilledAndCleanAsync(TestDatabase db)
    {
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(200);
        await engine.MoveAsync(M, Stage.DualWrite);
        Assert.Equal("complete", (await engine.BackfillAsync(M)).Outcome);
        await engine.AssertCleanAsync(M);
        return engine;
    }

    [Fact]
    public async Task Going_off_and_back_needs_a_new_backfill_and_parity_before_advancing()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = await BackfilledAndCleanAsync(db);

        await engine.MoveAsync(M, Stage.Off);
        Assert.False((await engine.BackfillProgressAsync(M)).Completed);
        // Written while off: the legacy table only. The old clean report knows nothing of it.
        await engine.SeedLegacyEventsAsync(30);

        var skipAhead = await engine.StageAsync(M, Stage.Live);
        Assert.True(skipAhead.Refused);
        Assert.Contains(skipAhead.FailedGates, g => g.Contains("backfill is not complete", StringComparison.Ordinal));
        await engine.MoveAsync(M, Stage.DualWrite);
        Assert.Contains((await engine.StageAsync(M, Stage.Shadow)).FailedGates, g => g.Contains("backfill is not complete", StringComparison.Ordinal));

        Assert.Equal("complete", (await engine.BackfillAsync(M)).Outcome);
        await engine.MoveAsync(M, Stage.Shadow);
        Assert.Contains((await engine.StageAsync(M, Stage.Live)).FailedGates, g => g.Contains("began before the last backfill batch", StringComparison.Ordinal));
        await engine.AssertCleanAsync(M);
        await engine.RefreshViewsAsync();
        await engine.MoveAsync(M, Stage.Live);
        Assert.Equal(230L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }

    [Fact]
    public async Task A_partial_rollback_below_dual_write_resets_the_backfill_and_a_partial_advance_is_gated()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = await BackfilledAndCleanAsync(db);

        Assert.False((await engine.Stages.ChangeAsync(M.Name, Stage.DualWrite, 50, "test", false, null, CancellationToken.None)).Refused);
        var progress = await engine.BackfillProgressAsync(M);
        Assert.False(progress.Completed);
        Assert.Equal(0, progress.RowsScanned);

        // Half the journeys on dual_write: the rest write the legacy table alone, so a backfill now
        // could never be complete for good, and shadow for 10 % of journeys is gated like shadow.
        var gated = await engine.Stages.ChangeAsync(M.Name, Stage.Shadow, 10, "test", false, null, CancellationToken.None);
        Assert.Contains(gated.FailedGates, g => g.Contains("backfill is not complete", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_backfill_timer_resets_a_backfill_whose_flag_went_below_dual_write_elsewhere()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = await BackfilledAndCleanAsync(db);
        await using var services = TimerServices.For(db);

        await db.SetStageAsync(M.Name, "off"); // as the portal would: no stage verb involved
        var tick = await MigrationTimers.BackfillAsync(services, CancellationToken.None);

        Assert.Contains(tick.Logs, l => l.StartsWith($"Backfill {M.Name}: reset", StringComparison.Ordinal));
        Assert.False((await engine.BackfillProgressAsync(M)).Completed);
        var again = await MigrationTimers.BackfillAsync(services, CancellationToken.None);
        Assert.DoesNotContain(again.Logs, l => l.Contains("reset", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_backfill_verb_refuses_below_dual_write_and_says_what_to_run()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(20);
        await db.SetStageAsync(M.Name, "dual_write", 40);

        var (exit, _, error) = await OpsCommand.RunAsync(db.ConnectionString, "backfill", M.Name);

        Assert.Equal(1, exit);
        Assert.Contains("is at dual_write (40%)", error, StringComparison.Ordinal);
        Assert.Contains($"run './run.sh stage {M.Name} dual_write' first", error, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }

    [Fact]
    public async Task The_parity_gate_wants_a_report_begun_after_the_last_batch()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = await BackfilledAndCleanAsync(db);
        await engine.MoveAsync(M, Stage.Shadow);
        // A report that was running while the last batch committed: it finished after the batch,
        // but may have checked the batch's range before the batch wrote it.
        await db.ExecuteAsync("""
            UPDATE parity_reports SET started_at = b.last_batch_at - interval '1 second', finished_at = b.last_batch_at + interval '1 second'
              FROM backfill_progress b WHERE b.migration = parity_reports.migration AND parity_reports.migration = @m
            """, new { m = M.Name });

        var refused = await engine.StageAsync(M, Stage.Live);

        Assert.Contains(refused.FailedGates, g => g.Contains("began before the last backfill batch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_parity_gate_wants_the_last_batch_compared_not_left_out_inside_the_fence()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(200);
        await engine.MoveAsync(M, Stage.DualWrite);
        Assert.Equal("complete", (await engine.BackfillAsync(M)).Outcome);
        await engine.MoveAsync(M, Stage.Shadow);
        await engine.RefreshViewsAsync();
        // Begun right after the backfill with an hour's fence: every copied row is "in flight".
        var fenced = await new Engine(db, new MigrationOptions { ParityFenceSeconds = 3600 }).ParityAsync(M);
        Assert.True(fenced.Clean);
        Assert.Equal(0, fenced.RowsCompared);
        Assert.Equal(200, fenced.RowsFenced);

        var refused = await engine.StageAsync(M, Stage.Live);

        Assert.True(refused.Refused);
        Assert.Contains(refused.FailedGates, g => g.Contains("left the last backfill batch out, as written within its fence", StringComparison.Ordinal));
        var compared = await engine.ParityAsync(M);
        Assert.Equal(200, compared.RowsCompared);
        Assert.Equal(0, compared.RowsFenced);
        await engine.MoveAsync(M, Stage.Live);
    }

    [Fact]
    public async Task A_cut_over_waits_for_a_stage_change_under_way_and_then_refuses_the_stage_it_left()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await db.SetStageAsync(M.Name, "complete");

        // A stage change holds the stage lock while it writes rampdown (as StageControl does).
        await using var change = await db.DataSource.OpenConnectionAsync();
        await using var tx = await change.BeginTransactionAsync();
        await StageControl.LockStageAsync(change, tx, M.Name, CancellationToken.None);
        var cutover = engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);
        // Wait for the state, not a duration: the cut-over is queued on the lock.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await db.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'") == 0)
        {
            Assert.False(cutover.IsCompleted, $"the cut-over did not wait for the stage lock: {cutover.Status}");
            Assert.True(DateTime.UtcNow < deadline, "the cut-over never queued on the stage lock");
            await Task.Delay(20);
        }
        await db.SetStageAsync(M.Name, "rampdown");
        await tx.CommitAsync();

        var refused = await Assert.ThrowsAsync<CutoverRefusedException>(() => cutover);
        Assert.Contains("is at rampdown (100%)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cutovers"));
    }

    [Fact]
    public async Task A_change_based_on_a_flag_that_moved_since_is_refused_and_writes_nothing()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.MoveAsync(M, Stage.DualWrite);
        var read = (await engine.Flags.LoadAsync(CancellationToken.None))[M.Name];
        await engine.MoveAsync(M, Stage.Off); // someone else, after the read
        var history = await db.ScalarAsync<long>("SELECT count(*) FROM stage_history");

        var stale = await engine.Stages.ChangeAsync(M.Name, Stage.Off, 100, "guard", false, "step back", CancellationToken.None, basedOn: read);

        Assert.True(stale.Refused);
        Assert.Empty(stale.FailedGates);
        Assert.Contains("changed since it was read at dual_write (100%)", stale.Conflict, StringComparison.Ordinal);
        Assert.Equal(history, await db.ScalarAsync<long>("SELECT count(*) FROM stage_history"));
        Assert.Equal(Stage.Off, (await engine.Flags.LoadAsync(CancellationToken.None))[M.Name].Stage);
    }

    [Fact]
    public async Task Two_steps_back_from_the_same_reading_land_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await db.SetStageAsync(M.Name, "rampdown");
        var read = (await engine.Flags.LoadAsync(CancellationToken.None))[M.Name];

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            engine.Stages.ChangeAsync(M.Name, Stage.Live, 100, "guard", false, "step back", CancellationToken.None, basedOn: read))));

        Assert.Single(results, r => !r.Refused);
        Assert.Equal(3, results.Count(r => r.Conflict is not null));
        Assert.Equal(Stage.Live, (await engine.Flags.LoadAsync(CancellationToken.None))[M.Name].Stage);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM stage_history WHERE to_stage = 'live'"));
    }

    [Fact]
    public async Task The_embedded_store_writes_only_over_the_version_it_was_given()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new Engine(db).Flags;
        var read = (await store.LoadAsync(CancellationToken.None))[M.Name];
        await db.SetStageAsync(M.Name, "dual_write");

        var conflict = await Assert.ThrowsAsync<StageFlagConflictException>(() =>
            store.SetStageAsync(M.Name, Stage.Shadow, 100, "test", read, CancellationToken.None));

        Assert.Contains($"version {read.Version} was read, it is {read.Version + 1} now", conflict.Message, StringComparison.Ordinal);
        Assert.Equal(Stage.DualWrite, (await store.LoadAsync(CancellationToken.None))[M.Name].Stage);
        var fresh = (await store.LoadAsync(CancellationToken.None))[M.Name];
        Assert.Equal(Stage.Shadow, (await store.SetStageAsync(M.Name, Stage.Shadow, 100, "test", fresh, CancellationToken.None)).NewStage);
    }

    [Fact]
    public async Task The_App_Configuration_store_writes_only_over_the_flag_it_was_given()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var server = await ContractServer.StartAsync();
        server.SetFlag(M.Name, Stage.DualWrite);
        await using var services = TimerServices.For(db, new Dictionary<string, string?> { ["AppConfig:ConnectionString"] = server.ConnectionString });
        var store = services.GetRequiredService<IStageFlagStore>();
        var read = (await store.LoadAsync(CancellationToken.None))[M.Name];
        server.SetFlag(M.Name, Stage.Off); // the portal, after the read

        var conflict = await Assert.ThrowsAsync<StageFlagConflictException>(() =>
            store.SetStageAsync(M.Name, Stage.Shadow, 100, "test", read, CancellationToken.None));

        Assert.Contains("dual_write (100%) was read, it is off (100%)", conflict.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Requests, r => r.Method == "PUT");
        await Assert.ThrowsAsync<StageFlagConflictException>(() =>
            store.SetStageAsync("click-events", Stage.DualWrite, 100, "test", read with { Migration = "click-events" }, CancellationToken.None));
        var fresh = (await store.LoadAsync(CancellationToken.None))[M.Name];
        Assert.Equal(Stage.DualWrite, (await store.SetStageAsync(M.Name, Stage.DualWrite, 100, "test", fresh, CancellationToken.None)).NewStage);
    }
}
