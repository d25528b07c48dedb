using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Guard;

/// <summary>
/// What the guard's end-to-end tests share, whichever store holds the flags: signal-events at
/// shadow with every secondary write failing, and the guard's record of stepping it back.
/// </summary>
internal static class GuardKit
{
    public const string Migration = KnownMigrations.SignalEvents;
    public const int MinRequests = 20;

    /// <summary>
    /// The guard's settings, the app's and the verb's alike (like any setting, the same on every
    /// instance), with the guard timer on <paramref name="guardSchedule"/>. The engine's other timers
    /// are off: against a renamed table they would only add noise.
    /// </summary>
    public static Dictionary<string, string> Settings(string guardSchedule) => new()
    {
        ["Guard__MinRequests"] = $"{MinRequests}",
        ["Guard__FlushSeconds"] = "1",
        ["GuardSchedule"] = guardSchedule,
        ["BackfillSchedule"] = FaultKit.NeverSchedule,
        ["ParitySchedule"] = FaultKit.NeverSchedule,
        ["RepairSchedule"] = FaultKit.NeverSchedule,
    };

    /// <summary>Every secondary write of signal-events fails from now on (queued for repair, the request still 202): its new table is renamed away.</summary>
    public static Task FailSecondaryWritesAsync(this TestDatabase db) => db.ExecuteAsync("ALTER TABLE signal_events RENAME TO signal_events_away");

    /// <summary>Polls <paramref name="condition"/> until it holds; after 60 s fails with the apps' output.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, params AppProcess[] apps)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{what} did not happen within 60 s. App output:\n{string.Join("\n---\n", apps.Select(app => app.Output))}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Stepped back once, shadow -> dual_write, for failed secondary writes, all of them (as many as
    /// the guard had seen when it ran, of <paramref name="requests"/>): in guard_actions, in
    /// GET /api/migrations on <paramref name="app"/>, and in `status` (run with <paramref name="verbSettings"/>).
    /// </summary>
    public static async Task AssertSteppedBackOnceAsync(TestDatabase db, AppProcess app, int requests, IDictionary<string, string> verbSettings)
    {
        var action = Assert.Single(await db.QueryAsync<(string From, string To, string Rule, string Reason, long Sample)>(
            "SELECT from_stage, to_stage, rule, reason, sample FROM guard_actions WHERE migration = @Migration", new { Migration }));
        Assert.Equal(("shadow", "dual_write", "secondary_failure_rate"), (action.From, action.To, action.Rule));
        Assert.InRange(action.Sample, MinRequests, requests);
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
        var guard = state.GetProperty("guard");
        Assert.True(guard.GetProperty("enabled").GetBoolean() && guard.GetProperty("watching").GetBoolean());
        Assert.Equal(shown.GetRawText(), guard.GetProperty("last_action").GetRawText());

        var (exit, status, _) = await OpsCommand.RunAsync(db.ConnectionString, verbSettings, "status");
        Assert.Equal(0, exit);
        Assert.Contains("GUARD STEPS BACK", status, StringComparison.Ordinal);
        Assert.Matches($@"{Regex.Escape(Migration)} +shadow -> dual_write  secondary_failure_rate: {Regex.Escape(reason)}", status);
    }
}
