using Npgsql;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// While another session holds a job's advisory lock for a migration (a second instance,
/// a manual verb), a parity or repair run of that migration skips and says so; it neither runs nor waits.
/// </summary>
public sealed class JobLockSkipTests : IAsyncLifetime
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;
    private TestDatabase _db = null!;
    private NpgsqlConnection _other = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _other = await _db.DataSource.OpenConnectionAsync();
    }

    public async Task DisposeAsync()
    {
        await _other.DisposeAsync();
        await _db.DisposeAsync();
    }

    /// <summary>The lock as another instance's run of the job holds it.</summary>
    private async Task<JobLock> HoldAsync(string job, string migration) =>
        await JobLock.TryTakeAsync(_other, job, migration, CancellationToken.None) ?? throw new InvalidOperationException($"{job} {migration} is already locked");

    private Task<long> ParityReportsAsync() => _db.ScalarAsync<long>("SELECT count(*) FROM parity_reports WHERE migration = 'signal-events'");

    [Fact]
    public async Task Parity_skips_while_another_session_holds_its_lock_and_runs_once_it_is_released()
    {
        var engine = new Engine(_db);
        await engine.SeedLegacyEventsAsync(50);
        await _db.SetStageAsync("signal-events", "dual_write");
        await engine.BackfillAsync(SignalEvents);
        await using var services = TimerServices.For(_db);

        await using (await HoldAsync("parity", SignalEvents.Name))
        {
            Assert.Null(await engine.Parity.RunAsync(SignalEvents, CancellationToken.None));

            var timer = await MigrationTimers.ParityAsync(services, CancellationToken.None);
            Assert.Equal(["Parity signal-events: skipped, another run holds the lock"], timer.Logs);

            var (exit, output, error) = await OpsCommand.RunAsync(_db.ConnectionString, "parity", SignalEvents.Name);
            Assert.True(exit == 3, $"exit {exit}: {output}{error}");
            Assert.Contains("another parity run of signal-events holds its lock", error, StringComparison.Ordinal);
            Assert.Equal(0L, await ParityReportsAsync());

            // The lock is per migration: another migration's parity is not held up.
            Assert.NotNull(await engine.Parity.RunAsync(ClickEventsMigration.Declaration, CancellationToken.None));
        }

        var released = await MigrationTimers.ParityAsync(services, CancellationToken.None);
        Assert.Equal(["Parity signal-events: 50 rows, 0 missing, 0 extra, 0 different, clean"], released.Logs);
        Assert.Equal(1L, await ParityReportsAsync());
    }

    [Fact]
    public async Task Repair_skips_while_another_session_holds_its_lock_leaving_the_queue_untouched_and_drains_it_afterwards()
    {
        var (entry, eventId) = await RepairEntries.QueueNewSideEventAsync(_db);
        await using var services = TimerServices.For(_db);

        await using (await HoldAsync("repair", SignalEvents.Name))
        {
            var run = await new Engine(_db).RepairAsync(SignalEvents);
            Assert.True(run.Skipped);

            var timer = await MigrationTimers.RepairAsync(services, CancellationToken.None);
            Assert.Equal("Repair signal-events: skipped, another run holds the lock", timer.Logs[0]);
            // The other migrations' repairs run as usual.
            Assert.Equal("Repair click-events: 0 repaired, 0 failed, 0 remaining, 0 parity keys fixed",
                Assert.Single(timer.Logs, l => l.StartsWith("Repair click-events", StringComparison.Ordinal)));

            var (exit, output, error) = await OpsCommand.RunAsync(_db.ConnectionString, "repair", SignalEvents.Name);
            Assert.Equal(3, exit);
            Assert.Contains("signal-events: skipped, another repair run holds the lock", output + error, StringComparison.Ordinal);

            var untouched = await RepairEntries.ReadAsync(_db, entry);
            Assert.Equal((0, null), (untouched.Attempts, untouched.ResolvedAt));
            Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        }

        var released = await MigrationTimers.RepairAsync(services, CancellationToken.None);
        Assert.Equal("Repair signal-events: 1 repaired, 0 failed, 0 remaining, 0 parity keys fixed", released.Logs[0]);
        Assert.NotNull((await RepairEntries.ReadAsync(_db, entry)).ResolvedAt);
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @eventId", new { eventId }));
    }
}
