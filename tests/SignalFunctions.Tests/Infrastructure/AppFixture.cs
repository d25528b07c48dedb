namespace SignalFunctions.Tests.Infrastructure;

/// <summary>One database and one app process shared by the tests of a class (which xunit runs one at a time).</summary>
public class AppFixture : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;
    public AppProcess App { get; private set; } = null!;

    protected virtual IDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Ingest__AllowedOrigins__0"] = "http://localhost:*",
    };

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        App = await AppProcess.StartAsync(Db.ConnectionString, Settings);
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Db.DisposeAsync();
    }
}
