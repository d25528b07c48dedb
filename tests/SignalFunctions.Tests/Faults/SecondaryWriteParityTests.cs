using System.Net;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Faults;

/// <summary>
/// Failed secondary writes, then repair drains them, then parity is clean. Parity runs
/// through the verb, as the operator proves it, before the repair (it must see the lost writes) and after.
/// </summary>
public sealed class SecondaryWriteParityTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    // No fence: the writes and their replays are seconds old, and a fence would hide exactly them.
    private Task<(int Exit, string Out, string Err)> ParityVerbAsync() => OpsCommand.RunAsync(
        _db.ConnectionString, new Dictionary<string, string> { ["Migrations__ParityFenceSeconds"] = "0" }, "parity", "signal-events");

    [Theory(Timeout = FaultKit.TestTimeoutMs)]
    [InlineData("dual_write", "signal_events", "missing in signal_events")]
    [InlineData("live", "blog_attribution_events", "extra in signal_events")]
    public async Task After_repair_drains_the_failed_secondary_writes_parity_reports_equal(string stage, string secondaryTable, string lostAs)
    {
        await _db.SetStageAsync("signal-events", stage);
        var ids = new List<Guid>();
        await using (var app = await AppProcess.StartAsync(_db.ConnectionString, new Dictionary<string, string> { ["RepairSchedule"] = FaultKit.NeverSchedule }))
        {
            // Some events before the failure, some during it, some after: only the middle ones are lost.
            for (var i = 0; i < 12; i++)
            {
                if (i == 3)
                {
                    await _db.ExecuteAsync($"ALTER TABLE {secondaryTable} RENAME TO {secondaryTable}_away");
                }
                if (i == 9)
                {
                    await _db.ExecuteAsync($"ALTER TABLE {secondaryTable}_away RENAME TO {secondaryTable}");
                }
                var e = Events.Signal(eventType: i % 2 == 0 ? "impression" : "save");
                using var response = await app.PostJsonAsync("/api/signal/events", Events.Json(e));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                ids.Add((Guid)e["id"]!);
            }
        }
        var lost = ids.Skip(3).Take(6).Select(id => id.ToString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(6L, await _db.ScalarAsync<long>("SELECT count(*) FROM repair_entries WHERE resolved_at IS NULL"));

        var (beforeExit, before, _) = await ParityVerbAsync();
        Assert.True(beforeExit == 1, before);
        Assert.Contains($"{lostAs}: 6", before, StringComparison.Ordinal);
        Assert.All(lost, key => Assert.Contains(key, before, StringComparison.Ordinal));

        var (repairExit, repair) = await FaultKit.RunRepairVerbAsync(_db.ConnectionString, "signal-events");
        Assert.True(repairExit == 0, repair);
        Assert.Contains("signal-events: 6 repaired, 0 failed, 0 remaining", repair, StringComparison.Ordinal);

        var (afterExit, after, afterError) = await ParityVerbAsync();
        Assert.True(afterExit == 0, after + afterError);
        Assert.Contains("12 rows compared", after, StringComparison.Ordinal);
        Assert.Contains("missing in signal_events: 0\n", after, StringComparison.Ordinal);
        Assert.Contains("extra in signal_events: 0\n", after, StringComparison.Ordinal);
        Assert.Contains("different: 0\n", after, StringComparison.Ordinal);
        Assert.EndsWith("clean\n", after, StringComparison.Ordinal);
        var report = await new Engine(_db).ParityAsync(SignalFunctions.Migrations.Declarations.SignalEventsMigration.Declaration);
        Assert.True(report.Equal && report.Clean, $"{report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different");
        Assert.Equal(12, report.RowsCompared);
    }
}
