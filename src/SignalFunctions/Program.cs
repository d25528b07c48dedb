using SignalFunctions;
using SignalFunctions.Cli;
using SignalFunctions.Database;
using SignalFunctions.Hosting;

if (OpsCli.IsVerb(args))
{
    return await OpsCli.RunAsync(args);
}

// Settings files sit beside the executable, wherever it is started from (./run.sh, the Functions host).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.ConfigureHostingMode();
builder.AddSignalServer();

var app = builder.Build();
if (!await app.Services.GetRequiredService<SchemaMigrator>().MigrateAtStartupAsync(app.Lifetime.ApplicationStopping))
{
    return 1;
}
app.MapFunctions();
try
{
    await app.RunAsync();
}
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    Console.Error.WriteLine($"error: {ex.Message} Is another instance running? Stop it, or pass --urls http://127.0.0.1:PORT.");
    return 1;
}
return 0;

/// <summary>Visible to tests that start the app in-process.</summary>
public partial class Program;
