using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// The backfill verb killed with SIGKILL, again and again, for both shapes of declaration: a copy
/// into another table (signal-metrics) and a rebuild in place (click-events).
/// </summary>
public sealed class DeclaredMigrationKillTests
{
    public static readonly TheoryData<string> Migrations = [SignalMetricsMigration.Declaration.Name, ClickEventsMigration.Declaration.Name];

    [Theory(Timeout = 180_000)]
    [MemberData(nameof(Migrations))]
    public async Task A_backfill_killed_again_and_again_resumes_each_time_and_ends_with_clean_parity(string migration)
    {
        const int Rows = 60_000;
        await using var db = await TestDatabase.CreateAsync();
        var m = MigrationCatalog.Find(migration)!;
        string copied;
        if (m == ClickEventsMigration.Declaration)
        {
            await ClickEventsMigrationTests.SeedAsync(db, Rows);
            copied = "SELECT count(*) FROM cuft_click_tracking WHERE events IS NOT NULL";
        }
        else
        {
            await db.ExecuteAsync(ContentTableMigrationTests.Metrics.Seed, new { rows = Rows });
            copied = $"SELECT count(*) FROM {m.Target}";
        }
        await db.SetStageAsync(migration, "dual_write");

        var checkpoints = new List<long>();
        for (var kill = 0; kill < 4; kill++)
        {
            using var process = OpsCommand.StartBackfill(db.ConnectionString, migration);
            await OpsCommand.WaitForProgressAsync(db, process, checkpoints.LastOrDefault(), 2000 + kill * 700);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            checkpoints.Add(await db.ScalarAsync<long>("SELECT coalesce(max(rows_scanned), 0) FROM backfill_progress"));
            // The checkpoint and the copied rows move together: no batch is half there.
            Assert.Equal(checkpoints[^1], await db.ScalarAsync<long>(copied));
        }
        Assert.True(checkpoints.SequenceEqual(checkpoints.Order()), string.Join(", ", checkpoints));
        Assert.True(checkpoints[^1] < Rows, "the kills came too late to interrupt anything");

        using (var last = OpsCommand.StartBackfill(db.ConnectionString, migration))
        {
            await last.WaitForExitAsync();
            Assert.Equal(0, last.ExitCode);
        }
        var report = await new Engine(db).ParityAsync(m);
        Assert.True(report.Clean, $"{report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different");
        Assert.Equal(Rows, report.RowsCompared);
        Assert.Equal(Rows, await db.ScalarAsync<long>(copied));
    }
}
