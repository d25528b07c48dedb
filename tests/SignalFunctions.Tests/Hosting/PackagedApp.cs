using System.Collections;
using Microsoft.Extensions.Logging.Abstractions;
using SignalFunctions.DevHost;
using SignalFunctions.DevHost.Settings;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>The packaged app, run from the zip's contents: as a process behind the development host, or under a host in this test.</summary>
public static class PackagedApp
{
    public const string AllowedOrigin = "https://blog.example.com";

    /// <summary>The Function App's settings as infra/ gives them (the schedules come from the sample, as ./run.sh reads it).</summary>
    public static Dictionary<string, string> Settings(string connectionString) => new()
    {
        ["ConnectionStrings__Signal"] = connectionString,
        ["Ingest__AllowedOrigins__0"] = AllowedOrigin,
        ["Clicks__WebhookSecret"] = "contract-test-secret",
    };

    /// <summary>The development host process serving the deployed package.</summary>
    public static async Task<AppProcess> StartAsync(FunctionPackage package, IDictionary<string, string> settings)
    {
        var port = Repo.FreePort();
        var start = AppProcess.DevHostStart(package.Deployed, port);
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        return await AppProcess.StartAsync(start, port, "/api/health");
    }

    /// <summary>
    /// A host in this test process, over the worker's real gRPC stream: for what a test asserts
    /// on the contract itself (metadata, invocation results). Settings are the sample's, then the
    /// environment's, then these.
    /// </summary>
    public static Task<FunctionsHost> HostAsync(FunctionPackage package, IDictionary<string, string> settings, Action<string>? output = null, bool withSample = true)
    {
        var environment = new Hashtable(Environment.GetEnvironmentVariables());
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }
        var files = withSample ? new[] { Path.Combine(Repo.Root, "local.settings.sample.json") } : [];
        return FunctionsHost.StartAsync(package.Deployed, AppSettings.Load(files, environment), NullLoggerFactory.Instance, output ?? (_ => { }), CancellationToken.None);
    }
}
