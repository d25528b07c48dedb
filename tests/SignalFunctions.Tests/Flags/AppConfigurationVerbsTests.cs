using System.Text.Json;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>The stage and flags verbs when the flags live in App Configuration.</summary>
public sealed class AppConfigurationVerbsTests : IAsyncLifetime
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

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        OpsCommand.RunAsync(_db.ConnectionString, new Dictionary<string, string> { ["AppConfig__ConnectionString"] = _store.ConnectionString }, args);

    [Fact]
    public async Task Stage_writes_the_flag_to_App_Configuration_with_If_Match_and_prints_old_and_new()
    {
        _store.SetFlag(KnownMigrations.ClickEvents, Stage.Off);

        var (exit, output, error) = await RunAsync("stage", KnownMigrations.ClickEvents, "dual_write", "--percent", "25");

        Assert.True(exit == 0, error);
        Assert.Contains("click-events: off (100%) -> dual_write (25%)", output, StringComparison.Ordinal);
        Assert.Equal((Stage.DualWrite, 25), _store.StageIn(KnownMigrations.ClickEvents));
        Assert.Contains(_store.Requests, r => r.Method == "PUT" && r.IfMatch is not null && r.Status == 200);
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM stage_flags WHERE stage <> 'off'")); // the embedded table is not the store now
    }

    [Fact]
    public async Task Stage_creates_a_flag_App_Configuration_does_not_have_yet()
    {
        var (exit, _, error) = await RunAsync("stage", KnownMigrations.SignalEvents, "dual_write");

        Assert.True(exit == 0, error);
        Assert.Equal((Stage.DualWrite, 100), _store.StageIn(KnownMigrations.SignalEvents));
        Assert.Contains(_store.Requests, r => r.Method == "PUT" && r.Status == 200);
    }

    [Fact]
    public async Task Stage_replaces_a_flag_an_sdk_helper_stripped_of_variants_and_allocation_and_says_so()
    {
        // What reading the flag through the JS SDK's typed feature flag and writing it back leaves:
        // a valid feature flag, with no variants and no allocation, so it names no stage.
        var stripped = _store.Seed(StageFeatureFlag.Key(KnownMigrations.SignalEvents), null,
            """{"id":"SignalFunctions.signal-events","description":"","enabled":true,"conditions":{"client_filters":[]}}""",
            FeatureFlagKeys.ContentType);

        var (exit, output, error) = await RunAsync("stage", KnownMigrations.SignalEvents, "dual_write");

        Assert.True(exit == 0, error);
        Assert.Contains("-> dual_write (100%)", output, StringComparison.Ordinal);
        Assert.Contains("replaced a flag the app had rejected (it has no allocation, so it names no stage)", output, StringComparison.Ordinal);
        Assert.Equal((Stage.DualWrite, 100), _store.StageIn(KnownMigrations.SignalEvents));
        // Written over the ETag it read: a real writer in between would still win.
        Assert.Contains(_store.Requests, r => r.Method == "PUT" && r.IfMatch == $"\"{stripped.ETag}\"" && r.Status == 200);
        Assert.Contains("replaced a flag the app had rejected", await _db.ScalarAsync<string>(
            "SELECT reason FROM stage_history WHERE migration = 'signal-events' ORDER BY id DESC LIMIT 1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Guard_alerts_on_a_rejected_stage_flag_and_says_how_to_replace_it()
    {
        var key = StageFeatureFlag.Key(KnownMigrations.ClickEvents);
        _store.Seed(key, null, "{ broken", FeatureFlagKeys.ContentType);

        var (exit, output, error) = await RunAsync("guard");

        Assert.True(exit == 0, error);
        Assert.Contains($"ALERT: stage flag {key} is rejected", output, StringComparison.Ordinal);
        Assert.Contains("./run.sh stage MIGRATION STAGE replaces it", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stage_on_a_locked_flag_says_it_is_locked_and_changes_nothing()
    {
        _store.SetFlag(KnownMigrations.ClickEvents, Stage.Off);
        var client = new AppConfigurationClient(AppConfigurationConnection.Parse(_store.ConnectionString));
        await client.SetLockedAsync(StageFeatureFlag.Key(KnownMigrations.ClickEvents), null, locked: true);

        var (exit, _, error) = await RunAsync("stage", KnownMigrations.ClickEvents, "dual_write");

        Assert.Equal(1, exit);
        Assert.Contains("flag is locked in App Configuration", error, StringComparison.Ordinal);
        Assert.Equal((Stage.Off, 100), _store.StageIn(KnownMigrations.ClickEvents));
    }

    [Fact]
    public async Task Flags_shows_source_label_etag_and_the_rejected_flags()
    {
        _store.SetFlag(KnownMigrations.SignalEvents, Stage.Shadow, 40);
        _store.Seed(StageFeatureFlag.Key(KnownMigrations.ClickEvents), null, "{ broken", FeatureFlagKeys.ContentType);
        _store.Seed("SignalFunctions:Guard:MaxErrorRate", null, "0.05");

        var (exit, output, error) = await RunAsync("flags", "--json");

        Assert.True(exit == 0, error);
        var view = JsonDocument.Parse(output).RootElement;
        Assert.Equal("app-configuration", view.GetProperty("source").GetString());
        Assert.Equal(_store.Endpoint.ToString(), view.GetProperty("store").GetString());
        Assert.False(string.IsNullOrEmpty(view.GetProperty("etag").GetString()));
        Assert.Equal("shadow", view.GetProperty("flags").GetProperty(KnownMigrations.SignalEvents).GetProperty("stage").GetString());
        Assert.Equal(40, view.GetProperty("flags").GetProperty(KnownMigrations.SignalEvents).GetProperty("percent").GetInt32());
        Assert.True(view.GetProperty("rejected").TryGetProperty(StageFeatureFlag.Key(KnownMigrations.ClickEvents), out _));
        Assert.Equal("0.05", view.GetProperty("settings").GetProperty("Guard:MaxErrorRate").GetString());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("last_known_good").ValueKind);

        var (textExit, text, _) = await RunAsync("flags");
        Assert.Equal(0, textExit);
        Assert.Contains("source:          app-configuration", text, StringComparison.Ordinal);
        Assert.Contains("last-known-good: none yet", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_with_App_Configuration_down_and_no_copy_is_a_clear_error()
    {
        await _store.DownAsync();

        var (exit, _, error) = await RunAsync("flags");

        Assert.Equal(1, exit);
        Assert.Contains("unreachable", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_help_describes_the_verb()
    {
        var (exit, output, _) = await RunAsync("flags", "--help");

        Assert.Equal(0, exit);
        Assert.Contains("last-known-good", output, StringComparison.Ordinal);
    }

    /// <summary>Someone writes the flag between the verb's read and its If-Match PUT: 412, nothing overwritten, "run again".</summary>
    [Fact]
    public async Task A_flag_changed_between_read_and_write_is_not_overwritten_and_stage_says_run_again()
    {
        const string migration = KnownMigrations.ClickEvents;
        var key = StageFeatureFlag.Key(migration);
        _store.SetFlag(migration, Stage.Off);
        // Every request waits a while before it is answered: room to write the flag (as the portal
        // would) after the verb has read it and before its PUT is handled.
        _store.Stall(30, TimeSpan.FromSeconds(2));

        var verb = RunAsync("stage", migration, "dual_write");
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
        Assert.Contains("nothing was written. Check './run.sh status', then run the command again.", error, StringComparison.Ordinal);
        Assert.Contains(_store.Requests, r => r.Method == "PUT" && r.IfMatch is not null && r.Status == 412);
        Assert.Equal((Stage.DualWrite, 10), _store.StageIn(migration));
    }

    [Fact]
    public async Task With_Flags_Label_prod_stage_and_flags_read_and_write_that_label_only_and_flags_shows_label_age_and_last_known_good()
    {
        const string migration = KnownMigrations.SignalEvents;
        var key = StageFeatureFlag.Key(migration);
        _store.SetFlag(migration, Stage.Live); // no label: another environment's flag
        _store.Seed(key, "prod", FeatureFlagKeys.Serialize(StageFeatureFlag.Create(migration, Stage.Off, 100)), FeatureFlagKeys.ContentType);
        await new SignalFunctions.Flags.LastKnownGood(_db.DataSource).SaveAsync(_store.Endpoint, new FlagSnapshot(
            new Dictionary<string, StageFlag> { [migration] = new(migration, Stage.Off, 100, 1, DateTimeOffset.UtcNow) },
            "app-configuration", DateTimeOffset.UtcNow.AddMinutes(-2), label: "prod"), CancellationToken.None);
        var prod = new Dictionary<string, string> { ["AppConfig__ConnectionString"] = _store.ConnectionString, ["Flags__Label"] = "prod" };

        var (exit, output, error) = await OpsCommand.RunAsync(_db.ConnectionString, prod, "stage", migration, "dual_write", "--percent", "20");

        Assert.True(exit == 0, error);
        Assert.Contains($"{migration}: off (100%) -> dual_write (20%)", output, StringComparison.Ordinal);
        var put = Assert.Single(_store.Requests, r => r.Method == "PUT");
        Assert.Contains("label=prod", put.Target, StringComparison.Ordinal);
        Assert.All(_store.Requests.Where(r => r.Method == "GET" && r.Target.StartsWith("/kv?", StringComparison.Ordinal)),
            list => Assert.Contains("label=prod", list.Target, StringComparison.Ordinal));
        Assert.Equal((Stage.DualWrite, 20), _store.StageIn(migration, "prod"));
        Assert.Equal((Stage.Live, 100), _store.StageIn(migration)); // the unlabelled flag is untouched

        var (flagsExit, json, flagsError) = await OpsCommand.RunAsync(_db.ConnectionString, prod, "flags", "--json");
        Assert.True(flagsExit == 0, flagsError);
        var view = JsonDocument.Parse(json).RootElement;
        Assert.Equal("prod", view.GetProperty("label").GetString());
        Assert.InRange(view.GetProperty("age_seconds").GetDouble(), 0, 60);
        Assert.Equal("dual_write", view.GetProperty("flags").GetProperty(migration).GetProperty("stage").GetString());
        var lastKnownGood = view.GetProperty("last_known_good");
        Assert.InRange(lastKnownGood.GetProperty("age_seconds").GetDouble(), 119, 3600);

        var (_, text, _) = await OpsCommand.RunAsync(_db.ConnectionString, prod, "flags");
        Assert.Contains("label:           prod", text, StringComparison.Ordinal);
        Assert.Contains("snapshot age:", text, StringComparison.Ordinal);
        Assert.DoesNotContain("last-known-good: none yet", text, StringComparison.Ordinal);
    }
}
