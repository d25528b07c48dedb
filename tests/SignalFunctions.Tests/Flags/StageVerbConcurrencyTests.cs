using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// The stage verb against App Configuration when someone else writes the flag between the verb's
/// read and its write: the If-Match PUT gets 412, nothing is written over the other write, and the
/// operator is told the flag changed and to run the command again.
/// </summary>
public sealed class StageVerbConcurrencyTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ContractServer _store = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _store = await ContractServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_flag_changed_between_read_and_write_is_not_overwritten_and_stage_says_run_again()
    {
        const string migration = KnownMigrations.ClickEvents;
        var key = StageFeatureFlag.Key(migration);
        _store.SetFlag(migration, Stage.Off);
        // Every request waits a while before it is answered: room to write the flag (as the portal
        // would) after the verb has read it and before its PUT is handled.
        _store.Stall(30, TimeSpan.FromSeconds(2));

        var verb = OpsCommand.RunAsync(_db.ConnectionString,
            new Dictionary<string, string> { ["AppConfig__ConnectionString"] = _store.ConnectionString },
            "stage", migration, "dual_write");
        var itemPath = $"/kv/{Uri.EscapeDataString(key)}";
        // The other writer writes after every read of the flag: whichever read the verb's If-Match
        // comes from, the flag has changed since.
        var reads = 0;
        while (!verb.IsCompleted)
        {
            var seen = _store.Requests.Count(r => r.Method == "GET" && r.Target.StartsWith(itemPath, StringComparison.Ordinal));
            if (seen > reads)
            {
                reads = seen;
                _store.SetFlag(migration, Stage.DualWrite, 10);
            }
            await Task.Delay(10);
        }
        Assert.True(reads > 0, $"the verb never read {key}: {string.Join(", ", _store.Requests.Select(r => $"{r.Method} {r.Target}"))}");
        var (exit, output, error) = await verb;

        Assert.True(exit == 1, $"exit {exit}: {output}{error}");
        Assert.Contains($"{key} changed in App Configuration while it was being written", error, StringComparison.Ordinal);
        Assert.Contains("nothing was written. Run the command again.", error, StringComparison.Ordinal);
        Assert.Contains(_store.Requests, r => r.Method == "PUT" && r.IfMatch is not null && r.Status == 412);
        var entry = _store.Find(key, null)!;
        Assert.Equal((Stage.DualWrite, 10), StageFeatureFlag.StageOf(entry.Key, FeatureFlagKeys.Parse(entry.Key, entry.Value)));
    }
}
