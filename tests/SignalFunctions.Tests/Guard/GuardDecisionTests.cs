using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Guard;

/// <summary>
/// The guard's decision on a real database: each limit trips a step back of exactly one stage with
/// its reason recorded; a small sample, old evidence, a stage at off or a disabled guard change nothing.
/// Measurements go through the real <see cref="IngestMeter"/> and its flush, as an instance's would.
/// </summary>
public sealed class GuardDecisionTests : IAsyncLifetime
{
    private const string Migration = KnownMigrations.SignalEvents;
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    private static GuardOptions Limits(Action<GuardOptions>? change = null)
    {
        var options = new GuardOptions { MinRequests = 100, MinParityRows = 100, MaxRepairBacklog = 5 };
        change?.Invoke(options);
        return options;
    }

    private StageGuard Guard(GuardOptions options)
    {
        var engine = new Engine(_db);
        return new StageGuard(_db.DataSource, engine.Flags, engine.Stages, FixedOptions.Live(options), NullLogger<StageGuard>.Instance);
    }

    /// <summary>An instance's meter under the flags as they are now, as ingest would see them.</summary>
    private async Task<(IngestMeter Meter, StageFlag Flag)> MeterAsync(GuardOptions options)
    {
        var state = new FlagState(TimeProvider.System);
        state.Apply(await new Engine(_db).Flags.LoadAsync(CancellationToken.None));
        return (new IngestMeter(state, Options.Create(options)), state.Current![Migration]);
    }

    /// <summary>Answers as one instance served them: so many requests, so many of them 5xx, so many slower than the given time.</summary>
    private async Task RecordRequestsAsync(GuardOptions options, int requests, int serverErrors = 0, int slow = 0, double slowMilliseconds = 6000)
    {
        var (meter, _) = await MeterAsync(options);
        var now = Stopwatch.GetTimestamp();
        for (var i = 0; i < requests; i++)
        {
            var started = i < slow ? now - (long)(slowMilliseconds / 1000 * Stopwatch.Frequency) : now;
            meter.Answered(Migration, i < serverErrors ? 500 : 202, started);
        }
        // Client errors say nothing of the stage: they are not counted at all.
        meter.Answered(Migration, 400, now);
        await meter.FlushAsync(_db.DataSource, CancellationToken.None);
    }

    private Task<string> StageAsync() => _db.ScalarAsync<string>("SELECT stage FROM stage_flags WHERE migration = @Migration", new { Migration });

    private sealed record Action(string FromStage, string ToStage, string Rule, string Reason, double Measured, double Threshold, long Sample);

    private Task<IReadOnlyList<Action>> ActionsAsync() => _db.QueryAsync<Action>("""
        SELECT from_stage AS FromStage, to_stage AS ToStage, rule, reason, measured, threshold, sample
          FROM guard_actions WHERE migration = @Migration ORDER BY id
        """, new { Migration });

    private async Task AssertSteppedBackAsync(IReadOnlyList<GuardVerdict> verdicts, string from, string to, string rule, double measured, double threshold, long sample)
    {
        var verdict = Assert.Single(verdicts, v => v.Migration == Migration);
        Assert.Equal(to, verdict.Change?.NewStage.Name());
        Assert.Equal(to, await StageAsync());
        var action = Assert.Single(await ActionsAsync());
        Assert.Equal((from, to, rule, sample), (action.FromStage, action.ToStage, action.Rule, action.Sample));
        Assert.Equal(measured, action.Measured, 6);
        Assert.Equal(threshold, action.Threshold, 6);
        // The stage's own history says who and why, like any other change.
        var history = Assert.Single(await _db.QueryAsync<(string From, string To, string Actor, string Reason)>(
            "SELECT from_stage, to_stage, actor, reason FROM stage_history WHERE migration = @Migration", new { Migration }));
        Assert.Equal((from, to, StageGuard.Actor), (history.From, history.To, history.Actor));
        Assert.Equal($"guard: {action.Reason}", history.Reason);
    }

    private async Task AssertUnchangedAsync(IReadOnlyList<GuardVerdict> verdicts, string stage)
    {
        Assert.All(verdicts, v => Assert.Null(v.Change));
        Assert.Equal(stage, await StageAsync());
        Assert.Empty(await ActionsAsync());
    }

    [Fact]
    public async Task An_error_rate_over_the_limit_steps_back_one_stage_and_records_why()
    {
        await _db.SetStageAsync(Migration, "shadow");
        var options = Limits();
        await RecordRequestsAsync(options, requests: 120, serverErrors: 12);

        var verdicts = await Guard(options).RunAsync(CancellationToken.None);

        await AssertSteppedBackAsync(verdicts, "shadow", "dual_write", GuardRules.ErrorRate, 0.1, 0.05, 120);
        Assert.Contains("12 of 120 ingest requests answered 5xx", (await ActionsAsync())[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_rate_at_the_limit_does_not_trip()
    {
        await _db.SetStageAsync(Migration, "shadow");
        var options = Limits();
        await RecordRequestsAsync(options, requests: 100, serverErrors: 5);

        var verdicts = await Guard(options).RunAsync(CancellationToken.None);

        await AssertUnchangedAsync(verdicts, "shadow");
        Assert.Contains("within limits: 100 requests, 5 5xx", Assert.Single(verdicts).Line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Below_the_minimum_sample_even_all_errors_trip_nothing()
    {
        await _db.SetStageAsync(Migration, "live");
        var options = Limits();
        await RecordRequestsAsync(options, requests: 99, serverErrors: 99, slow: 99);
        var (meter, flag) = await MeterAsync(options);
        meter.SecondaryWrites(flag, 99, 99);
        await meter.FlushAsync(_db.DataSource, CancellationToken.None);

        await AssertUnchangedAsync(await Guard(options).RunAsync(CancellationToken.None), "live");
    }

    [Fact]
    public async Task A_p99_over_the_limit_steps_back_and_one_slow_request_in_a_hundred_does_not()
    {
        await _db.SetStageAsync(Migration, "live");
        var options = Limits();
        await RecordRequestsAsync(options, requests: 100, slow: 1);
        await AssertUnchangedAsync(await Guard(options).RunAsync(CancellationToken.None), "live");

        // A second instance's requests add to the same window: now 2 of 200 are slow, still 1 %; then 3.
        await RecordRequestsAsync(options, requests: 100, slow: 1);
        await AssertUnchangedAsync(await Guard(options).RunAsync(CancellationToken.None), "live");
        await RecordRequestsAsync(options, requests: 10, slow: 10);

        var verdicts = await Guard(options).RunAsync(CancellationToken.None);

        var action = Assert.Single(await ActionsAsync());
        Assert.InRange(action.Measured, 6000, 6600); // the upper edge of 6 s's 10 % bucket
        await AssertSteppedBackAsync(verdicts, "live", "shadow", GuardRules.P99Latency, action.Measured, 5000, 210);
    }

    [Fact]
    public async Task Failing_secondary_writes_step_back()
    {
        await _db.SetStageAsync(Migration, "dual_write");
        var options = Limits();
        var (meter, flag) = await MeterAsync(options);
        meter.SecondaryWrites(flag, 150, 30);
        await meter.FlushAsync(_db.DataSource, CancellationToken.None);

        var verdicts = await Guard(options).RunAsync(CancellationToken.None);

        await AssertSteppedBackAsync(verdicts, "dual_write", "off", GuardRules.SecondaryFailureRate, 0.2, 0.05, 150);
    }

    private Task QueueRepairsAsync(int count, string age) => _db.ExecuteAsync($"""
        INSERT INTO repair_entries (migration, target_side, entity_key, operation, payload, error, created_at)
        SELECT @Migration, 'new', g::text, 'insert_event', '{"{"}{"}"}', '42P01: gone', now() - interval '{age}'
          FROM generate_series(1, @count) g
        """, new { Migration, count });

    [Fact]
    public async Task A_repair_backlog_built_since_the_change_steps_back_and_an_older_one_does_not()
    {
        await QueueRepairsAsync(20, "1 hour");
        await _db.SetStageAsync(Migration, "shadow");
        var options = Limits();
        await QueueRepairsAsync(5, "0 seconds");
        await AssertUnchangedAsync(await Guard(options).RunAsync(CancellationToken.None), "shadow");

        await QueueRepairsAsync(1, "0 seconds");
        var verdicts = await Guard(options).RunAsync(CancellationToken.None);

        await AssertSteppedBackAsync(verdicts, "shadow", "dual_write", GuardRules.RepairBacklog, 6, 5, 6);
    }

    private Task RecordParityAsync(long rowsCompared, long missing, string startedAgo) => _db.ExecuteAsync($"""
        INSERT INTO parity_reports (migration, started_at, finished_at, ranges_checked, rows_compared, missing_count, extra_count,
                                    different_count, missing_keys, extra_keys, different_keys, validation, clean)
        VALUES (@Migration, now() - interval '{startedAgo}', now(), 4, @rowsCompared, @missing, 0, 0, '{"{"}{"}"}', '{"{"}{"}"}', '{"{"}{"}"}', '[]', @clean)
        """, new { Migration, rowsCompared, missing, clean = missing == 0 });

    [Fact]
    public async Task Parity_data_loss_over_the_limit_steps_back_and_a_report_from_before_the_change_does_not()
    {
        await RecordParityAsync(1000, 500, "1 hour");
        await _db.SetStageAsync(Migration, "live");
        var options = Limits();
        await RecordParityAsync(1000, 10, "0 seconds");
        await AssertUnchangedAsync(await Guard(options).RunAsync(CancellationToken.None), "live");
        // Below the minimum rows compared, a loss proves nothing either.
        await RecordParityAsync(99, 50, "0 seconds");
        await AssertUnchangedAsync(await Guard(options).RunAsync(CancellationToken.None), "live");

        await RecordParityAsync(2000, 21, "0 seconds");
        var verdicts = await Guard(options).RunAsync(CancellationToken.None);

        await AssertSteppedBackAsync(verdicts, "live", "shadow", GuardRules.ParityLoss, 0.0105, 0.01, 2000);
    }

    [Fact]
    public async Task A_step_back_restarts_the_window_so_the_next_needs_fresh_evidence_and_nothing_ever_advances()
    {
        await _db.SetStageAsync(Migration, "live");
        var options = Limits();
        await RecordRequestsAsync(options, requests: 100, serverErrors: 100);
        await Guard(options).RunAsync(CancellationToken.None);
        Assert.Equal("shadow", await StageAsync());

        // The same evidence again: the old window belongs to the old version and is gone.
        var again = await Guard(options).RunAsync(CancellationToken.None);
        Assert.Equal("shadow", await StageAsync());
        Assert.Contains("within limits: 0 requests", Assert.Single(again).Line, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM guard_windows WHERE migration = @Migration AND requests = 100", new { Migration }));

        // Clean traffic under the new stage: the guard leaves it there, it never moves forward.
        await RecordRequestsAsync(options, requests: 500);
        await Guard(options).RunAsync(CancellationToken.None);
        Assert.Equal("shadow", await StageAsync());

        await RecordRequestsAsync(options, requests: 100, serverErrors: 100);
        await Guard(options).RunAsync(CancellationToken.None);
        Assert.Equal("dual_write", await StageAsync());
        Assert.Equal(["live -> shadow", "shadow -> dual_write"], (await ActionsAsync()).Select(a => $"{a.FromStage} -> {a.ToStage}"));
    }

    [Fact]
    public async Task Two_guards_at_once_step_back_once()
    {
        await _db.SetStageAsync(Migration, "live");
        var options = Limits();
        await RecordRequestsAsync(options, requests: 200, serverErrors: 200);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Guard(options).RunAsync(CancellationToken.None))));

        Assert.Equal("shadow", await StageAsync());
        Assert.Single(await ActionsAsync());
    }

    [Fact]
    public async Task A_migration_at_off_has_nothing_to_step_back()
    {
        var options = Limits();
        await RecordRequestsAsync(options, requests: 200, serverErrors: 200);
        await QueueRepairsAsync(50, "0 seconds");

        var verdicts = await Guard(options).RunAsync(CancellationToken.None);

        Assert.DoesNotContain(verdicts, v => v.Migration == Migration);
        await AssertUnchangedAsync(verdicts, "off");
    }

    [Fact]
    public async Task A_disabled_guard_measures_nothing_and_changes_nothing()
    {
        await _db.SetStageAsync(Migration, "shadow");
        var options = Limits(o => o.Enabled = false);
        await RecordRequestsAsync(options, requests: 200, serverErrors: 200);
        await QueueRepairsAsync(50, "0 seconds");

        var verdicts = await Guard(options).RunAsync(CancellationToken.None);

        Assert.Empty(verdicts);
        await AssertUnchangedAsync(verdicts, "shadow");
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM guard_windows"));
    }
}
