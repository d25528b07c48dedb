using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>The app's services on a test database, for running a timer function as the scheduler or the Functions host runs it.</summary>
public static class TimerServices
{
    public static ServiceProvider For(TestDatabase db)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Signal"] = db.ConnectionString,
            ["Migrations:ParityFenceSeconds"] = "0",
        }).Build();
        return new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddSignalCore(configuration)
            .BuildServiceProvider();
    }
}
