using System.Net;
using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

/// <summary>POST /api/signal/events through the real app process, against a real database.</summary>
public sealed class SignalEventsApiTests : IClassFixture<AppFixture>
{
    private readonly TestDatabase _db;
    private readonly AppProcess _app;

    public SignalEventsApiTests(AppFixture fixture)
    {
        _db = fixture.Db;
        _app = fixture.App;
    }

    [Fact]
    public async Task Event_in_stage_off_is_committed_to_the_legacy_table_only_before_202()
    {
        var e = Events.Signal();
        using var response = await _app.PostJsonAsync("/api/signal/events", Events.Json(e));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, receipt.GetProperty("accepted").GetInt32());
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = @id AND metadata->>'signal_id' = @sid",
            new { id = (Guid)e["id"]!, sid = e["signal_id"]!.ToString() }));
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }
}
