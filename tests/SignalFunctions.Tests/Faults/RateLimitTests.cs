using System.Net;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Faults;

/// <summary>The per-client-IP token bucket, on an app of its own with a tiny limit.</summary>
[Collection(TimingCollection.Name)]
public sealed class RateLimitTests : IAsyncLifetime
{
    private const string AllowedOrigin = "https://blog.example.com";
    private TestDatabase _db = null!;
    private AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await _db.SetStageAsync("signal-events", "dual_write");
        _app = await AppProcess.StartAsync(_db.ConnectionString, new Dictionary<string, string>
        {
            ["Ingest__RateLimitPerSecond"] = "1",
            ["Ingest__RateLimitBurst"] = "3",
            ["Ingest__AllowedOrigins__0"] = AllowedOrigin,
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task Past_the_limit_requests_get_429_with_retry_after_and_write_nothing()
    {
        var accepted = new List<Guid>();
        var limited = new List<HttpResponseMessage>();
        // Back to back, far faster than 1/s: the burst of 3 passes (plus one token per second the
        // sending took, on a busy machine), the rest are refused.
        var sending = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 8; i++)
        {
            var e = Events.Signal();
            var response = await _app.SendAsync(FaultKit.Post("/api/signal/events", Events.Json(e), "text/plain", AllowedOrigin));
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted.Add((Guid)e["id"]!);
                response.Dispose();
            }
            else
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                limited.Add(response);
            }
        }

        Assert.InRange(accepted.Count, 3, 3 + (int)Math.Ceiling(sending.Elapsed.TotalSeconds));
        Assert.NotEmpty(limited);
        var wait = 0;
        foreach (var response in limited)
        {
            var retryAfter = int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 5);
            wait = retryAfter;
            // The page must be able to read the 429 to back off.
            Assert.Equal(AllowedOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            await response.ProblemAsync();
            response.Dispose();
        }
        // Exactly the accepted events were written, on both sides; nothing of the refused ones.
        Assert.Equal(accepted.Order(), (await _db.QueryAsync<Guid>("SELECT id FROM signal_events")).Order());
        Assert.Equal(accepted.Order(), (await _db.QueryAsync<Guid>("SELECT id FROM blog_attribution_events")).Order());

        // Retry-After is a promise: after that wait the client is served again.
        await Task.Delay(TimeSpan.FromSeconds(wait + 0.1));
        using var again = await _app.PostJsonAsync("/api/signal/events", Events.Json(Events.Signal()));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
    }
}
