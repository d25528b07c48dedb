using System.Diagnostics;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>The engine under kills, concurrent ingest and stage changes: nothing lost, no false alarm.</summary>
public sealed class EngineFaultTests
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;

    // The load comes from one address; the per-client limit is not what these tests are about.
    private static readonly Dictionary<string, string> Unlimited = new() { ["Ingest__RateLimitPerSecond"] = "0" };

    private static Process StartBackfill(TestDatabase db) => OpsCommand.StartBackfill(db.ConnectionString, "signal-events");

    [Fact(Timeout = 180_000)]
    public async Task A_backfill_killed_again_and_again_resumes_each_time_and_ends_with_clean_parity()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(100_000);
        await db.SetStageAsync("signal-events", "dual_write");

        var checkpoints = new List<long>();
        for (var kill = 0; kill < 5; kill++)
        {
            using var process = StartBackfill(db);
            await OpsCommand.WaitForProgressAsync(db, process, checkpoints.LastOrDefault(), 2000 + kill * 700);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            checkpoints.Add(await db.ScalarAsync<long>("SELECT coalesce(max(rows_scanned), 0) FROM backfill_progress"));
            // The checkpoint and the copied rows move together: no batch is half there.
            Assert.Equal(checkpoints[^1], await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        }
        Assert.True(checkpoints.SequenceEqual(checkpoints.Order()), string.Join(", ", checkpoints));
        Assert.True(checkpoints[^1] < 100_000, "the kills came too late to interrupt anything");

        using (var last = StartBackfill(db))
        {
            await last.WaitForExitAsync();
            Assert.Equal(0, last.ExitCode);
        }
        await db.AgeRecordedAsync();
        var report = await new Engine(db).ParityAsync(SignalEvents);
        Assert.True(report.Clean, $"{report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different");
        Assert.Equal(100_000, report.RowsCompared);
    }

    [Fact(Timeout = 180_000)]
    public async Task Ingest_during_backfill_and_parity_loses_nothing_and_raises_no_false_mismatch()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db, new MigrationOptions { ParityFenceSeconds = 0, MinBatchSize = 500, MaxBatchSize = 2000 });
        await engine.SeedLegacyEventsAsync(30_000);
        await db.SetStageAsync("signal-events", "dual_write");
        await using var app = await AppProcess.StartAsync(db.ConnectionString, Unlimited);
        await using var load = new EventLoad(app);

        var backfill = await engine.BackfillAsync(SignalEvents);
        // No fence at all: one snapshot for both sides is what keeps in-flight dual writes from looking like divergence.
        var reports = new List<ParityReport>();
        for (var i = 0; i < 3; i++)
        {
            reports.Add(await engine.ParityAsync(SignalEvents));
        }
        var accepted = await load.StopAsync();

        Assert.Equal("complete", backfill.Outcome);
        Assert.All(reports, r => Assert.True(r.Clean, $"{r.MissingCount} missing, {r.ExtraCount} extra, {r.DifferentCount} different"));
        Assert.True(accepted.Count > 100, $"only {accepted.Count} events were sent during the run");
        var ids = accepted.ToArray();
        Assert.Equal(ids.Length, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = ANY(@ids)", new { ids }));
        Assert.Equal(ids.Length, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = ANY(@ids)", new { ids }));
        Assert.True((await engine.ParityAsync(SignalEvents)).Clean);
    }

    [Fact(Timeout = 180_000)]
    public async Task Rolling_back_from_rampdown_to_dual_write_under_load_loses_no_event_on_either_side()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.SetStageAsync("signal-events", "rampdown");
        await using var app = await AppProcess.StartAsync(db.ConnectionString, Unlimited);
        await using var load = new EventLoad(app);

        // Load on both sides of the change, as many events each, however fast the machine runs them.
        await load.UntilAcceptedAsync(100);
        await db.SetStageAndWaitAsync(app, "signal-events", "dual_write");
        await load.UntilAcceptedAsync(load.Accepted.Count + 100);
        var ids = (await load.StopAsync()).ToArray();

        Assert.Empty(load.Refused);
        Assert.Equal(ids.Length, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = ANY(@ids)", new { ids }));
        Assert.Equal(ids.Length, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = ANY(@ids)", new { ids }));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM repair_entries"));
    }
}
