using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.HttpOverrides;
using SignalFunctions.Ingest;

namespace SignalFunctions.Hosting;

/// <summary>
/// One executable, two ways to run (ARCHITECTURE.md): hosted by the Functions host as a custom
/// handler, or standalone with the same endpoints and an in-process timer scheduler.
/// </summary>
public static class HostingMode
{
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";
    public const string DefaultStandaloneUrl = "http://127.0.0.1:7071";

    public static bool IsHosted(IConfiguration configuration) => !string.IsNullOrEmpty(configuration[PortVariable]);

    public static WebApplicationBuilder ConfigureHostingMode(this WebApplicationBuilder builder)
    {
        var hosted = IsHosted(builder.Configuration);
        // A wrong schedule setting stops start-up here, not the scheduler later.
        foreach (var timer in Functions.Timers)
        {
            StandaloneScheduler.Schedule(timer, builder.Configuration);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Ingest bodies are capped lower per endpoint; this bounds everything else.
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
            kestrel.AddServerHeader = false;
            if (hosted)
            {
                // Explicit Listen wins over any inherited ASPNETCORE_URLS: the host talks to this port only.
                var port = int.Parse(builder.Configuration[PortVariable]!, System.Globalization.CultureInfo.InvariantCulture);
                kestrel.Listen(IPAddress.Loopback, port);
            }
        });
        if (!hosted && string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultStandaloneUrl);
        }

        builder.Logging.ClearProviders();
        if (hosted || builder.Configuration["Logging:Console:FormatterName"] == "json")
        {
            builder.Logging.AddJsonConsole(o => o.TimestampFormat = "O");
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.UseUtcTimestamp = true;
            });
        }

        builder.Services.AddSingleton<TimerRunner>();
        if (hosted)
        {
            // The host is the proxy in front of us: the client address comes in X-Forwarded-For.
            builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor);
        }
        else
        {
            builder.Services.AddHostedService<StandaloneScheduler>();
        }
        return builder;
    }

    public static WebApplication MapFunctions(this WebApplication app)
    {
        if (IsHosted(app.Configuration))
        {
            app.UseForwardedHeaders();
        }
        // Anything unforeseen still answers problem+json (and is logged), never an empty 500.
        app.UseExceptionHandler();
        app.UseCors();
        app.UseRateLimiter();

        foreach (var function in Functions.Http)
        {
            var endpoint = app.MapMethods($"/api/{function.Route}", function.Methods.Select(m => m.ToUpperInvariant()), function.Handler)
                .WithName(function.Name);
            switch (function.Audience)
            {
                case Audience.Ingest:
                    endpoint.RequireCors(IngestProtection.CorsPolicy)
                        .RequireRateLimiting(IngestProtection.RateLimitPolicy)
                        .RequireAllowedOrigin();
                    break;
                case Audience.Public:
                    endpoint.RequireCors(IngestProtection.CorsPolicy);
                    break;
                case Audience.Operations:
                    break;
            }
        }

        if (IsHosted(app.Configuration))
        {
            // The host polls GET / until the handler answers, then starts sending work.
            app.MapGet("/", () => TypedResults.Ok(new { status = "ready" }));
            foreach (var timer in Functions.Timers)
            {
                app.MapPost($"/{timer.Name}", (HttpContext context, TimerRunner runner, CancellationToken ct) =>
                    InvokeTimerAsync(timer, context, runner, ct));
            }
        }
        return app;
    }

    private static readonly JsonSerializerOptions InvocationJson = new() { PropertyNamingPolicy = null };

    /// <summary>
    /// A timer invocation in the custom-handler payload format. The answer must be a non-empty JSON
    /// body: an empty 2xx leaves the invocation hanging until the function timeout (AZURE.md).
    /// </summary>
    private static async Task<IResult> InvokeTimerAsync(TimerFunction timer, HttpContext context, TimerRunner runner, CancellationToken ct)
    {
        try
        {
            using var payload = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct);
            if (payload.RootElement.ValueKind != JsonValueKind.Object)
            {
                return InvocationResult(StatusCodes.Status400BadRequest, [$"{timer.Name}: invocation payload must be a JSON object"]);
            }
        }
        catch (JsonException ex)
        {
            return InvocationResult(StatusCodes.Status400BadRequest, [$"{timer.Name}: invocation payload is not JSON: {ex.Message}"]);
        }
        var (succeeded, logs) = await runner.RunAsync(timer, ct);
        return InvocationResult(succeeded ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError, logs);
    }

    private static IResult InvocationResult(int status, IReadOnlyList<string> logs) => TypedResults.Json(
        new Dictionary<string, object?> { ["Outputs"] = new Dictionary<string, object>(), ["Logs"] = logs, ["ReturnValue"] = null },
        InvocationJson, "application/json", status);
}
