using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Console;
using SignalFunctions.DevHost;
using SignalFunctions.DevHost.Settings;
using SignalFunctions.DevHost.Triggers;

const string Usage = """
    usage: SignalFunctions.DevHost --script-root DIR [--urls URL] [--settings FILE]...

    Serves an isolated-worker Functions app locally, as the Functions host would: starts the
    worker from DIR (its build or publish output), serves its HTTP functions on URL (default
    http://127.0.0.1:7071) under host.json's route prefix, and fires its timers.

      --script-root DIR   the worker's output: worker.config.json, host.json, functions
      --urls URL          where to serve HTTP (default http://127.0.0.1:7071)
      --settings FILE     a local.settings.json whose Values become app settings; repeat it,
                          later files win, and the environment wins over every file

    Admin API: GET /admin/functions lists the functions; POST /admin/functions/NAME runs a timer now.
    Ctrl-C or SIGTERM: stops taking requests, lets the worker drain what it accepted, exits.
    """;

string? scriptRoot = null;
var urls = "http://127.0.0.1:7071";
var settingsFiles = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new DevHostException($"{args[i]} needs a value.\n\n{Usage}");
    try
    {
        switch (args[i])
        {
            case "--script-root": scriptRoot = Value(); break;
            case "--urls": urls = Value(); break;
            case "--settings": settingsFiles.Add(Value()); break;
            case "-h" or "--help": Console.WriteLine(Usage); return 0;
            default: throw new DevHostException($"Unknown argument '{args[i]}'.\n\n{Usage}");
        }
    }
    catch (DevHostException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        return 2;
    }
}
if (scriptRoot is null)
{
    Console.Error.WriteLine($"error: --script-root is required.\n\n{Usage}");
    return 2;
}

using var loggers = LoggerFactory.Create(logging => ConfigureLogging(logging));
var output = Console.Out;
try
{
    using var starting = new CancellationTokenSource();
    using var stopBeforeReady = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
    {
        signal.Cancel = true;
        starting.Cancel();
    });
    var settings = AppSettings.Load(settingsFiles);
    await using var host = await FunctionsHost.StartAsync(scriptRoot, settings, loggers, line => output.WriteLine(line), starting.Token);
    TimerTrigger.Schedules(host.Functions);

    var builder = WebApplication.CreateSlimBuilder();
    ConfigureLogging(builder.Logging);
    builder.WebHost.UseUrls(urls);
    builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
    builder.Services.AddHttpForwarder();
    builder.Services.AddSingleton(host);
    builder.Services.AddSingleton<TimerTrigger>();
    builder.Services.AddHostedService(sp => sp.GetRequiredService<TimerTrigger>());
    await using var app = builder.Build();
    app.MapHttpFunctions(host);
    app.MapAdminApi(host);
    stopBeforeReady.Dispose();
    await app.StartAsync();
    foreach (var function in host.Functions)
    {
        output.WriteLine(function.Http is { } http
            ? $"  {function.Name}: [{string.Join(",", http.Methods)}] {urls.TrimEnd('/')}/{host.RoutePrefix}/{http.Route}"
            : $"  {function.Name}: timerTrigger {function.Timer?.ResolvedSchedule}");
    }
    output.WriteLine($"Serving on {urls.TrimEnd('/')}/{host.RoutePrefix} (worker {host.WorkerProcessId}). Ctrl-C to stop.");

    var stopped = app.WaitForShutdownAsync();
    if (await Task.WhenAny(stopped, host.WorkerExited) != stopped)
    {
        Console.Error.WriteLine($"error: the worker exited with code {host.WorkerExitCode} (its output is above); stopping.");
        await app.StopAsync();
        return host.WorkerExitCode is int code and > 0 ? code : 1;
    }
    // Kestrel has stopped taking requests and finished those in flight; now the worker drains its own queue.
    await host.StopWorkerAsync(TimeSpan.FromSeconds(30));
    return 0;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("Stopped before the worker was ready.");
    return 1;
}
catch (DevHostException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    Console.Error.WriteLine($"error: {ex.Message} Is another instance running? Stop it, or pass --urls http://127.0.0.1:PORT.");
    return 1;
}

static void ConfigureLogging(ILoggingBuilder logging)
{
    logging.ClearProviders();
    logging.SetMinimumLevel(LogLevel.Information);
    logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
    logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
    logging.AddFilter("Yarp", LogLevel.Warning);
    logging.AddFilter("Grpc", LogLevel.Warning);
    if (Environment.GetEnvironmentVariable("Logging__Console__FormatterName") == "json")
    {
        logging.AddJsonConsole(o => o.TimestampFormat = "O");
    }
    else
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.UseUtcTimestamp = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
    }
}
