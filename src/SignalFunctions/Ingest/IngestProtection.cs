using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace SignalFunctions.Ingest;

/// <summary>What stands in front of every ingest function: CORS for the configured origins, a 403
/// for any other origin, and a per-client-IP rate limit.</summary>
public static class IngestProtection
{
    public const string CorsPolicy = "ingest";
    public const string RateLimitPolicy = "ingest";

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

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<IngestOptions>>((limiter, ingest) =>
        {
            var perSecond = ingest.Value.RateLimitPerSecond;
            var burst = ingest.Value.RateLimitBurst;
            limiter.AddPolicy(RateLimitPolicy, context =>
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
            limiter.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await TypedResults.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests; nothing was written",
                    detail: $"This client sent more than {perSecond} requests per second. Retry after {retryAfter} s.")
                    .ExecuteAsync(context.HttpContext);
            };
        });
        return services;
    }

    /// <summary>CORS alone only hides the answer from the page; the write would still happen. Refuse it.</summary>
    public static RouteHandlerBuilder RequireAllowedOrigin(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var origin = context.HttpContext.Request.Headers.Origin.ToString();
            if (origin.Length > 0)
            {
                var allowed = context.HttpContext.RequestServices.GetRequiredService<IOptions<IngestOptions>>().Value.AllowedOrigins;
                if (!IsAllowed(origin, allowed))
                {
                    return Problems.Forbidden($"Origin '{origin}' may not send events. Add it to Ingest__AllowedOrigins on the app.");
                }
            }
            return await next(context);
        });

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
