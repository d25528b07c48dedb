using System.Net;
using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

/// <summary>POST /api/signal/events through the real app process, against a real database.</summary>
public sealed class SignalEventsApiTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _app = await AppProcess.StartAsync(_db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
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
