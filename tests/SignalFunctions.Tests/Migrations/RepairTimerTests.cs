using SignalFunctions.Migrations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// The Repair timer's runs: one summary line per migration; an entry whose replay
/// fails stays queued with its error and attempt count, and is repaired by a later run once the
/// cause is gone.
/// </summary>
public sealed class RepairTimerTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private const string Blocked = "signal_events refuses writes in this test";

    private async Task<IReadOnlyList<string>> InvokeAsync()
    {
        await using var services = TimerServices.For(db);
        return (await MigrationTimers.RepairAsync(services, CancellationToken.None)).Logs;
    }

    private static string SignalEventsLine(IReadOnlyList<string> logs) =>
        Assert.Single(logs, l => l.StartsWith("Repair signal-events:", StringComparison.Ordinal));

    [Fact]
    public async Task A_failing_replay_stays_queued_with_its_error_and_attempts_and_a_later_run_repairs_it()
    {
        var (entry, eventId) = await RepairEntries.QueueNewSideEventAsync(db);
        await RepairEntries.BlockInsertsAsync(db, "signal_events", Blocked);

        var first = await InvokeAsync();
        var second = await InvokeAsync();

        // One line per migration, in the order of the flags.
        Assert.Equal(KnownMigrations.Names.Select(n => $"Repair {n}:"), first.Select(l => l[..(l.IndexOf(':', StringComparison.Ordinal) + 1)]));
        Assert.Equal("Repair signal-events: 0 repaired, 1 failed, 1 remaining, 0 parity keys fixed", SignalEventsLine(first));
        Assert.Equal("Repair signal-events: 0 repaired, 1 failed, 1 remaining, 0 parity keys fixed", SignalEventsLine(second));
        var queued = await RepairEntries.ReadAsync(db, entry);
        Assert.Null(queued.ResolvedAt);
        Assert.Equal(2, queued.Attempts);
        Assert.Equal($"P0001: {Blocked}", queued.Error);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @eventId", new { eventId }));

        await RepairEntries.UnblockAsync(db, "signal_events");
        var third = await InvokeAsync();

        Assert.Equal("Repair signal-events: 1 repaired, 0 failed, 0 remaining, 0 parity keys fixed", SignalEventsLine(third));
        var repaired = await RepairEntries.ReadAsync(db, entry);
        Assert.NotNull(repaired.ResolvedAt);
        Assert.Equal(3, repaired.Attempts);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @eventId", new { eventId }));

        // Nothing left: the next run repairs nothing and says so.
        Assert.Equal("Repair signal-events: 0 repaired, 0 failed, 0 remaining, 0 parity keys fixed", SignalEventsLine(await InvokeAsync()));
    }
}
