using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Guard;

/// <summary>
/// The guard against a real app process (issue 4 §5): signal-events at shadow, its new table renamed
/// away so every secondary write fails (queued for repair, the request still 202), and the guard,
/// run by the ops verb or by the app's own timer, steps the stage back to dual_write and says why
/// in the history, `status` and GET /api/migrations.
/// </summary>
public sealed class GuardEndToEndTests : IAsyncLifetime
{
    private const string Migration = "signal-events";
    private const int Requests = 25;

    /// <summary>The app's and the verb's alike: like any setting, the guard's are the same on every instance.</summary>
    private static readonly Dictionary<string, string> GuardSettings = new()
    {
        ["Guard__MinRequests"] = "20",
        ["Guard__FlushSeconds"] = "1",
    };
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
        _app = await AppProcess.StartAsync(_db.ConnectionString, new Dictionary<string, string>(GuardSettings)
        {
            ["GuardSchedule"] = guardSchedule,
            // The engine's timers would only add noise against a renamed table.
            ["BackfillSchedule"] = FaultKit.NeverSchedule,
            ["ParitySchedule"] = FaultKit.NeverSchedule,
            ["RepairSchedule"] = FaultKit.NeverSchedule,
        });
        await _db.ExecuteAsync("ALTER TABLE signal_events RENAME TO signal_events_away");
        for (var i = 0; i < Requests; i++)
        {
            using var response = await _app.PostJsonAsync("/api/signal/events", Events.Json(Events.Signal()));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        return _app;
    }

    private Task<string> StageAsync() => _db.ScalarAsync<string>("SELECT stage FROM stage_flags WHERE migration = @Migration", new { Migration });

    private static async Task UntilAsync(Func<Task<bool>> condition, string what, AppProcess app)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{what} did not happen within 60 s. App output:\n{app.Output}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Stepped back once, for failed secondary writes, all of them: as many as the guard had seen when it ran.</summary>
    private async Task AssertSteppedBackOnceAsync(AppProcess app)
    {
        Assert.Equal("dual_write", await StageAsync());
        var action = Assert.Single(await _db.QueryAsync<(string From, string To, string Rule, string Reason, long Sample)>(
            "SELECT from_stage, to_stage, rule, reason, sample FROM guard_actions WHERE migration = @Migration", new { Migration }));
        Assert.Equal(("shadow", "dual_write", "secondary_failure_rate"), (action.From, action.To, action.Rule));
        Assert.InRange(action.Sample, 20, Requests);
        var reason = $"{action.Sample} of {action.Sample} secondary writes failed (100";
        Assert.StartsWith(reason, action.Reason, StringComparison.Ordinal);

        var migrations = await app.Client.GetFromJsonAsync<JsonElement>("/api/migrations");
        var state = migrations.EnumerateArray().Single(m => m.GetProperty("migration").GetString() == Migration);
        Assert.Equal("dual_write", state.GetProperty("stage").GetString());
        var shown = Assert.Single(state.GetProperty("guard_actions").EnumerateArray());
        Assert.Equal(("shadow", "dual_write", "secondary_failure_rate"),
            (shown.GetProperty("from_stage").GetString(), shown.GetProperty("to_stage").GetString(), shown.GetProperty("rule").GetString()));
        Assert.Equal(1.0, shown.GetProperty("measured").GetDouble());
        Assert.Equal(0.05, shown.GetProperty("threshold").GetDouble());
        Assert.Equal("guard", state.GetProperty("history")[0].GetProperty("actor").GetString());

        var (exit, status, _) = await OpsCommand.RunAsync(_db.ConnectionString, "status");
        Assert.Equal(0, exit);
        Assert.Contains("GUARD STEPS BACK", status, StringComparison.Ordinal);
        Assert.Matches($@"{Regex.Escape(Migration)} +shadow -> dual_write  secondary_failure_rate: {Regex.Escape(reason)}", status);
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task The_guard_verb_steps_a_failing_shadow_back_to_dual_write_once()
    {
        var app = await StartAtShadowWithFailingSecondaryAsync(FaultKit.NeverSchedule);
        // The verb is another process: it sees the app's requests once the app has saved them.
        await UntilAsync(async () => await _db.ScalarAsync<long>(
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
        await UntilAsync(async () => await StageAsync() == "dual_write"
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
