using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>The services a timer function runs with, on a test database, with these settings on top.</summary>
public static class TimerServices
{
    public static ServiceProvider Create(TestDatabase db, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?> { ["ConnectionStrings:Signal"] = db.ConnectionString };
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
