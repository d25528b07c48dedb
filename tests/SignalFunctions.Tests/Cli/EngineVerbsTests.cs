using System.Text.Json;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Cli;

/// <summary>status, parity and repair as the operator runs them, on a database of each test's own.</summary>
public sealed class EngineVerbsTests
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;

    [Fact]
    public async Task Status_without_any_stage_flag_says_so_instead_of_failing()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("DELETE FROM stage_flags");

        var (exit, output, error) = await OpsCommand.RunAsync(db.ConnectionString, "status");

        Assert.Equal(0, exit);
        Assert.Contains("No migration has a stage flag yet", output, StringComparison.Ordinal);
        Assert.Contains("./run.sh stage MIGRATION off", output, StringComparison.Ordinal);
        Assert.Equal("", error);
    }

    [Fact]
    public async Task Status_shows_the_rate_the_last_backfill_error_the_fired_rules_and_the_parity_details()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(50);
        // Dated a day ahead: the future_dated_events rule fires once it is copied.
        await db.ExecuteAsync("UPDATE blog_attribution_events SET created_at = now() + interval '1 day' WHERE id = (SELECT min(id::text)::uuid FROM blog_attribution_events)");
        await engine.BackfillAsync(SignalEvents);
        var gone = await db.ScalarAsync<Guid>("SELECT id FROM signal_events ORDER BY id DESC LIMIT 1");
        await db.ExecuteAsync("DELETE FROM signal_events WHERE id = @gone", new { gone });
        await engine.ParityAsync(SignalEvents);
        await db.ExecuteAsync("UPDATE backfill_progress SET last_error = '23514: refused by a check', last_error_at = now() WHERE migration = 'signal-events'");

        var (exit, output, _) = await OpsCommand.RunAsync(db.ConnectionString, "status");

        Assert.Equal(0, exit);
        Assert.Contains("ROWS/S", output, StringComparison.Ordinal);
        // The table's row; the sections under the table name the migration too.
        var row = output.Split('\n').First(l => l.StartsWith("signal-events ", StringComparison.Ordinal));
        Assert.Matches(@"complete \(50 rows\)\s+[\d,]+\s+1/0/0 miss/extra/diff", row);
        Assert.Contains("BACKFILL ERRORS", output, StringComparison.Ordinal);
        Assert.Contains("23514: refused by a check", output, StringComparison.Ordinal);
        Assert.Contains("VALIDATION", output, StringComparison.Ordinal);
        Assert.Contains("future_dated_events (error): 1 - ", output, StringComparison.Ordinal);

        var (jsonExit, json, _) = await OpsCommand.RunAsync(db.ConnectionString, "status", "--json");
        Assert.Equal(0, jsonExit);
        var state = JsonDocument.Parse(json).RootElement.EnumerateArray().Single(m => m.GetProperty("migration").GetString() == "signal-events");
        var parity = state.GetProperty("parity");
        Assert.True(parity.GetProperty("ranges_checked").GetInt32() > 0);
        Assert.True(parity.GetProperty("duration_seconds").GetDouble() >= 0);
        Assert.Equal(gone.ToString(), Assert.Single(parity.GetProperty("missing_keys").EnumerateArray()).GetString());
        Assert.Empty(parity.GetProperty("extra_keys").EnumerateArray());
        Assert.Empty(parity.GetProperty("different_keys").EnumerateArray());
        var backfill = state.GetProperty("backfill");
        Assert.Equal("23514: refused by a check", backfill.GetProperty("last_error").GetString());
        Assert.Equal(JsonValueKind.String, backfill.GetProperty("last_error_at").ValueKind);
    }

    [Fact]
    public async Task Parity_exits_3_and_says_why_when_another_run_holds_its_lock()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var held = await JobLock.TryTakeAsync(holder, "parity", "signal-events", CancellationToken.None);
        Assert.NotNull(held);

        var (exit, _, error) = await OpsCommand.RunAsync(db.ConnectionString, "parity", "signal-events");

        Assert.Equal(3, exit);
        Assert.Contains("another parity run of signal-events holds its lock", error, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM parity_reports"));
    }

    [Fact]
    public async Task Parity_of_a_cut_over_migration_exits_4_names_the_last_report_and_compares_again_after_the_rollback()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(30);
        await engine.WalkToCompleteAsync(SignalEvents);
        await engine.Cutover.CutOverAsync(SignalEvents, "test", CancellationToken.None);
        const string Reports = "SELECT count(*) FROM parity_reports";
        var reports = await db.ScalarAsync<long>(Reports);
        var last = await db.ScalarAsync<long>("SELECT max(id) FROM parity_reports");

        var (exit, output, error) = await OpsCommand.RunAsync(db.ConnectionString, "parity", "signal-events");

        Assert.Equal(4, exit);
        Assert.Equal("", output);
        Assert.Contains("signal-events is cut over (blog_attribution_events renamed to blog_attribution_events_backup; blog_attribution_events is now a view over signal_events.), so there is no old side of its own to compare.", error, StringComparison.Ordinal);
        Assert.Contains($"The last report, from before the cut-over, is #{last} of ", error, StringComparison.Ordinal);
        Assert.Contains("'./run.sh rollback signal-events' first", error, StringComparison.Ordinal);
        Assert.Equal(reports, await db.ScalarAsync<long>(Reports));

        await engine.Cutover.RollBackAsync(SignalEvents, CancellationToken.None);
        // A fence of an hour: rows backfilled moments ago (however slow a loaded machine) fall inside it.
        var (after, afterOutput, _) = await OpsCommand.RunAsync(db.ConnectionString, new Dictionary<string, string> { ["Migrations__ParityFenceSeconds"] = "3600" }, "parity", "signal-events");

        Assert.Equal(0, after);
        Assert.Equal(reports + 1, await db.ScalarAsync<long>(Reports));
        // Backfilled within the fence, so left out of this report, and it says so.
        Assert.Contains("signal-events: 0 rows compared", afterOutput, StringComparison.Ordinal);
        Assert.Contains("left out: 30 rows written after ", afterOutput, StringComparison.Ordinal);
        var unfenced = await OpsCommand.RunAsync(db.ConnectionString, new Dictionary<string, string> { ["Migrations__ParityFenceSeconds"] = "0" }, "parity", "signal-events");
        Assert.Equal(0, unfenced.Exit);
        Assert.Contains("signal-events: 30 rows compared", unfenced.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("left out", unfenced.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repair_prints_the_parity_keys_it_fixed_beside_the_entries_it_replayed()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).BackfillThenLoseAsync(20, lost: 2);

        var (exit, output, _) = await OpsCommand.RunAsync(db.ConnectionString, "repair", "signal-events");

        Assert.Equal(0, exit);
        Assert.Contains("signal-events: 0 repaired, 0 failed, 0 remaining; 2 parity keys fixed", output, StringComparison.Ordinal);
        Assert.Equal(20L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }
}
