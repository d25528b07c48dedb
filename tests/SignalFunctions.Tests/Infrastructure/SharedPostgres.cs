namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// The server every test database lives on: SIGNAL_TEST_DB (a connection string to a server the
/// tests may create databases on) when set, else one throwaway cluster for the whole run.
/// A missing or broken server fails the tests; it never skips them.
/// </summary>
public static class SharedPostgres
{
    private static readonly Lazy<Task<string>> AdminConnection = new(async () =>
    {
        var given = Environment.GetEnvironmentVariable("SIGNAL_TEST_DB");
        if (!string.IsNullOrWhiteSpace(given))
        {
            return given;
        }
        var cluster = await PostgresCluster.StartNewAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return cluster.AdminConnectionString;
    });

    public static Task<string> AdminConnectionStringAsync() => AdminConnection.Value;
}
