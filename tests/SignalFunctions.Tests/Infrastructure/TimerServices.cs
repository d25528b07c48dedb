using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>The app's services on a test database, for running a timer function as the scheduler or the Functions host runs it.</summary>
public static class TimerServices
{
    /// <param name="settings">More app settings (configuration keys, ':'-separated), e.g. App Configuration's.</param>
    public static ServiceProvider For(TestDatabase db, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Signal"] = db.ConnectionString,
            ["Migrations:ParityFenceSeconds"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddSignalCore(configuration)
            .BuildServiceProvider();
    }
}
