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
