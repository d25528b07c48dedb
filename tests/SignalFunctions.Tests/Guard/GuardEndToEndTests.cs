using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Flags;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Guard;

/// <summary>
/// The guard against a real app process: signal-events at shadow, its new table renamed
/// away so every secondary write fails (queued for repair, the request still 202), and the guard,
/// run by the ops verb or by the app's own timer, steps the stage back to dual_write and says why
/// in the history, `status` and GET /api/migrations.
/// </summary>
public sealed class GuardEndToEndTests : IAsyncLifetime
{
    private const string Migration = GuardKit.Migration;
    private const int Requests = 25;
    private static readonly Dictionary<string, string> GuardSettings = GuardKit.Settings(FaultKit.NeverSchedule);
    private TestDatabase _db = null!;
    private AppProcess? _app;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        await _db.DisposeAsync();
    }

    private async Task<AppProcess> StartAtShadowWithFailingSecondaryAsync(string guardSchedule)
    {
        await _db.SetStageAsync(Migration, "shadow");
        _app = await AppProcess.StartAsync(_db.ConnectionString, GuardKit.Settings(guardSchedule));
        await _db.FailSecondaryWritesAsync();
        for (var i = 0; i < Requests; i++)
        {
            await _app.PostSignalAsync();
        }
        return _app;
    }

    private Task<string> StageAsync() => _db.ScalarAsync<string>("SELECT stage FROM stage_flags WHERE migration = @Migration", new { Migration });

    private async Task AssertSteppedBackOnceAsync(AppProcess app)
    {
        Assert.Equal("dual_write", await StageAsync());
        await GuardKit.AssertSteppedBackOnceAsync(_db, app, Requests, GuardSettings);
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task The_guard_verb_steps_a_failing_shadow_back_to_dual_write_once()
    {
        var app = await StartAtShadowWithFailingSecondaryAsync(FaultKit.NeverSchedule);
        // The verb is another process: it sees the app's requests once the app has saved them.
        await GuardKit.UntilAsync(async () => await _db.ScalarAsync<long>(
            "SELECT coalesce(sum(secondary_failures), 0) FROM guard_windows WHERE migration = @Migration", new { Migration }) >= Requests,
            "the app saving its measurements", app);

        var (exit, output, error) = await OpsCommand.RunAsync(_db.ConnectionString, GuardSettings, "guard");

        Assert.True(exit == 0, $"guard exited {exit}: {output}{error}");
        Assert.Contains($"Guard {Migration}: stepped back shadow (100%) -> dual_write: {Requests} of {Requests} secondary writes failed", output, StringComparison.Ordinal);
        await AssertSteppedBackOnceAsync(app);
        Assert.Equal(Requests, await _db.ScalarAsync<long>("SELECT sample FROM guard_actions"));

        // A second pass has no evidence about dual_write yet: it leaves the stage alone.
        var (againExit, again, _) = await OpsCommand.RunAsync(_db.ConnectionString, GuardSettings, "guard");
        Assert.Equal(0, againExit);
        Assert.Contains($"Guard {Migration}: dual_write (100%) within limits: 0 requests", again, StringComparison.Ordinal);
        Assert.Equal("dual_write", await StageAsync());
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task The_guard_timer_in_the_app_steps_a_failing_shadow_back_by_itself()
    {
        // Every 2 s: it may well step back while the requests are still coming, once 20 are in.
        var app = await StartAtShadowWithFailingSecondaryAsync("*/2 * * * * *");

        // The stage is written before the guard records its action: wait for both.
        await GuardKit.UntilAsync(async () => await StageAsync() == "dual_write"
                                     && await _db.ScalarAsync<long>("SELECT count(*) FROM guard_actions") > 0,
            "the Guard timer stepping shadow back", app);

        await AssertSteppedBackOnceAsync(app);
        Assert.Contains("Guard: Guard signal-events: stepped back shadow (100%) -> dual_write", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_guard_verb_does_nothing_when_disabled()
    {
        await _db.SetStageAsync(Migration, "shadow");
        await _db.ExecuteAsync("""
            INSERT INTO repair_entries (migration, target_side, entity_key, operation, payload, error)
            SELECT @Migration, 'new', g::text, 'insert_event', '{}', '42P01: gone' FROM generate_series(1, 3) g
            """, new { Migration });
        var settings = new Dictionary<string, string> { ["Guard__MaxRepairBacklog"] = "2", ["Guard__Enabled"] = "false" };

        var (exit, output, _) = await OpsCommand.RunAsync(_db.ConnectionString, settings, "guard");
        Assert.Equal(0, exit);
        Assert.Equal("Guard: disabled (Guard__Enabled=false)", output.Trim());
        Assert.Equal("shadow", await StageAsync());

        settings["Guard__Enabled"] = "true";
        var (enabledExit, enabled, _) = await OpsCommand.RunAsync(_db.ConnectionString, settings, "guard");
        Assert.Equal(0, enabledExit);
        Assert.Contains($"Guard {Migration}: stepped back shadow (100%) -> dual_write: 3 repair entries queued", enabled, StringComparison.Ordinal);
        Assert.Equal("dual_write", await StageAsync());
    }

    [Theory]
    [InlineData(0, "guard", "--help")]
    [InlineData(2, "guard", "signal-events")]
    [InlineData(2, "guard", "--now")]
    public async Task The_guard_verb_has_help_and_rejects_arguments(int expectedExit, params string[] args)
    {
        var (exit, output, error) = await OpsCommand.RunAsync(_db.ConnectionString, args);
        Assert.Equal(expectedExit, exit);
        Assert.Contains(expectedExit == 0 ? "step the stage back one step" : "--help", expectedExit == 0 ? output : error, StringComparison.Ordinal);
    }
}
