using System.Net;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// Ingest routes each journey by Microsoft.FeatureManagement's variant. The
/// reference here is a FeatureManagement of its own, fed the flag JSON App Configuration would
/// hold through its configuration schema: nothing of ours between the flag and the answer.
/// </summary>
public sealed class IngestRoutingTests : IClassFixture<AppFixture>
{
    private readonly AppFixture _fixture;

    public IngestRoutingTests(AppFixture fixture) => _fixture = fixture;

    public static TheoryData<Stage, int> Rollouts => new()
    {
        { Stage.DualWrite, 37 },
        { Stage.Live, 50 },
        { Stage.Complete, 1 },
        { Stage.Shadow, 0 },
        { Stage.Rampdown, 100 },
    };

    [Theory]
    [MemberData(nameof(Rollouts))]
    public async Task The_router_gives_every_journey_FeatureManagement_s_variant(Stage stage, int percent)
    {
        var state = StateWith(stage, percent);
        var router = new StageRouter(state);
        var reference = Reference(stage, percent);

        var route = router.For(KnownMigrations.SignalEvents);
        var disagreements = new List<string>();
        foreach (var key in Keys(3000))
        {
            var ours = await route.StageForAsync(key, CancellationToken.None);
            var theirs = await reference(key);
            if (ours.Name() != theirs)
            {
                disagreements.Add($"{key}: router {ours.Name()}, FeatureManagement {theirs}");
            }
        }

        Assert.Empty(disagreements);
        Assert.Equal(percent is 0 or 100, route.Uniform is not null);
    }

    [Fact]
    public async Task A_route_keeps_the_snapshot_it_was_taken_from()
    {
        var state = StateWith(Stage.Live, 50);
        var router = new StageRouter(state);
        var route = router.For(KnownMigrations.SignalEvents);
        var keys = Keys(200).ToList();
        var before = new List<Stage>();
        foreach (var key in keys)
        {
            before.Add(await route.StageForAsync(key, CancellationToken.None));
        }

        // A refresh lands mid-request: the request's route still answers from its snapshot.
        state.Apply(Snapshot(Stage.Complete, 100));
        for (var i = 0; i < keys.Count; i++)
        {
            Assert.Equal(before[i], await route.StageForAsync(keys[i], CancellationToken.None));
        }
        Assert.Contains(Stage.Shadow, before);
        Assert.Equal(Stage.Complete, await router.For(KnownMigrations.SignalEvents).StageForAsync(keys[0], CancellationToken.None));
        Assert.Same(SnapshotStages.Of(state.Current!), router.Current());
    }

    [Fact]
    public async Task Ingested_events_land_where_FeatureManagement_puts_their_journey()
    {
        // dual_write writes signal_events as well, off only the legacy table: the table shows the stage.
        const int percent = 40;
        var db = _fixture.Db;
        await db.SetStageAndWaitAsync(_fixture.App, KnownMigrations.SignalEvents, Stage.DualWrite.Name(), percent);

        var events = Enumerable.Range(0, 400).Select(_ => Events.Signal()).ToList();
        foreach (var batch in events.Chunk(100))
        {
            using var response = await _fixture.App.PostJsonAsync("/api/signal/events", Events.Json(batch));
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        }

        var reference = Reference(Stage.DualWrite, percent);
        var onNew = (await db.QueryAsync<Guid>("SELECT id FROM signal_events WHERE id = ANY(@ids)", new { ids = events.Select(e => (Guid)e["id"]!).ToArray() })).ToHashSet();
        var legacy = await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = ANY(@ids)", new { ids = events.Select(e => (Guid)e["id"]!).ToArray() });
        var disagreements = new List<string>();
        foreach (var e in events)
        {
            var expected = await reference(((Guid)e["signal_id"]!).ToString("D"));
            var landed = onNew.Contains((Guid)e["id"]!) ? "dual_write" : "off";
            if (landed != expected)
            {
                disagreements.Add($"{e["signal_id"]}: written as {landed}, FeatureManagement says {expected}");
            }
        }

        Assert.Empty(disagreements);
        Assert.Equal(events.Count, legacy); // every 202 committed on the authoritative side
        Assert.InRange(onNew.Count, 1, events.Count - 1); // the sample really straddles the split
    }

    private static FlagSnapshot Snapshot(Stage stage, int percent) => new(new Dictionary<string, StageFlag>
    {
        [KnownMigrations.SignalEvents] = new(KnownMigrations.SignalEvents, stage, percent, 1, DateTimeOffset.UtcNow),
    }, "test", DateTimeOffset.UtcNow);

    private static FlagState StateWith(Stage stage, int percent)
    {
        var state = new FlagState(TimeProvider.System);
        state.Apply(Snapshot(stage, percent));
        return state;
    }

    private static IEnumerable<string> Keys(int count) =>
        Enumerable.Range(0, count).Select(i => i % 3 == 0 ? $"gclid-{i}" : Guid.NewGuid().ToString("D"));

    /// <summary>FeatureManagement reading the flag JSON through its own configuration provider.</summary>
    private static Func<string, Task<string?>> Reference(Stage stage, int percent) =>
        FeatureManagementAllocationTests.Evaluator(StageFeatureFlag.Create(KnownMigrations.SignalEvents, stage, percent));
}
