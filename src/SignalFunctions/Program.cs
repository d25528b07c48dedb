using Microsoft.Extensions.Options;
using SignalFunctions;
using SignalFunctions.Cli;
using SignalFunctions.Database;
using SignalFunctions.Hosting;

if (OpsCli.IsVerb(args))
{
    return await OpsCli.RunAsync(args);
}

try
{
    // Settings files sit beside the executable, wherever it is started from (./run.sh, the Functions host).
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.ConfigureHostingMode();
    builder.AddSignalServer();

    var app = builder.Build();
    // Settings first: a wrong one stops start-up before anything touches the database.
    app.Services.GetRequiredService<IStartupValidator>().Validate();
    if (!await app.Services.GetRequiredService<SchemaMigrator>().MigrateAtStartupAsync(app.Lifetime.ApplicationStopping))
    {
        return 1;
    }
    app.MapFunctions();
    await app.RunAsync();
    return 0;
}
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    Console.Error.WriteLine($"error: {ex.Message} Is another instance running? Stop it, or pass --urls http://127.0.0.1:PORT.");
    return 1;
}
catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException { Source: "SignalFunctions" })
{
    // A wrong setting: say which, without a stack trace.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

/// <summary>Visible to tests that start the app in-process.</summary>
public partial class Program;
