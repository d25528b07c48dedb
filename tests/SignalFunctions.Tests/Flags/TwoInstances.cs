using SignalFunctions.Hosting;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// Two app processes on one database, both reading their flags from one App Configuration (the
/// contract server), each with an access key of its own (<see cref="CredentialOf"/>), so the
/// server's recorded requests say which instance sent them. The timers are off unless
/// <paramref name="settings"/> schedule one: each would read the store (a full listing) on its
/// own schedule, requests a test counting the refresh loop's must not see.
/// </summary>
public abstract class TwoInstances(int refreshSeconds, IReadOnlyDictionary<string, string>? settings = null) : IAsyncLifetime
{
    public const string CredentialA = "instance-a";
    public const string CredentialB = "instance-b";

    public int RefreshSeconds { get; } = refreshSeconds;
    public TestDatabase Db { get; private set; } = null!;
    public ContractServer Store { get; private set; } = null!;
    public AppProcess A { get; private set; } = null!;
    public AppProcess B { get; private set; } = null!;

    public IEnumerable<AppProcess> Both => [A, B];

    public string CredentialOf(AppProcess app) => app == A ? CredentialA : app == B ? CredentialB : throw new ArgumentException("not one of the two", nameof(app));

    public async Task InitializeAsync()
    {
        var appSettings = TimerFunctions.Names.ToDictionary(timer => $"{timer}Schedule", _ => FaultKit.NeverSchedule);
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            appSettings[name] = value;
        }
        Db = await TestDatabase.CreateAsync();
        Store = await ContractServer.StartAsync();
        Store.PageSize = 100; // App Configuration's own page size: every flag on one page
        Store.SetAllFlags(Stage.Off);
        A = await FlagKit.StartAppAsync(Db, Store, RefreshSeconds, CredentialA, appSettings);
        B = await FlagKit.StartAppAsync(Db, Store, RefreshSeconds, CredentialB, appSettings);
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Store.DisposeAsync();
        await Db.DisposeAsync();
    }
}

public sealed class PollingInstances() : TwoInstances(refreshSeconds: 1);

/// <summary>A refresh interval far longer than any test: what changes within a second came by push.</summary>
public sealed class PushedInstances() : TwoInstances(refreshSeconds: 300);
