using SignalFunctions.DevHost.Worker;

namespace SignalFunctions.DevHost.Triggers;

/// <summary>
/// The host's admin API, the part a developer uses locally: list the functions, and run a
/// non-HTTP function now (POST /admin/functions/{name}, 202, as the host answers it).
/// </summary>
public static class AdminApi
{
    public static void MapAdminApi(this WebApplication app, FunctionsHost host)
    {
        app.MapGet("/admin/functions", () => TypedResults.Ok(host.Functions.Select(Describe)));
        app.MapGet("/admin/host/status", () => TypedResults.Ok(new { state = "Running", version = FunctionsHost.HostVersion, processId = Environment.ProcessId, workerProcessId = host.WorkerProcessId }));
        app.MapPost("/admin/functions/{name}", IResult (string name, TimerTrigger timers, IHostApplicationLifetime lifetime) =>
        {
            if (host.Find(name) is not { } function)
            {
                return TypedResults.NotFound();
            }
            if (function.Timer is null)
            {
                return TypedResults.BadRequest(new { error = $"{function.Name} is an HTTP function: call its route instead." });
            }
            // The host answers 202 at once and runs the function in the background.
            _ = timers.RunAsync(function, "Manual run (admin API)", null, lifetime.ApplicationStopping);
            return TypedResults.Accepted((string?)null);
        });
    }

    private static object Describe(FunctionInfo f) => new
    {
        name = f.Name,
        entryPoint = f.EntryPoint,
        trigger = f.Http is not null ? "httpTrigger" : f.Timer is not null ? "timerTrigger" : "other",
        route = f.Http?.Route,
        methods = f.Http?.Methods,
        authLevel = f.Http?.AuthLevel,
        schedule = f.Timer?.Schedule,
        resolvedSchedule = f.Timer?.ResolvedSchedule,
    };
}
