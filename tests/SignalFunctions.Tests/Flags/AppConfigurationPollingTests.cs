using System.Diagnostics;
using System.Net;
using System.Text.Json;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// Issue 4 end to end: two instances polling App Configuration every second. Timed, so in the
/// Timing collection. Each test leaves the store up and the flags valid.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class AppConfigurationPollingTests(PollingInstances fleet) : IClassFixture<PollingInstances>
{
    private readonly TimeSpan _interval = TimeSpan.FromSeconds(fleet.RefreshSeconds);

    /// <summary>The oldest a snapshot gets while App Configuration answers: a poll confirms it every interval (with room for a loaded machine).</summary>
    private TimeSpan FreshAge => _interval + TimeSpan.FromSeconds(2);

    private static double AgeOf(JsonElement flags) => flags.GetProperty("age_seconds").GetDouble();

    private static (bool Legacy, bool New) SidesOf(Stage stage) => (stage.WritePlan().Writes(Side.Legacy), stage.WritePlan().Writes(Side.New));

    private async Task AssertFreshAsync()
    {
        foreach (var app in fleet.Both)
        {
            var flags = await app.FlagsAsync();
            Assert.Equal(JsonValueKind.Null, flags.GetProperty("last_error").ValueKind);
            Assert.InRange(AgeOf(flags), 0, FreshAge.TotalSeconds);
        }
    }

    /// <summary>
    /// Both instances at dual_write, fresh. Then App Configuration misbehaves (<paramref name="begin"/>)
    /// and meanwhile holds a flip to complete that no instance can read: each instance reports
    /// <paramref name="problem"/>, keeps accepting ingest with writes that follow dual_write, and
    /// its snapshot's age grows with the clock (nothing confirms the snapshot). Once it behaves
    /// again (<paramref name="end"/>), both obey the flip it held (after the backoff, at most two
    /// minutes), the problem clears and the age drops back within a poll.
    /// </summary>
    private async Task AssertServedThroughAsync(string problem, Func<Task> begin, Func<Task> end)
    {
        await FlipAndWaitAsync(Stage.DualWrite);
        await AssertFreshAsync();
        await begin();
        try
        {
            fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Complete);
            var first = new Dictionary<AppProcess, (double Age, Stopwatch Since)>();
            foreach (var app in fleet.Both)
            {
                await app.WaitForAsync(flags => flags.GetProperty("last_error").GetString()?.Contains(problem, StringComparison.Ordinal) == true,
                    TimeSpan.FromSeconds(90), $"'{problem}' in /api/health/details");
                first[app] = (AgeOf(await app.FlagsAsync()), Stopwatch.StartNew());
                Assert.Equal(SidesOf(Stage.DualWrite), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
            }
            await Task.Delay(FreshAge + TimeSpan.FromSeconds(2));
            foreach (var app in fleet.Both)
            {
                var flags = await app.FlagsAsync();
                var (age, since) = (AgeOf(flags), first[app].Since.Elapsed.TotalSeconds);
                Assert.Contains(problem, flags.GetProperty("last_error").GetString(), StringComparison.Ordinal);
                Assert.True(flags.GetProperty("loaded").GetBoolean());
                Assert.Equal("dual_write", await app.StageAsync());
                Assert.True(Math.Abs(age - first[app].Age - since) < 1, $"the age went from {first[app].Age} s to {age} s in {since:0.0} s");
                Assert.True(age > FreshAge.TotalSeconds, $"age {age} s");
                Assert.Equal(SidesOf(Stage.DualWrite), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
            }
        }
        finally
        {
            await end();
        }
        foreach (var app in fleet.Both)
        {
            await app.WaitForStageAsync(Stage.Complete, TimeSpan.FromMinutes(3));
            await app.WaitForAsync(flags => flags.GetProperty("last_error").ValueKind == JsonValueKind.Null, TimeSpan.FromSeconds(10), "recovery");
            Assert.Equal(SidesOf(Stage.Complete), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
        }
        await AssertFreshAsync();
    }

    private async Task FlipAndWaitAsync(Stage stage)
    {
        fleet.Store.SetFlag(KnownMigrations.SignalEvents, stage);
        foreach (var app in fleet.Both)
        {
            await app.WaitForStageAsync(stage, TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task A_flag_flipped_in_App_Configuration_reaches_both_instances_within_the_refresh_interval()
    {
        await FlipAndWaitAsync(Stage.Off);

        fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Complete);
        var waits = await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Complete, TimeSpan.FromSeconds(30))));

        foreach (var app in fleet.Both)
        {
            Assert.Equal((false, true), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
            Assert.Equal(AppConfigurationFlagStore.SourceName, (await app.FlagsAsync()).GetProperty("source").GetString());
        }
        Assert.All(waits, wait => Assert.True(wait < _interval + TimeSpan.FromSeconds(1), $"took {wait.TotalMilliseconds:0} ms"));
    }

    [Fact]
    public async Task An_unchanged_store_costs_each_instance_one_304_per_poll()
    {
        await FlipAndWaitAsync(Stage.DualWrite);
        await Task.Delay(_interval * 2); // past the read that applied it
        fleet.Store.ClearRequests();
        var window = Stopwatch.StartNew();

        await Task.Delay(_interval * 8);

        var polls = (int)(window.Elapsed / _interval);
        var requests = fleet.Store.Requests;
        // Conditional reads only, all answered 304: no full listing.
        Assert.All(requests, r => Assert.Equal(("GET", 304, true), (r.Method, r.Status, r.IfNoneMatch is not null)));
        Assert.All(requests, r => Assert.Contains(r.Credential, (string[])[TwoInstances.CredentialA, TwoInstances.CredentialB]));
        foreach (var app in fleet.Both)
        {
            var credential = fleet.CredentialOf(app);
            var mine = requests.Where(r => r.Credential == credential).ToList();
            var flagReads = mine.Where(r => r.Target.Contains("featureflag", StringComparison.Ordinal)).Select(r => r.At).Order().ToList();
            // A flags read every interval (a loaded machine may stretch the polls a little)...
            Assert.True(flagReads.Count >= polls / 2 && flagReads.Count <= polls + 1,
                $"{credential}: {flagReads.Count} flag reads in {polls} intervals");
            // ... one a poll, never two at once ...
            var gaps = flagReads.Zip(flagReads.Skip(1), (earlier, later) => later - earlier).ToList();
            Assert.All(gaps, gap => Assert.True(gap > _interval / 2, $"{credential}: two flag reads {gap.TotalMilliseconds:0} ms apart"));
            // ... and the settings listing joins every sixth poll.
            Assert.InRange(mine.Count - flagReads.Count, 0, polls / 6 + 1);
        }
    }

    [Fact]
    public Task With_App_Configuration_down_both_instances_keep_serving_the_last_snapshot_and_its_age_grows_until_a_refresh() =>
        AssertServedThroughAsync("unreachable", fleet.Store.DownAsync, fleet.Store.UpAsync);

    /// <summary>Every request waits longer than a read may take (15 s; Azure.Core gives each attempt 10 s).</summary>
    [Fact]
    public Task While_App_Configuration_stalls_past_the_read_timeout_both_instances_keep_serving_the_last_snapshot() =>
        AssertServedThroughAsync("did not answer", Misbehave(() => fleet.Store.Stall(10_000, TimeSpan.FromSeconds(40))), Behave);

    /// <summary>Every 200 carries a body that is not JSON (a 304 has none to spoil: the flip held meanwhile makes the reads 200s).</summary>
    [Fact]
    public Task While_App_Configuration_serves_garbage_both_instances_keep_serving_the_last_snapshot() =>
        AssertServedThroughAsync("invalid JSON", Misbehave(() => fleet.Store.ServeGarbage(10_000)), Behave);

    private static Func<Task> Misbehave(Action inject) => () =>
    {
        inject();
        return Task.CompletedTask;
    };

    private Task Behave()
    {
        fleet.Store.ClearInjected();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task While_App_Configuration_throttles_both_instances_keep_serving_and_say_so()
    {
        await FlipAndWaitAsync(Stage.DualWrite);
        // Every read (and every retry of it) answers 429 for a while: more than the client's retries.
        fleet.Store.Throttle(40, 429, "retry-after-ms", "100");

        foreach (var app in fleet.Both)
        {
            await app.WaitForAsync(flags => flags.GetProperty("last_error").GetString()?.Contains("throttling", StringComparison.Ordinal) == true,
                TimeSpan.FromSeconds(60), "the throttling");
            Assert.Equal("dual_write", await app.StageAsync());
            Assert.Equal((true, true), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
        }
        fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Shadow);
        foreach (var app in fleet.Both)
        {
            await app.WaitForStageAsync(Stage.Shadow, TimeSpan.FromMinutes(3));
        }
    }

    [Fact]
    public async Task An_invalid_flag_is_rejected_and_the_instances_keep_its_previous_stage()
    {
        await FlipAndWaitAsync(Stage.Shadow);
        var key = StageFeatureFlag.Key(KnownMigrations.SignalEvents);
        fleet.Store.Seed(key, null, """{"id":"SignalFunctions.signal-events","enabled":true,"variants":[{"name":"warp"}],"allocation":{"default_when_enabled":"warp"}}""",
            FeatureFlagKeys.ContentType);
        try
        {
            foreach (var app in fleet.Both)
            {
                await app.WaitForAsync(flags => flags.GetProperty("rejected").TryGetProperty(key, out _), TimeSpan.FromSeconds(30), "the rejection");
                var flags = await app.FlagsAsync();
                Assert.Contains("unknown stage", flags.GetProperty("rejected").GetProperty(key).GetString(), StringComparison.Ordinal);
                Assert.Equal("shadow", await app.StageAsync());
                Assert.Equal((true, true), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
                Assert.Contains("is rejected", app.Output, StringComparison.Ordinal);
                // Not only a field: health is degraded and its alert says what to do.
                var health = await app.HealthAsync();
                Assert.Equal("degraded", health.GetProperty("status").GetString());
                var alert = Assert.Single(health.GetProperty("alerts").EnumerateArray()).GetString()!;
                Assert.Contains($"stage flag {key} is rejected", alert, StringComparison.Ordinal);
                Assert.Contains("./run.sh stage", alert, StringComparison.Ordinal);
            }
        }
        finally
        {
            fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Shadow);
        }
    }

    [Fact]
    public async Task Every_applied_snapshot_is_saved_as_last_known_good()
    {
        await FlipAndWaitAsync(Stage.Live);

        var saved = await fleet.Db.ScalarAsync<string>("SELECT flags->'signal-events'->>'stage' FROM flag_snapshots WHERE label = ''");

        Assert.Equal("live", saved);
    }

    [Fact]
    public async Task Cold_start_with_App_Configuration_down_serves_the_last_known_good()
    {
        await FlipAndWaitAsync(Stage.Complete);
        await fleet.Store.DownAsync();
        try
        {
            await using var third = await FlagKit.StartAppAsync(fleet.Db, fleet.Store, fleet.RefreshSeconds);

            var flags = await third.FlagsAsync();
            Assert.Equal(LastKnownGood.SourceName, flags.GetProperty("source").GetString());
            Assert.Contains("last-known-good", flags.GetProperty("last_error").GetString(), StringComparison.Ordinal);
            Assert.Equal("complete", await third.StageAsync());
            Assert.Equal((false, true), await fleet.Db.SidesOfAsync(await third.PostSignalAsync()));
        }
        finally
        {
            await fleet.Store.UpAsync();
        }
    }
}

/// <summary>A cold start with App Configuration down and nothing saved: no stage is guessed.</summary>
public sealed class AppConfigurationColdStartTests
{
    [Fact]
    public async Task Without_a_last_known_good_ingest_answers_503_with_Retry_After_and_health_says_why()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var store = await ContractServer.StartAsync();
        await store.DownAsync();
        await using var app = await FlagKit.StartAppAsync(db, store, refreshSeconds: 1);

        using var response = await app.PostJsonAsync("/api/signal/events", Events.Json(Events.Signal()));
        using var health = await app.Client.GetAsync("/api/health");
        var flags = await app.FlagsAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("no last-known-good", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The anonymous probe says down, and nothing of why: that is behind the key, in the details.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("""{"status":"down"}""", await health.Content.ReadAsStringAsync());
        Assert.False(flags.GetProperty("loaded").GetBoolean());
        Assert.Contains("no last-known-good", flags.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events") + await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }
}
