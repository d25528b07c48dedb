using SignalFunctions;
using SignalFunctions.Cli;
using SignalFunctions.Database;
using SignalFunctions.Hosting;

if (OpsCli.IsVerb(args))
{
    return await OpsCli.RunAsync(args);
}

// appsettings.json sits beside the executable; run.sh and the Functions host start it from elsewhere,
// and without it every request logged five Information lines (BENCHMARKS.md).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.ConfigureHostingMode();
builder.AddSignalServer();

var app = builder.Build();
await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(app.Lifetime.ApplicationStopping);
app.MapFunctions();
await app.RunAsync();
return 0;

/// <summary>Visible to tests that start the app in-process.</summary>
public partial class Program;
