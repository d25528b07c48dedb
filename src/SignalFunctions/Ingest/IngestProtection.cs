using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace SignalFunctions.Ingest;

/// <summary>What stands in front of every ingest function: CORS for the configured origins, a 403
/// for any other origin, and a per-client-IP rate limit. Hosting's BrowserFacingMiddleware applies them.</summary>
public static class IngestProtection
{
    public const string CorsPolicy = "ingest";

    public static IServiceCollection AddIngestProtection(this IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<IngestOptions>>((cors, ingest) => cors.AddPolicy(CorsPolicy, policy => policy
                .SetIsOriginAllowed(origin => IsAllowed(origin, ingest.Value.AllowedOrigins))
                .WithMethods("GET", "POST")
                .AllowAnyHeader()
                // The snippet backs off by Retry-After on 429/503; a page can read it only if exposed.
                .WithExposedHeaders("Retry-After")
                .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        services.AddSingleton<IngestRateLimit>();
        return services;
    }

    /// <summary>CORS alone only hides the answer from the page; the write would still happen. Refuse it.</summary>
    public static ProblemHttpResult? RejectDisallowedOrigin(HttpContext context, IReadOnlyList<string> allowed)
    {
        var origin = context.Request.Headers.Origin.ToString();
        return origin.Length > 0 && !IsAllowed(origin, allowed)
            ? Problems.Forbidden($"Origin '{origin}' may not send events. Add it to Ingest__AllowedOrigins on the app.")
            : null;
    }

    /// <summary>Exact origins, or "scheme://host:*" for any port of that host.</summary>
    public static bool IsAllowed(string origin, IReadOnlyList<string> allowed)
    {
        foreach (var pattern in allowed)
        {
            if (string.Equals(pattern, origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
            if (pattern.EndsWith(":*", StringComparison.Ordinal)
                && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                && string.Equals(pattern[..^2], $"{uri.Scheme}://{uri.Host}", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}

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
