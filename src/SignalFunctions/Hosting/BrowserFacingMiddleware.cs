using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Options;
using SignalFunctions.Ingest;

namespace SignalFunctions.Hosting;

/// <summary>
/// The rules of <see cref="IngestProtection"/> in front of every function marked
/// <see cref="BrowserFacingAttribute"/>: CORS (a preflight is answered here, the function never runs
/// for it), then for ingest the per-client rate limit and the origin check, in the order the ASP.NET
/// Core pipeline ran them before.
/// </summary>
public sealed class BrowserFacingMiddleware(
    ICorsService cors, ICorsPolicyProvider policies, IngestRateLimit rateLimit, IOptions<IngestOptions> options) : IFunctionsWorkerMiddleware
{
    private static readonly Assembly Functions = typeof(BrowserFacingMiddleware).Assembly;

    private readonly ConcurrentDictionary<string, Audience?> _audiences = new();

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext();
        var audience = http is null ? null : _audiences.GetOrAdd(context.FunctionId, static (_, entryPoint) => AudienceOf(entryPoint), context.FunctionDefinition.EntryPoint);
        if (http is null || audience is null)
        {
            await next(context);
            return;
        }

        var policy = await policies.GetPolicyAsync(http, IngestProtection.CorsPolicy)
            ?? throw new InvalidOperationException($"CORS policy '{IngestProtection.CorsPolicy}' is not registered.");
        var result = cors.EvaluatePolicy(http, policy);
        if (HttpMethods.IsOptions(http.Request.Method))
        {
            cors.ApplyResult(result, http.Response);
            context.GetInvocationResult().Value = TypedResults.NoContent();
            return;
        }
        // When the response starts, as ASP.NET Core's CORS middleware does: an error answer, which
        // clears the headers first, still carries them, so the page can read it.
        http.Response.OnStarting(() =>
        {
            cors.ApplyResult(result, http.Response);
            return Task.CompletedTask;
        });

        if (audience == Audience.Ingest
            && (rateLimit.Reject(http) ?? IngestProtection.RejectDisallowedOrigin(http, options.Value.AllowedOrigins)) is { } rejected)
        {
            context.GetInvocationResult().Value = rejected;
            return;
        }
        await next(context);
    }

    /// <summary>From the function's method, named by its entry point "Namespace.Class.Method".</summary>
    private static Audience? AudienceOf(string entryPoint)
    {
        var dot = entryPoint.LastIndexOf('.');
        var method = Functions.GetType(entryPoint[..dot], throwOnError: true)!.GetMethod(entryPoint[(dot + 1)..])
            ?? throw new InvalidOperationException($"Function entry point '{entryPoint}' is not a method of this app.");
        return method.GetCustomAttribute<BrowserFacingAttribute>()?.Audience;
    }
}
