using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Tests.AppConfiguration;

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
