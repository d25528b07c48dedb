using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>Two app processes on one database, both reading their flags from one App Configuration (the contract server).</summary>
public abstract class TwoInstances(int refreshSeconds) : IAsyncLifetime
{
    public int RefreshSeconds { get; } = refreshSeconds;
    public TestDatabase Db { get; private set; } = null!;
    public ContractServer Store { get; private set; } = null!;
    public AppProcess A { get; private set; } = null!;
    public AppProcess B { get; private set; } = null!;

    public IEnumerable<AppProcess> Both => [A, B];

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        Store = await ContractServer.StartAsync();
        Store.PageSize = 100; // App Configuration's own page size: every flag on one page
        Store.SetAllFlags(Stage.Off);
        A = await FlagKit.StartAppAsync(Db, Store, RefreshSeconds);
        B = await FlagKit.StartAppAsync(Db, Store, RefreshSeconds);
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
