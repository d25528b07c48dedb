using System.Net;
using System.Text.Json;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Posts events to the ingest endpoint and checks the receipt it answers with.</summary>
public static class EventReceipts
{
    public static async Task AssertAcceptedAsync(this AppProcess app, string json, int accepted, int duplicates)
    {
        using var response = await app.PostJsonAsync("/api/signal/events", json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        using var receipt = JsonDocument.Parse(body);
        Assert.Equal(accepted, receipt.RootElement.GetProperty("accepted").GetInt32());
        Assert.Equal(duplicates, receipt.RootElement.GetProperty("duplicates").GetInt32());
    }
}
