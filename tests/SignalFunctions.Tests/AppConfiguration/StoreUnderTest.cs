using Azure.Core;
using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>A store the client cases run against: the in-process contract server, or a real store / the emulator.</summary>
public interface IStoreUnderTest : IAsyncDisposable
{
    string ConnectionString { get; }

    /// <summary>How many items one page holds, so a case can make a listing span pages.</summary>
    int PageSize { get; }

    /// <summary>Keys under this prefix belong to this run only, and are removed afterwards.</summary>
    string KeyPrefix { get; }

    /// <summary>A migration name for stage flags that belong to this run only.</summary>
    string Migration { get; }
}

public sealed class ContractStore(ContractServer server) : IStoreUnderTest
{
    public ContractServer Server { get; } = server;

    public string ConnectionString => Server.ConnectionString;
    public int PageSize => Server.PageSize;
    public string KeyPrefix => "tests/";
    public string Migration => "contract-test";

    public static async Task<ContractStore> StartAsync(bool https = false) => new(await ContractServer.StartAsync(https));

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// A real App Configuration store or the emulator, from SIGNAL_TEST_APPCONFIG. Everything a run
/// writes sits under a fresh prefix (and one stage flag) and is deleted at the end.
/// </summary>
public sealed class RealStore(string connectionString, int pageSize = 100) : IStoreUnderTest
{
    public const string Variable = "SIGNAL_TEST_APPCONFIG";
    private readonly string _run = Guid.NewGuid().ToString("N")[..12];

    public RealStore()
        : this(Environment.GetEnvironmentVariable(Variable) ?? throw new InvalidOperationException($"{Variable} is not set."))
    {
    }

    public string ConnectionString { get; } = connectionString;

    /// <summary>The service's page size (100 key-values).</summary>
    public int PageSize { get; } = pageSize;

    public string KeyPrefix => $"signalfunctions-tests/{_run}/";
    public string Migration => $"test-{_run}";

    public async ValueTask DisposeAsync()
    {
        var client = new AppConfigurationClient(AppConfigurationConnection.Parse(ConnectionString));
        var mine = (await client.ListAsync(new KeyValueSelector(KeyPrefix + "*", "*"))).Items.ToList();
        if (await client.GetAsync(StageFeatureFlag.Key(Migration)) is { } flag)
        {
            mine.Add(flag);
        }
        foreach (var keyValue in mine)
        {
            if (keyValue.Locked)
            {
                await client.SetLockedAsync(keyValue.Key, keyValue.Label, locked: false);
            }
            await client.DeleteAsync(keyValue.Key, keyValue.Label);
        }
    }
}

/// <summary>Skipped, saying how to enable it, unless SIGNAL_TEST_APPCONFIG holds a connection string.</summary>
public sealed class RealStoreFactAttribute : FactAttribute
{
    public RealStoreFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(RealStore.Variable)))
        {
            Skip = $"Runs against a real App Configuration store or the emulator: set {RealStore.Variable} to its connection " +
                   "string (Endpoint=https://{store}.azconfig.io;Id=…;Secret=…) to enable it.";
        }
    }
}

/// <summary>A clock that says what it is told: fixed dates for known answers, skewed ones for the ±15 minute check.</summary>
public sealed class SetClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>A token credential that hands out one token and remembers the scopes it was asked for.</summary>
public sealed class FakeCredential(string token) : TokenCredential
{
    private readonly List<string> _scopes = [];

    public IReadOnlyList<string> Scopes
    {
        get { lock (_scopes) { return _scopes.ToList(); } }
    }

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        lock (_scopes)
        {
            _scopes.AddRange(requestContext.Scopes);
        }
        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
