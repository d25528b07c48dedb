using System.IO.Compression;
using System.Text.Json;
using SignalFunctions.DevHost;
using SignalFunctions.DevHost.Rpc;
using SignalFunctions.DevHost.Triggers;
using SignalFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalFunctions.Tests.Hosting;

/// <summary>
/// The package ./package.sh builds, as the Functions host reads it: the dotnet-isolated files, and
/// the functions the worker declares over its gRPC stream, with the triggers the host serves them by.
/// </summary>
public sealed class PackageContractTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    /// <summary>Every function, as the app's users call it: the spec this suite holds the metadata to.</summary>
    public static readonly (string Name, string Route, string[] Methods, string AuthLevel)[] HttpFunctions =
    [
        ("SignalEvents", "signal/events", ["POST", "OPTIONS"], "anonymous"),
        ("LegacyAttributionEvents", "blog/attribution/events", ["POST", "OPTIONS"], "anonymous"),
        ("Clicks", "clicks", ["POST", "OPTIONS"], "anonymous"),
        ("ClickEvents", "clicks/{clickId}/events", ["POST", "OPTIONS"], "anonymous"),
        ("ClickWebhook", "clicks/webhook", ["POST"], "anonymous"),
        ("ClickList", "clicks", ["GET"], "function"),
        ("ClickExport", "clicks/export.csv", ["GET"], "function"),
        ("SignalPath", "signal/{signalId}/path", ["GET"], "function"),
        ("SignalScript", "signal.js", ["GET", "OPTIONS"], "anonymous"),
        ("Health", "health", ["GET"], "anonymous"),
        ("HealthDetails", "health/details", ["GET"], "function"),
        ("Migrations", "migrations", ["GET"], "function"),
        ("ContentReport", "reports/content/{contentId}", ["GET"], "function"),
        ("FlagsChanged", "flags/changed", ["POST"], "function"),
        ("FunnelReport", "reports/funnel", ["GET"], "function"),
        ("BrandDailyReport", "reports/brands/{brandId}/daily", ["GET"], "function"),
        ("Console", "console", ["GET"], "function"),
        ("ConsoleFile", "console/{file}", ["GET"], "anonymous"),
    ];

    public static readonly string[] TimerFunctions = ["Backfill", "Parity", "Repair", "RefreshViews", "Guard", "Partitions"];

    [Fact]
    public async Task Package_holds_what_the_host_reads_for_a_dotnet_isolated_app()
    {
        var package = await FunctionPackage.GetAsync();
        output.WriteLine($"./package.sh took {package.BuildTime.TotalSeconds:F0} s");
        foreach (var required in new[] { "host.json", "worker.config.json", "functions.metadata", "extensions.json", "SignalFunctions.dll", ".azurefunctions/function.deps.json" })
        {
            Assert.True(File.Exists(Path.Combine(package.Deployed, required)), $"the zip has no {required}");
        }
        Assert.False(File.Exists(Path.Combine(package.Deployed, "local.settings.json")), "local settings must never be deployed");

        using var workerConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(package.Deployed, "worker.config.json")));
        var description = workerConfig.RootElement.GetProperty("description");
        Assert.Equal("dotnet-isolated", description.GetProperty("language").GetString());
        Assert.Equal("dotnet", description.GetProperty("defaultExecutablePath").GetString());
        Assert.Equal("SignalFunctions.dll", description.GetProperty("defaultWorkerPath").GetString());

        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(package.Deployed, "host.json")));
        Assert.Equal("2.0", hostJson.RootElement.GetProperty("version").GetString());
        Assert.False(hostJson.RootElement.TryGetProperty("customHandler", out _), "host.json still configures a custom handler");
        Assert.Equal("api", hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());

        // The folder and the zip hold the same files: what the tests run is what is deployed.
        using var zip = ZipFile.OpenRead(package.Zip);
        Assert.Equal(
            Directory.GetFiles(package.Folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(package.Folder, f)).Order(StringComparer.Ordinal),
            zip.Entries.Where(e => e.Name.Length > 0).Select(e => e.FullName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Worker_declares_every_function_with_its_route_methods_auth_level_and_schedule()
    {
        var package = await FunctionPackage.GetAsync();
        await using var host = await PackagedApp.HostAsync(package, PackagedApp.Settings(_db.ConnectionString));

        Assert.True(host.WorkerCapabilities.ContainsKey("HttpUri"), "the worker did not turn on the ASP.NET Core integration");
        var http = host.Functions.Where(f => f.Http is not null)
            .Select(f => (f.Name, f.Http!.Route, Methods: string.Join(",", f.Http.Methods.Order(StringComparer.Ordinal)), AuthLevel: f.Http.AuthLevel.ToLowerInvariant()))
            .OrderBy(f => f.Name, StringComparer.Ordinal);
        var expected = HttpFunctions
            .Select(f => (f.Name, f.Route, Methods: string.Join(",", f.Methods.Order(StringComparer.Ordinal)), f.AuthLevel))
            .OrderBy(f => f.Name, StringComparer.Ordinal);
        Assert.Equal(expected, http);

        var timers = host.Functions.Where(f => f.Timer is not null).ToList();
        Assert.Equal(TimerFunctions.Order(StringComparer.Ordinal), timers.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var timer in timers)
        {
            // The host resolves the setting; the worker's metadata keeps the expression.
            Assert.Equal($"%{timer.Name}Schedule%", timer.Timer!.Schedule);
        }
        Assert.Equal(HttpFunctions.Length + TimerFunctions.Length, host.Functions.Count);
        Assert.NotNull(TimerTrigger.Schedules(host.Functions));
    }

    [Fact]
    public async Task A_timer_whose_schedule_setting_is_missing_stops_the_host_naming_the_setting()
    {
        var package = await FunctionPackage.GetAsync();
        var error = await Assert.ThrowsAsync<DevHostException>(() =>
            PackagedApp.HostAsync(package, PackagedApp.Settings(_db.ConnectionString), withSample: false));
        Assert.Matches("'%(Backfill|Parity|Repair|RefreshViews|Guard|Partitions)Schedule%' does not resolve to a value", error.Message);
    }

    [Fact]
    public async Task A_timer_invocation_with_TimerInfo_succeeds_on_a_first_run_and_a_past_due_one()
    {
        var package = await FunctionPackage.GetAsync();
        var logs = new List<string>();
        await using var host = await PackagedApp.HostAsync(package, PackagedApp.Settings(_db.ConnectionString), line => { lock (logs) { logs.Add(line); } });
        var timers = new TimerTrigger(host, Microsoft.Extensions.Logging.Abstractions.NullLogger<TimerTrigger>.Instance);

        var first = await timers.RunAsync(host.Find("Repair")!, "test", DateTime.UtcNow.AddMinutes(-5), CancellationToken.None);
        // The second run is past due: the first said the next one was five minutes ago.
        var pastDue = await timers.RunAsync(host.Find("Repair")!, "test", null, CancellationToken.None);

        Assert.Equal(StatusResult.Types.Status.Success, first!.Result.Status);
        Assert.Equal(StatusResult.Types.Status.Success, pastDue!.Result.Status);
        lock (logs)
        {
            Assert.Contains(logs, l => l.Contains("Repair", StringComparison.Ordinal));
        }
    }
}
