using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>The packaged executable, started once per test class by the host double, on its own database.</summary>
public sealed class HostedHandlerFixture : IAsyncLifetime
{
    public const string AllowedOrigin = "https://blog.example.com";

    public FunctionPackage Package { get; private set; } = null!;
    public TestDatabase Db { get; private set; } = null!;
    public FunctionsHostDouble Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Package = await FunctionPackage.GetAsync();
        Db = await TestDatabase.CreateAsync();
        Host = await FunctionsHostDouble.StartAsync(Package, AppSettings(Db.ConnectionString));
    }

    /// <summary>The Function App's settings, as infra/ and local.settings.sample.json give them.</summary>
    public static Dictionary<string, string> AppSettings(string connectionString) => new()
    {
        ["FUNCTIONS_WORKER_RUNTIME"] = "custom",
        ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        ["ConnectionStrings__Signal"] = connectionString,
        ["RepairSchedule"] = "0 */5 * * * *",
        ["Ingest__AllowedOrigins__0"] = AllowedOrigin,
        ["Clicks__WebhookSecret"] = "contract-test-secret",
    };

    public async Task DisposeAsync()
    {
        // InitializeAsync may have failed part way; dispose what was made.
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
        if (Db is not null)
        {
            await Db.DisposeAsync();
        }
    }
}
