using System.Diagnostics;
using System.Net;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

/// <summary>
/// How fast a stage change reaches a running instance. Timed, so it runs in the Timing
/// collection, alone, not beside load tests that would starve it of CPU.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class StagePropagationTests : IClassFixture<AppFixture>
{
    private readonly TestDatabase _db;
    private readonly AppProcess _app;

    public StagePropagationTests(AppFixture fixture)
    {
        _db = fixture.Db;
        _app = fixture.App;
    }

    private async Task<(bool Legacy, bool New)> SidesOf(Guid id) => (
        await _db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM blog_attribution_events WHERE id = @id)", new { id }),
        await _db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM signal_events WHERE id = @id)", new { id }));

    private async Task PostAsync(object body)
    {
        using var response = await _app.PostJsonAsync("/api/signal/events", Events.Json(body));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private Task StageAsync(string stage) => _db.SetStageAndWaitAsync(_app, KnownMigrations.SignalEvents, stage);

    [Fact]
    public async Task A_stage_change_reaches_the_running_app_within_a_second()
    {
        await StageAsync("off");
        var watch = Stopwatch.StartNew();
        await _db.SetStageAsync(KnownMigrations.SignalEvents, "complete");
        Guid id;
        do
        {
            var e = Events.Signal();
            id = (Guid)e["id"]!;
            await PostAsync(e);
        }
        while (!(await SidesOf(id)).New && watch.Elapsed < TimeSpan.FromSeconds(5));

        Assert.Equal((false, true), await SidesOf(id));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed.TotalMilliseconds} ms");
    }
}
