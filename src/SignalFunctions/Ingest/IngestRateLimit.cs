using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace SignalFunctions.Ingest;

/// <summary>A token bucket per client IP address (Ingest__RateLimitPerSecond, Ingest__RateLimitBurst; 0 turns it off).</summary>
public sealed class IngestRateLimit : IDisposable
{
    private readonly int _perSecond;
    private readonly PartitionedRateLimiter<HttpContext> _limiter;

    public IngestRateLimit(IOptions<IngestOptions> options)
    {
        var perSecond = _perSecond = options.Value.RateLimitPerSecond;
        var burst = options.Value.RateLimitBurst;
        _limiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            perSecond == 0
                ? RateLimitPartition.GetNoLimiter("off")
                // The address is a partition key in memory only; no IP address is ever stored.
                : RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ =>
                    new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = burst,
                        TokensPerPeriod = perSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    }));
    }

    /// <summary>Null when the request may go on; else the 429 to answer, with Retry-After set on the response.</summary>
    public ProblemHttpResult? Reject(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(context);
        if (lease.IsAcquired)
        {
            return null;
        }
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests; nothing was written",
            detail: $"This client sent more than {_perSecond} requests per second. Retry after {retryAfter} s.");
    }

    public void Dispose() => _limiter.Dispose();
}
