using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SignalFunctions.Demo;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// intelligence-events (backfill-and-validation-plan.md) on real rows: the 90-day window, the
/// derived rows exactly as the plan describes, parity and repair, the validation rules and the
/// gate they block, the reset verb, the capture of Phase 4.5 writes, cut-over and rollback.
/// </summary>
public sealed class IntelligenceEventsMigrationTests
{
    private static readonly DataMigration M = IntelligenceEventsMigration.Declaration;

    /// <summary>A database with the intelligence legacy tables of <paramref name="days"/> days (intelligence_legacy.sql, one campaign a day).</summary>
    internal static async Task<(TestDatabase Db, Engine Engine)> SeededAsync(int days = 120, MigrationOptions? settings = null)
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync(PlanLegacyTables.IntelligenceSql, new { run = "", campaigns = days, days });
        return (db, new Engine(db, settings));
    }

    private static async Task<(TestDatabase Db, Engine Engine)> BackfilledAsync()
    {
        var (db, engine) = await SeededAsync();
        await engine.MoveAsync(M, Stage.DualWrite);
        await engine.BackfillAsync(M);
        return (db, engine);
    }

    private static Task<long> CountAsync(TestDatabase db, string table) => db.ScalarAsync<long>($"SELECT count(*) FROM {table}");

    private static Guid Campaign(int i) => new(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes("campaign" + i)), bigEndian: true);

    [Fact]
    public async Task Backfill_derives_the_plans_rows_for_the_last_90_days_only_and_parity_is_clean()
    {
        var (db, engine) = await SeededAsync();
        await using var _ = db;

        var run = await engine.BackfillAsync(M);

        Assert.Equal("complete", run.Outcome);
        Assert.Equal(90, run.Progress.RowsScanned);
        // One event per agent task of a campaign in the window (days 0..89), none from older ones.
        Assert.Equal(Enumerable.Range(0, 90).Sum(i => i % 4), await CountAsync(db, "intelligence_events"));
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM intelligence_events e JOIN campaigns c ON c.id::text = e.payload ->> 'campaignId'
             WHERE c.created_at < now() - interval '90 days'
            """));
        // Severity from success; the task's completion time and the campaign's tenant.
        Assert.Equal(await db.ScalarAsync<long>("""
            SELECT count(*) FROM campaigns c, jsonb_array_elements(c.metadata -> 'agentTasks') t
             WHERE c.created_at >= now() - interval '90 days' AND t -> 'success' = 'false'::jsonb
            """), await db.ScalarAsync<long>("SELECT count(*) FROM intelligence_events WHERE severity = 'high'"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM intelligence_events WHERE severity NOT IN ('info', 'high')"));
        // One performance row per windowed campaign with impressions: not every sixth (no assets), not every seventh (0 impressions).
        Assert.Equal(Enumerable.Range(0, 90).Count(i => i % 6 != 0 && i % 7 != 0), await CountAsync(db, "prompt_performance"));
        // Campaign 5: 0 clicks, 2 conversions: cvr divides by 1, not by zero.
        var five = await db.QueryAsync<(int Impressions, int Clicks, int Conversions, double Ctr, double Cvr, string Prompt)>(
            "SELECT impressions, clicks, conversions, ctr, cvr, prompt_text FROM prompt_performance WHERE campaign_id = @id", new { id = Campaign(5) });
        Assert.Equal((310, 0, 2, 0.0, 2.0, "Legacy campaign (no prompt recorded)"), Assert.Single(five));
        var eight = Assert.Single(await db.QueryAsync<(int Impressions, int Clicks, double Ctr, double Cvr, string Prompt)>(
            "SELECT impressions, clicks, ctr, cvr, prompt_text FROM prompt_performance WHERE campaign_id = @id", new { id = Campaign(8) }));
        Assert.Equal((316, 23, 23.0 / 316, 3.0 / 23, "Brief for campaign 8"), eight);
        Assert.Equal("Brief for campaign 8", await db.ScalarAsync<string>("SELECT prompt FROM campaigns WHERE id = @id", new { id = Campaign(8) }));
        Assert.Null(await db.ScalarAsync<string?>("SELECT prompt FROM campaigns WHERE id = @id", new { id = Campaign(100) }));
        await engine.AssertCleanAsync(M);
    }

    /// <summary>MigrationOptions as the app binds and validates them at start-up, from these settings.</summary>
    internal static MigrationOptions Configured(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))
                .Append(KeyValuePair.Create("ConnectionStrings:Signal", (string?)"Host=127.0.0.1;Database=never_opened"))).Build();
        using var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddSignalCore(configuration).BuildServiceProvider();
        return services.GetRequiredService<IOptions<MigrationOptions>>().Value;
    }

    [Fact]
    public async Task The_window_is_a_setting_and_rerunning_the_backfill_changes_nothing()
    {
        // As an app setting spells it (Migrations__Arguments__intelligence-events__windowDays).
        var settings = Configured(("Migrations:Arguments:intelligence-events:WindowDays", "30"), ("Migrations:ParityFenceSeconds", "0"));
        Assert.Equal(30, settings.ArgumentOf(M, IntelligenceEventsMigration.WindowDays));
        Assert.Equal(90, settings.ArgumentOf(KpiHistoryMigration.Declaration, KpiHistoryMigration.WindowDays));
        var (db, engine) = await SeededAsync(settings: settings);
        await using var _ = db;

        await engine.BackfillAsync(M);
        Assert.Equal(Enumerable.Range(0, 30).Sum(i => i % 4), await CountAsync(db, "intelligence_events"));
        const string Snapshot = """
            SELECT (SELECT string_agg(ROW(e.*)::text, '|' ORDER BY id) FROM intelligence_events e)
                || (SELECT string_agg(ROW(p.*)::text, '|' ORDER BY id) FROM prompt_performance p)
            """;
        var before = await db.ScalarAsync<string>(Snapshot);

        await using (var connection = await db.DataSource.OpenConnectionAsync())
        {
            await Backfill.ResetAsync(connection, M.Name, CancellationToken.None);
        }
        var again = await engine.BackfillAsync(M);

        Assert.Equal(30, again.Progress.RowsScanned);
        Assert.Equal(before, await db.ScalarAsync<string>(Snapshot));
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task Injected_differences_on_the_new_side_are_found_and_rederived_from_the_legacy_rows()
    {
        var (db, engine) = await BackfilledAsync();
        await using var _ = db;
        await engine.MoveAsync(M, Stage.Shadow);
        await engine.AssertCleanAsync(M);
        await db.ExecuteBehindTheTriggersAsync("DELETE FROM intelligence_events WHERE payload ->> 'campaignId' = @id::text", new { id = Campaign(3) });
        await db.ExecuteBehindTheTriggersAsync("UPDATE prompt_performance SET clicks = clicks + 1 WHERE campaign_id = @id", new { id = Campaign(8) });
        await db.ExecuteBehindTheTriggersAsync("UPDATE campaigns SET prompt = 'edited' WHERE id = @id", new { id = Campaign(10) });
        await db.ExecuteBehindTheTriggersAsync("""UPDATE campaigns SET metadata = jsonb_set(metadata, '{agentTasks,0,success}', 'false') WHERE id = @id""", new { id = Campaign(1) });

        var report = await engine.ParityAsync(M);

        Assert.Equal(new[] { 1, 3, 8, 10 }.Select(i => Campaign(i).ToString()).Order(), report.DifferentKeys.Order());
        var repair = await engine.RepairAsync(M);
        Assert.Equal(4, repair.KeysFixed);
        Assert.Equal("high", await db.ScalarAsync<string>("SELECT severity FROM intelligence_events WHERE payload ->> 'campaignId' = @id::text", new { id = Campaign(1) }));
        await engine.AssertCleanAsync(M);
        await engine.MoveAsync(M, Stage.Live);
    }

    [Fact]
    public async Task Validation_rules_fire_on_bad_rows_and_an_error_blocks_the_gate_with_its_reason()
    {
        var (db, engine) = await BackfilledAsync();
        await using var _ = db;
        await engine.MoveAsync(M, Stage.Shadow);

        // Errors: an orphaned performance row, and a task the legacy log dates tomorrow.
        await db.ExecuteAsync("INSERT INTO prompt_performance (campaign_id, prompt_text, impressions) VALUES (gen_random_uuid(), 'orphan', 10)");
        await db.ExecuteAsync("""
            UPDATE campaigns SET metadata = jsonb_set(metadata, '{agentTasks}', metadata -> 'agentTasks' || jsonb_build_array(
              jsonb_build_object('taskId', 'late', 'agentId', 'Copy', 'success', true, 'completedAt', now() + interval '1 day')))
             WHERE id = @id
            """, new { id = Campaign(2) });
        var report = await engine.ParityAsync(M);

        Assert.True(report.Equal);
        Assert.False(report.Clean);
        Assert.Equal(1, report.Validation.Single(r => r.Name == "orphaned_prompt_performance").Violations);
        Assert.Equal(1, report.Validation.Single(r => r.Name == "future_dated_events").Violations);
        var gate = await engine.StageAsync(M, Stage.Live);
        Assert.True(gate.Refused);
        var reason = Assert.Single(gate.FailedGates);
        Assert.Contains("validation errors", reason, StringComparison.Ordinal);
        Assert.Contains("orphaned_prompt_performance (1", reason, StringComparison.Ordinal);
        Assert.Contains("future_dated_events (1", reason, StringComparison.Ordinal);

        await db.ExecuteAsync("DELETE FROM prompt_performance WHERE prompt_text = 'orphan'");
        await db.ExecuteAsync("UPDATE campaigns SET metadata = jsonb_set(metadata, '{agentTasks}', (metadata -> 'agentTasks') - (-1)) WHERE id = @id", new { id = Campaign(2) });
        await engine.AssertCleanAsync(M);
        await engine.MoveAsync(M, Stage.Live);
    }

    [Fact]
    public async Task Phase_4_5_writes_to_campaigns_assets_and_publish_jobs_are_derived_in_the_writers_transaction()
    {
        var (db, engine) = await BackfilledAsync();
        await using var _ = db;
        var id = Guid.NewGuid();

        await db.ExecuteAsync("""
            INSERT INTO campaigns (id, tenant_id, name, metadata) VALUES (@id, 'tenant-9', 'New', '{"prompt": "Launch", "agentTasks": [{"agentId": "Copy", "success": true}]}');
            INSERT INTO assets (id, campaign_id, kind) VALUES (@asset, @id, 'post');
            INSERT INTO publish_jobs (asset_id, channel, impressions, clicks, conversions) VALUES (@asset, 'x', 50, 5, 1);
            """, new { id, asset = Guid.NewGuid() });
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM intelligence_events WHERE payload ->> 'campaignId' = @id::text", new { id }));
        Assert.Equal((50, 0.1), Assert.Single(await db.QueryAsync<(int, double)>("SELECT impressions, ctr FROM prompt_performance WHERE campaign_id = @id", new { id })));
        Assert.Equal("Launch", await db.ScalarAsync<string>("SELECT prompt FROM campaigns WHERE id = @id", new { id }));

        await db.ExecuteAsync("UPDATE publish_jobs SET impressions = 100 WHERE asset_id IN (SELECT id FROM assets WHERE campaign_id = @id)", new { id });
        Assert.Equal(0.05, await db.ScalarAsync<double>("SELECT ctr FROM prompt_performance WHERE campaign_id = @id", new { id }));
        await db.ExecuteAsync("DELETE FROM campaigns WHERE id = @id", new { id });
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM intelligence_events WHERE payload ->> 'campaignId' = @id::text", new { id }));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM prompt_performance WHERE campaign_id = @id", new { id }));
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task Reset_empties_the_new_side_for_a_clean_redo_up_to_shadow_and_refuses_past_it()
    {
        var (db, engine) = await BackfilledAsync();
        await using var _ = db;
        await engine.MoveAsync(M, Stage.Shadow);
        await engine.AssertCleanAsync(M);
        var events = await CountAsync(db, "intelligence_events");
        await db.ExecuteAsync("INSERT INTO intelligence_events (event_type, entity_type, entity_id, payload, tenant_id) VALUES ('PublishingStatus', 'channel', 'x', '{}', 't')");

        var reset = await OpsCommand.RunAsync(db.ConnectionString, "reset", M.Name);

        Assert.True(reset.Exit == 0, reset.Err);
        Assert.Equal(1L, await CountAsync(db, "intelligence_events"));
        Assert.Equal(0L, await CountAsync(db, "prompt_performance"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM campaigns WHERE prompt IS NOT NULL"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM backfill_progress WHERE migration = @Name", M));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM parity_reports WHERE migration = @Name", M));
        // The capture is back: a write after the reset is derived at once.
        Assert.Equal(12L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_capture_%'"));
        await db.ExecuteAsync("UPDATE campaigns SET name = name || '!' WHERE id = @id", new { id = Campaign(3) });
        Assert.Equal(3L, await db.ScalarAsync<long>("SELECT count(*) FROM intelligence_events WHERE payload ->> 'campaignId' = @id::text", new { id = Campaign(3) }));
        Assert.True((await engine.StageAsync(M, Stage.Live)).Refused);

        await engine.BackfillAsync(M);
        Assert.Equal(events + 1, await CountAsync(db, "intelligence_events"));
        await engine.AssertCleanAsync(M);
        await engine.MoveAsync(M, Stage.Live);

        var refused = await OpsCommand.RunAsync(db.ConnectionString, "reset", M.Name);
        Assert.Equal(1, refused.Exit);
        Assert.Contains("is at live", refused.Err, StringComparison.Ordinal);
        Assert.Equal(events + 1, await CountAsync(db, "intelligence_events"));
        var help = await OpsCommand.RunAsync(db.ConnectionString, "reset", "--help");
        Assert.Equal(0, help.Exit);
        Assert.Contains("shadow", help.Out, StringComparison.Ordinal);
        var usage = await OpsCommand.RunAsync(db.ConnectionString, "reset", "no-such-migration");
        Assert.Equal(2, usage.Exit);
    }

    [Fact]
    public async Task A_migration_that_does_not_declare_its_new_side_cannot_be_reset()
    {
        await using var db = await TestDatabase.CreateAsync();

        var refused = await OpsCommand.RunAsync(db.ConnectionString, "reset", KnownMigrations.SignalEvents);

        Assert.Equal(1, refused.Exit);
        Assert.Contains("does not declare what its new side is", refused.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Off_to_complete_cut_over_and_back_keeps_the_legacy_tables_and_moves_the_capture()
    {
        var (db, engine) = await SeededAsync();
        await using var _ = db;
        const string Triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_capture_%'";

        await engine.MoveAsync(M, Stage.DualWrite);
        Assert.Equal(12L, await db.ScalarAsync<long>(Triggers));
        Assert.Contains((await engine.StageAsync(M, Stage.Shadow)).FailedGates, g => g.Contains("backfill is not complete", StringComparison.Ordinal));
        await engine.BackfillAsync(M);
        foreach (var stage in new[] { Stage.Shadow, Stage.Live, Stage.Rampdown, Stage.Complete })
        {
            await engine.AssertCleanAsync(M);
            await engine.MoveAsync(M, stage);
        }

        var cut = await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);

        Assert.Contains("capture removed", cut, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>(Triggers));
        Assert.Equal("r", await db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'campaigns'"));
        await db.ExecuteAsync("INSERT INTO campaigns (tenant_id, name, metadata) VALUES ('t', 'after', '{\"agentTasks\": [{}]}')");
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM intelligence_events e JOIN campaigns c ON c.id::text = e.payload ->> 'campaignId' WHERE c.name = 'after'"));

        await engine.Cutover.RollBackAsync(M, CancellationToken.None);

        Assert.Equal(12L, await db.ScalarAsync<long>(Triggers));
        var report = await engine.ParityAsync(M);
        Assert.Single(report.DifferentKeys);
        await engine.RepairAsync(M);
        await engine.AssertCleanAsync(M);
        foreach (var stage in new[] { Stage.Rampdown, Stage.Live, Stage.Shadow, Stage.DualWrite, Stage.Off })
        {
            await engine.MoveAsync(M, stage);
        }
        Assert.Equal(0L, await db.ScalarAsync<long>(Triggers));
    }

    [Theory]
    [InlineData("Migrations:Arguments:intelligence_events:windowDays", "45", null)]
    [InlineData("Migrations:Arguments:intelligence-events:windowDays", "0", "must be a whole number from 1 to 36500")]
    [InlineData("Migrations:Arguments:intelligence-events:windowDays", "ninety", "must be a whole number from 1 to 36500")]
    [InlineData("Migrations:Arguments:intelligence-events:window", "30", "intelligence-events has no argument 'window' (it takes: windowDays)")]
    [InlineData("Migrations:Arguments:signal-events:windowDays", "30", "signal-events has no argument 'windowDays' (it takes none)")]
    [InlineData("Migrations:Arguments:intelligence:windowDays", "30", "there is no migration 'intelligence'")]
    public void A_wrong_argument_stops_the_start_with_a_sentence_naming_the_setting(string key, string value, string? error)
    {
        if (error is null)
        {
            // '_' for '-': hosts whose setting names allow no '-' still reach the migration.
            Assert.Equal(45, Configured((key, value)).ArgumentOf(M, IntelligenceEventsMigration.WindowDays));
            return;
        }
        var failure = Assert.Throws<OptionsValidationException>(() => Configured((key, value)));
        Assert.Contains(key, failure.Message, StringComparison.Ordinal);
        Assert.Contains(error, failure.Message, StringComparison.Ordinal);
    }
}
