using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Options;
using SignalFunctions;
using SignalFunctions.Cli;
using SignalFunctions.Database;
using SignalFunctions.Hosting;
using SignalFunctions.Partitions;

if (OpsCli.IsVerb(args))
{
    return await OpsCli.RunAsync(args);
}

try
{
    // Settings files sit beside the executable, wherever the host starts it from.
    var builder = FunctionsApplication.CreateBuilder([.. args, "--contentRoot", AppContext.BaseDirectory]);
    builder.ConfigureFunctionsWebApplication();
    // After the integration's own middleware, which hands over the HttpContext. Outermost first:
    // an exception in the browser-facing rules still answers problem+json.
    builder.UseMiddleware<UnhandledExceptionMiddleware>();
    builder.UseMiddleware<BrowserFacingMiddleware>();
    builder.AddSignalServer();
    builder.AddWorkerHosting();
    builder.StartServersLast();

    using var host = builder.Build();
    // Settings first: a wrong one stops start-up before anything touches the database.
    host.Services.GetRequiredService<IStartupValidator>().Validate();
    var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
    if (!await host.Services.GetRequiredService<SchemaMigrator>().MigrateAtStartupAsync(stopping))
    {
        return 1;
    }
    await host.Services.GetRequiredService<EventPartitions>().EnsureAtStartupAsync(stopping);
    await host.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException { Source: "SignalFunctions" })
{
    // A wrong setting: say which, without a stack trace.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

/// <summary>Visible to tests that start the app in-process.</summary>
public partial class Program;
