using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Cli;

/// <summary>The ops verbs, run as the operator runs them: the app's executable with the database in the environment.</summary>
public sealed class OpsVerbsTests : IClassFixture<TestDatabase>
{
    private readonly TestDatabase _db;

    public OpsVerbsTests(TestDatabase db) => _db = db;

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => OpsCommand.RunAsync(_db.ConnectionString, args);

    [Fact]
    public async Task Stage_prints_old_and_new_and_status_json_shows_it()
    {
        var (exit, output, _) = await RunAsync("stage", "click-events", "dual_write", "--percent", "10");
        Assert.Equal(0, exit);
        Assert.Contains("click-events: off (100%) -> dual_write (10%)", output, StringComparison.Ordinal);

        var (statusExit, json, _) = await RunAsync("status", "--json");
        Assert.Equal(0, statusExit);
        var click = JsonDocument.Parse(json).RootElement.EnumerateArray().Single(m => m.GetProperty("migration").GetString() == "click-events");
        Assert.Equal("dual_write", click.GetProperty("stage").GetString());
        Assert.Equal(10, click.GetProperty("percent").GetInt32());
        Assert.Equal("off", click.GetProperty("previous_stage").GetString());
        Assert.Equal(0, click.GetProperty("repair_pending").GetInt32());
    }

    [Fact]
    public async Task Status_prints_a_table_for_people()
    {
        var (exit, output, _) = await RunAsync("status");
        Assert.Equal(0, exit);
        Assert.StartsWith("MIGRATION", output, StringComparison.Ordinal);
        Assert.Contains("signal-events", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("stage", "signal-events", "paused")]
    [InlineData("stage", "no-such-migration", "off")]
    [InlineData("stage", "signal-events", "live", "--percent", "101")]
    [InlineData("stage", "signal-events", "live", "--percent", "abc")]
    [InlineData("stage", "signal-events")]
    [InlineData("status", "--yaml")]
    [InlineData("db", "drop")]
    public async Task A_wrong_verb_or_argument_prints_usage_and_exits_2(params string[] args)
    {
        var (exit, _, error) = await RunAsync(args);
        Assert.Equal(2, exit);
        Assert.Contains("--help", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("status", "--help")]
    [InlineData("stage", "--help")]
    [InlineData("db", "--help")]
    [InlineData("db", "migrate", "--help")]
    [InlineData("repair", "--help")]
    public async Task Every_verb_has_help(params string[] args)
    {
        var (exit, output, _) = await RunAsync(args);
        Assert.Equal(0, exit);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Db_migrate_is_a_no_op_on_an_up_to_date_database()
    {
        var (exit, output, _) = await RunAsync("db", "migrate");
        Assert.Equal(0, exit);
        Assert.Contains("Schema is up to date.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_connection_string_is_a_clear_error_naming_the_setting()
    {
        var (exit, _, error) = await OpsCommand.RunAsync("Host=127.0.0.1;Bogus Key=1", "status");

        Assert.Equal(1, exit);
        Assert.Contains("ConnectionStrings__Signal", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_database_is_a_clear_error_not_a_stack_trace()
    {
        var (exit, _, error) = await OpsCommand.RunAsync($"Host=127.0.0.1;Port={Repo.FreePort()};Username=postgres;Database=x;Timeout=2", "status");

        Assert.Equal(1, exit);
        Assert.Contains("database is unreachable", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }
}
