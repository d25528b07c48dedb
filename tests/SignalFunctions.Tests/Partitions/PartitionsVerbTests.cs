using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Partitions;

/// <summary>`partitions list` and `partitions ensure`, run as the operator runs them.</summary>
public sealed class PartitionsVerbTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => OpsCommand.RunAsync(_db.ConnectionString, args);

    [Fact]
    public async Task List_shows_each_partition_with_its_range_oldest_first()
    {
        var (exit, output, error) = await RunAsync("partitions", "list");

        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("PARTITION", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("signal_events_history", lines[1], StringComparison.Ordinal);
        Assert.Contains("MINVALUE .. ", lines[1], StringComparison.Ordinal);
        Assert.Equal(await _db.ScalarAsync<long>("SELECT count(*) FROM partition_bounds('signal_events')"), lines.Length - 1);

        var (_, json, _) = await RunAsync("partitions", "list", "--json");
        var names = JsonDocument.Parse(json).RootElement.EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToList();
        Assert.Equal(await _db.QueryAsync<string>("SELECT partition FROM partition_bounds('signal_events') ORDER BY lower_bound NULLS FIRST"), names);
    }

    [Fact]
    public async Task Ensure_makes_the_missing_months_of_a_range_once()
    {
        // Without the (empty) history partition, old months have no partition: as after retention.
        await _db.ExecuteAsync("ALTER TABLE signal_events DETACH PARTITION signal_events_history; DROP TABLE signal_events_history");

        var (exit, output, error) = await RunAsync("partitions", "ensure", "--from", "2025-01-15", "--to", "2025-03-01");

        Assert.True(exit == 0, error);
        Assert.Equal("Partitions signal_events: 2 made", output.Trim());
        Assert.Equal(["signal_events_p2025_01", "signal_events_p2025_02"], await _db.QueryAsync<string>(
            "SELECT partition FROM partition_bounds('signal_events') WHERE upper_bound <= '2025-03-01Z' ORDER BY lower_bound"));
        Assert.Equal("Partitions signal_events: 0 made", (await RunAsync("partitions", "ensure", "--from", "2025-01-15", "--to", "2025-03-01")).Out.Trim());
    }

    [Theory]
    [InlineData("--from", "yesterday")]
    [InlineData("--from", "2025-03-01", "--to", "2025-01-01")]
    public async Task Ensure_refuses_a_bad_range_with_usage(params string[] args)
    {
        var (exit, _, error) = await RunAsync(["partitions", "ensure", .. args]);

        Assert.Equal(2, exit);
        Assert.Contains("Run './run.sh partitions ensure --help' for usage.", error, StringComparison.Ordinal);
    }
}
