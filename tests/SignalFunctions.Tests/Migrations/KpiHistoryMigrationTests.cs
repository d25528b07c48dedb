using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// kpi-history (backfill-and-validation-plan.md step 3) on real rows: kpi_snapshots of the last 90
/// days copied to kpi_history, parity and repair, the negative KPI warning, the capture, reset.
/// </summary>
public sealed class KpiHistoryMigrationTests
{
    private static readonly DataMigration M = KpiHistoryMigration.Declaration;

    /// <summary>3 tenants × 4 metrics a day of KPI snapshots, for <paramref name="days"/> days.</summary>
    private static Task<(TestDatabase Db, Engine Engine)> SeededAsync(int days = 120) => IntelligenceEventsMigrationTests.SeededAsync(days);

    private const string Copied = """SELECT count(*) FROM kpi_history WHERE metadata @> '{"source": "kpi_snapshots"}'""";

    [Fact]
    public async Task Backfill_copies_the_last_90_days_of_snapshots_and_parity_finds_and_repairs_a_difference_in_kpi_history()
    {
        var (db, engine) = await SeededAsync();
        await using var _ = db;
        await engine.MoveAsync(M, Stage.DualWrite);
        // Phase 5 writes its own rows: no legacy counterpart, and parity leaves them alone.
        await db.ExecuteAsync("INSERT INTO kpi_history (metric_name, metric_value, period, tenant_id) VALUES ('win_rate', 0.3, '7d', 'tenant-0')");

        var run = await engine.BackfillAsync(M);

        Assert.Equal("complete", run.Outcome);
        Assert.Equal(90L * 3 * 4, run.Progress.RowsScanned);
        Assert.Equal(90L * 3 * 4, await db.ScalarAsync<long>(Copied));
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM kpi_snapshots s JOIN kpi_history h USING (id)
             WHERE (s.tenant_id, s.metric_name, s.metric_value, s.period, s.department, s.captured_at)
                   IS DISTINCT FROM (h.tenant_id, h.metric_name, h.metric_value, h.period, h.department, h.created_at)
            """));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM kpi_history h JOIN kpi_snapshots s USING (id) WHERE s.captured_at < now() - interval '90 days'"));
        await engine.AssertCleanAsync(M);
        await engine.MoveAsync(M, Stage.Shadow);

        var ids = await db.QueryAsync<Guid>("SELECT id FROM kpi_history WHERE metadata ? 'source' ORDER BY id LIMIT 2");
        await db.ExecuteBehindTheTriggersAsync("UPDATE kpi_history SET metric_value = metric_value + 1 WHERE id = @id", new { id = ids[0] });
        await db.ExecuteBehindTheTriggersAsync("DELETE FROM kpi_history WHERE id = @id", new { id = ids[1] });
        var report = await engine.ParityAsync(M);

        Assert.Equal([ids[0].ToString()], report.DifferentKeys);
        Assert.Equal([ids[1].ToString()], report.MissingKeys);
        Assert.Equal(2, (await engine.RepairAsync(M)).KeysFixed);
        await engine.AssertCleanAsync(M);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM kpi_history WHERE NOT metadata ? 'source' OR metadata IS NULL"));
    }

    [Fact]
    public async Task A_negative_legacy_kpi_is_copied_by_the_capture_and_warned_about_without_blocking_and_reset_keeps_phase_5_rows()
    {
        var (db, engine) = await SeededAsync(30);
        await using var _ = db;
        await engine.MoveAsync(M, Stage.DualWrite);
        await engine.BackfillAsync(M);
        await engine.MoveAsync(M, Stage.Shadow);
        await db.ExecuteAsync("INSERT INTO kpi_history (metric_name, metric_value, period, tenant_id) VALUES ('win_rate', 0.3, '7d', 'tenant-0')");

        // The Phase 4.5 app records a falling run rate: copied in its transaction.
        var id = await db.ScalarAsync<Guid>("""
            INSERT INTO kpi_snapshots (tenant_id, metric_name, metric_value, period, department) VALUES ('tenant-2', 'arr_change', -1200, '30d', 'executive')
            RETURNING id
            """);
        Assert.Equal(-1200.0, await db.ScalarAsync<double>("SELECT metric_value FROM kpi_history WHERE id = @id", new { id }));
        var report = await engine.ParityAsync(M);

        var rule = report.Validation.Single(r => r.Name == "negative_kpi_values");
        Assert.Equal((1L, "warning"), (rule.Violations, rule.Severity));
        Assert.True(report.Clean);
        Assert.False((await engine.StageAsync(M, Stage.Live)).Refused);
        await engine.MoveAsync(M, Stage.Shadow);

        await db.ExecuteAsync("DELETE FROM kpi_snapshots WHERE id = @id", new { id });
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM kpi_history WHERE id = @id", new { id }));
        var reset = await OpsCommand.RunAsync(db.ConnectionString, "reset", M.Name);
        Assert.True(reset.Exit == 0, reset.Err);
        Assert.Equal(0L, await db.ScalarAsync<long>(Copied));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM kpi_history"));
        await engine.BackfillAsync(M);
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task Off_to_complete_cut_over_and_back_ends_and_resumes_the_copy_and_leaves_kpi_snapshots_a_table()
    {
        var (db, engine) = await SeededAsync(30);
        await using var _ = db;
        const string Triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'kpi_snapshots_capture%'";
        const string Kinds = "SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('kpi_snapshots', 'kpi_history')";
        await engine.MoveAsync(M, Stage.DualWrite);
        var triggers = await db.ScalarAsync<long>(Triggers);
        Assert.NotEqual(0L, triggers);

        var run = await engine.BackfillAsync(M);

        Assert.Equal(("complete", 30L * 3 * 4), (run.Outcome, run.Progress.RowsScanned));
        await engine.AssertCleanAsync(M);
        await engine.MoveAsync(M, Stage.Shadow);
        var changed = await db.ScalarAsync<Guid>("SELECT id FROM kpi_history ORDER BY id LIMIT 1");
        await db.ExecuteBehindTheTriggersAsync("UPDATE kpi_history SET period = 'wrong' WHERE id = @changed", new { changed });
        Assert.Equal([changed.ToString()], (await engine.ParityAsync(M)).DifferentKeys);
        Assert.Equal(1, (await engine.RepairAsync(M)).KeysFixed);
        foreach (var stage in new[] { Stage.Live, Stage.Rampdown, Stage.Complete })
        {
            await engine.AssertCleanAsync(M);
            await engine.MoveAsync(M, stage);
        }

        var cutOver = await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);

        Assert.Contains("capture removed", cutOver, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>(Triggers));
        // No views: the plan keeps the old table as it is, and Phase 5 writes kpi_history itself.
        Assert.Equal("kpi_history:r,kpi_snapshots:r", await db.ScalarAsync<string>(Kinds));
        var late = await db.ScalarAsync<Guid>("""
            INSERT INTO kpi_snapshots (tenant_id, metric_name, metric_value, period) VALUES ('tenant-1', 'pipeline', 42, '7d') RETURNING id
            """);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM kpi_history WHERE id = @late", new { late }));

        await engine.Cutover.RollBackAsync(M, CancellationToken.None);

        Assert.Equal(triggers, await db.ScalarAsync<long>(Triggers));
        Assert.Equal("kpi_history:r,kpi_snapshots:r", await db.ScalarAsync<string>(Kinds));
        // What the Phase 4.5 app wrote meanwhile is found and copied, as the rollback's summary says.
        Assert.Equal([late.ToString()], (await engine.ParityAsync(M)).MissingKeys);
        Assert.Equal(1, (await engine.RepairAsync(M)).KeysFixed);
        await engine.AssertCleanAsync(M);
        foreach (var stage in new[] { Stage.Rampdown, Stage.Live, Stage.Shadow, Stage.DualWrite, Stage.Off })
        {
            await engine.MoveAsync(M, stage);
        }
        Assert.Equal(0L, await db.ScalarAsync<long>(Triggers));
    }
}
