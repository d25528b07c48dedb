using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http.Extensions;
using SignalFunctions.DevHost.Rpc;
using SignalFunctions.DevHost.Worker;
using Yarp.ReverseProxy.Forwarder;

namespace SignalFunctions.DevHost.Triggers;

/// <summary>
/// HTTP triggers as the host serves them with the ASP.NET Core integration: the host matches route
/// and method, sends an InvocationRequest whose trigger input is an empty RpcHttp, and forwards the
/// original request to the worker's HttpUri with x-ms-invocation-id; the worker answers on that connection.
/// </summary>
public static partial class HttpTrigger
{
    public const string InvocationIdHeader = "x-ms-invocation-id";

    public static void MapHttpFunctions(this WebApplication app, FunctionsHost host)
    {
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = null,
            ConnectTimeout = TimeSpan.FromSeconds(15),
        });
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HttpTrigger));
        foreach (var function in host.Functions.Where(f => f.Http is not null))
        {
            var http = function.Http!;
            app.MapMethods($"/{host.RoutePrefix}/{http.Route}", http.Methods, context => InvokeAsync(context, host, function, forwarder, client, logger))
                .WithDisplayName(function.Name);
        }
    }

    private static async Task InvokeAsync(HttpContext context, FunctionsHost host, FunctionInfo function, IHttpForwarder forwarder, HttpMessageInvoker client, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        var invocationId = Guid.NewGuid().ToString();
        var request = FunctionsHost.NewInvocation(function, invocationId);
        request.InputData.Add(new ParameterBinding { Name = function.Http!.BindingName, Data = new TypedData { Http = new RpcHttp() } });
        // Route values and the query bind to function parameters by name, as the host's binding data does.
        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (value is not null)
            {
                request.TriggerMetadata[name] = new TypedData { String = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) };
            }
        }
        // The request itself (headers, body) reaches the worker over HTTP, not in the message.
        if (context.Request.Query.Count > 0)
        {
            request.TriggerMetadata["Query"] = FunctionsHost.Json(context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()));
        }

        using var invocationAborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var invocation = host.InvokeAsync(request, invocationAborted.Token);
        var error = await forwarder.SendAsync(context, host.WorkerHttpUri.ToString(), client, ForwarderRequestConfig.Empty, new InvocationTransformer(invocationId));
        if (error != ForwarderError.None)
        {
            // The worker never saw (or never finished) the request: the invocation would wait for it forever.
            await invocationAborted.CancelAsync();
            LogForwardFailed(logger, function.Name, invocationId, error, context.Request.GetDisplayUrl());
        }
        InvocationResponse? response = null;
        try
        {
            response = await invocation.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex) when (ex is TimeoutException or DevHostException or OperationCanceledException)
        {
            LogNoResponse(logger, function.Name, invocationId, ex.Message);
            return;
        }
        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (response.Result?.Status == StatusResult.Types.Status.Success)
        {
            LogExecuted(logger, function.Name, invocationId, elapsedMs);
        }
        else
        {
            LogFailed(logger, function.Name, invocationId, elapsedMs, response.Result?.Exception?.Message ?? response.Result?.Result ?? "");
        }
    }

    /// <summary>
    /// Adds the invocation id. Headers pass as they came, X-Forwarded-For included: in Azure the front
    /// end sets it to the client's address and the host forwards it, and the worker's ASP.NET Core
    /// integration takes the client address from it.
    /// </summary>
    private sealed class InvocationTransformer(string invocationId) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.Headers.TryAddWithoutValidation(InvocationIdHeader, invocationId);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Executed 'Functions.{Function}' (Succeeded, Id={InvocationId}, Duration={DurationMs}ms)")]
    private static partial void LogExecuted(ILogger logger, string function, string invocationId, long durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Executed 'Functions.{Function}' (Failed, Id={InvocationId}, Duration={DurationMs}ms): {Reason}")]
    private static partial void LogFailed(ILogger logger, string function, string invocationId, long durationMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Function {Function} ({InvocationId}): forwarding {Url} to the worker failed: {Error}")]
    private static partial void LogForwardFailed(ILogger logger, string function, string invocationId, ForwarderError error, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Function {Function} ({InvocationId}): no invocation response from the worker: {Reason}")]
    private static partial void LogNoResponse(ILogger logger, string function, string invocationId, string reason);
}
