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

    [Fact]
    public async Task The_snippet_is_served_as_javascript_and_gzipped_for_browsers_that_accept_it()
    {
        using var plain = await _app.Client.GetAsync("/api/signal.js");
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/signal.js");
        request.Headers.AcceptEncoding.ParseAdd("gzip, deflate, br");
        using var gzipped = await _app.Client.SendAsync(request);

        Assert.Equal("text/javascript", plain.Content.Headers.ContentType?.MediaType);
        var script = await plain.Content.ReadAsStringAsync();
        Assert.Contains("sendBeacon", script, StringComparison.Ordinal);
        Assert.Equal("gzip", Assert.Single(gzipped.Content.Headers.ContentEncoding));
        var compressed = await gzipped.Content.ReadAsByteArrayAsync();
        using var unzip = new System.IO.Compression.GZipStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal(script, await new StreamReader(unzip).ReadToEndAsync());
        Assert.True(compressed.Length < script.Length / 2);
    }

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered_and_exposes_retry_after()
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/api/signal/events");
        request.Headers.Add("Origin", "http://localhost:5173");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var preflight = await _app.Client.SendAsync(request);

        Assert.True(preflight.IsSuccessStatusCode, preflight.StatusCode.ToString());
        Assert.Equal("http://localhost:5173", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());

        var post = new HttpRequestMessage(HttpMethod.Post, "/api/signal/events") { Content = new StringContent("{", System.Text.Encoding.UTF8, "text/plain") };
        post.Headers.Add("Origin", "http://localhost:5173");
        using var error = await _app.Client.SendAsync(post);
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("http://localhost:5173", error.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Retry-After", error.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.Ordinal);
    }
}
