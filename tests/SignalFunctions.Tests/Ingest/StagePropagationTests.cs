using System.Diagnostics;
using System.Net;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalFunctions.Tests.Ingest;

/// <summary>
/// How a stage change reaches a running instance: by PostgreSQL's notification, not by the periodic
/// re-read. Proved by the path, not by a stopwatch: a shared machine can stretch any duration.
/// </summary>
public sealed class StagePropagationTests : IClassFixture<NotifiedOnlyAppFixture>
{
    private readonly TestDatabase _db;
    private readonly AppProcess _app;
    private readonly ITestOutputHelper _output;

    public StagePropagationTests(NotifiedOnlyAppFixture fixture, ITestOutputHelper output)
    {
        _db = fixture.Db;
        _app = fixture.App;
        _output = output;
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
    public async Task A_stage_change_reaches_the_running_app_by_notification_not_by_the_periodic_re_read()
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
        while (!(await SidesOf(id)).New && watch.Elapsed < TimeSpan.FromSeconds(60));

        // Any wait short of the hour-long re-read is the notification's doing, however slow the machine.
        Assert.Equal((false, true), await SidesOf(id));
        _output.WriteLine($"obeyed {watch.Elapsed.TotalMilliseconds:0} ms after the change");
    }
}
