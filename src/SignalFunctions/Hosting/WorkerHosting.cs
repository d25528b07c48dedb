using Microsoft.Azure.Functions.Worker;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SignalFunctions.Hosting;

/// <summary>The worker process itself: its Kestrel (which the host forwards HTTP requests to), its console logs, its timers.</summary>
public static class WorkerHosting
{
    public static IHostApplicationBuilder AddWorkerHosting(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<KestrelServerOptions>(kestrel =>
        {
            // Ingest bodies are capped lower per function; this bounds everything else.
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
            kestrel.AddServerHeader = false;
        });

        if (builder.Configuration["Logging:Console:FormatterName"] == "json")
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

        // Only where a resource is given (infra/ sets it): elsewhere the telemetry pipeline would cost
        // memory and a thread for nothing.
        if (!string.IsNullOrEmpty(builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
        {
            builder.Services.AddApplicationInsightsTelemetryWorkerService();
            builder.Services.ConfigureFunctionsApplicationInsights();
        }

        builder.Services.AddSingleton<TimerRunner>();
        return builder;
    }

    /// <summary>
    /// Moves the framework's hosted services (the gRPC channel to the Functions host, Kestrel) after
    /// the app's, as a WebApplication orders them: they start last, so the first flag load is done
    /// before the host can send an invocation, and stop first, so no request comes in any more while
    /// the ingest writer drains its queue. Call it after every registration.
    /// </summary>
    public static IHostApplicationBuilder StartServersLast(this IHostApplicationBuilder builder)
    {
        var app = typeof(WorkerHosting).Assembly;
        var servers = builder.Services
            .Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType is { } type && type.Assembly != app)
            .ToList();
        foreach (var server in servers)
        {
            builder.Services.Remove(server);
            builder.Services.Add(server);
        }
        return builder;
    }
}
