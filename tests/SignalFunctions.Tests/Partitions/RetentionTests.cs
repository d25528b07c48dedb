using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Partitions;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Partitions;

/// <summary>
/// Retention: only partitions past Events__RetentionMonths go, archived first when asked, never while a
/// migration still needs signal_events' rows, and a detach left half done is finished.
/// </summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private string _archives = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _archives = Directory.CreateTempSubdirectory("retention-").FullName;
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(_archives, recursive: true);
        await _db.DisposeAsync();
    }

    private static readonly Dictionary<string, string> KeepThree = new() { ["Events__RetentionMonths"] = "3" };

    private Task<(int Exit, string Out, string Err)> RetireAsync(params string[] args) =>
        OpsCommand.RunAsync(_db.ConnectionString, KeepThree, ["partitions", "retire", .. args]);

    [Fact]
    public async Task Drops_only_eligible_partitions()
    {
        var months = await _db.PastMonthsAsync(6);
        for (var i = 0; i < months.Count; i++)
        {
            await _db.FillAsync(months[i], 10 + i);
        }
        // First-seen times: one inside each month, as retried untimed ids leave them.
        await _db.ExecuteAsync("""
            INSERT INTO signal_event_first_seen (id, created_at)
            SELECT gen_random_uuid(), lower_bound + interval '1 day' FROM partition_bounds('signal_events') WHERE lower_bound IS NOT NULL
            """);
        await using var services = TimerServices.For(_db, new Dictionary<string, string?>
        {
            ["Events:RetentionMonths"] = "3",
            ["Events:RetentionAction"] = "drop",
        });

        var outcome = await EventPartitions.RunTimerAsync(services, CancellationToken.None);

        // Those ending on or before the start of the month three months back: the three oldest.
        string[] gone = [months[0], months[1], months[2]];
        Assert.False(outcome.Failed, string.Join('\n', outcome.Logs));
        Assert.Equal(gone.Length, outcome.Logs.Count - 1);
        Assert.All(gone.Zip(outcome.Logs.Skip(1)), pair =>
        {
            Assert.StartsWith($"Retention {pair.First} (", pair.Second, StringComparison.Ordinal);
            Assert.Contains("): dropped (", pair.Second, StringComparison.Ordinal);
        });
        var left = await _db.QueryAsync<string>("SELECT partition FROM partition_bounds('signal_events') ORDER BY lower_bound");
        Assert.Equal(months.Skip(3), left.Take(3));
        Assert.All(gone, m => Assert.DoesNotContain(m, left));
        foreach (var m in gone)
        {
            Assert.Null(await _db.ScalarAsync<string?>("SELECT to_regclass(@m)::text", new { m }));
        }
        for (var i = 3; i < months.Count; i++)
        {
            Assert.Equal(10 + i, await _db.ScalarAsync<long>($"SELECT count(*) FROM {months[i]}"));
        }
        Assert.Equal(Enumerable.Range(3, 3).Sum(i => 10 + i), await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        Assert.Equal(gone.Select(m => (m, "dropped")), await _db.QueryAsync<(string, string)>(
            "SELECT partition, state FROM partition_archives ORDER BY range_to"));
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM partition_archives WHERE file IS NOT NULL OR finished_at IS NULL"));
        // First-seen times below the lowest partition left are gone; the rest stay.
        var lowest = await _db.ScalarAsync<DateTime>("SELECT min(lower_bound) FROM partition_bounds('signal_events')");
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_event_first_seen WHERE created_at < @lowest", new { lowest }));
        Assert.Equal(await _db.ScalarAsync<long>("SELECT count(*) FROM partition_bounds('signal_events')"),
            await _db.ScalarAsync<long>("SELECT count(*) FROM signal_event_first_seen"));

        // Nothing more is due: the next run retires nothing.
        Assert.Equal(["Partitions signal_events: 0 made"], (await EventPartitions.RunTimerAsync(services, CancellationToken.None)).Logs);
    }

    [Fact]
    public async Task Archives_before_dropping()
    {
        var months = await _db.PastMonthsAsync(4);
        var oldest = months[0];
        await _db.FillAsync(oldest, 250);
        await _db.FillAsync(months[1], 7);
        var ids = (await _db.QueryAsync<Guid>($"SELECT id FROM {oldest}")).Select(id => id.ToString()).ToHashSet();

        var (exit, output, error) = await RetireAsync("--dir", _archives);

        Assert.True(exit == 0, error);
        var file = Path.Combine(_archives, $"{oldest}.csv.gz");
        Assert.Contains($"{oldest} (", output, StringComparison.Ordinal);
        Assert.Contains($"archived to {file} (250 rows", output, StringComparison.Ordinal);
        Assert.Matches(@$"{oldest}: 250 of 250 rows, [\d.]+ MB of CSV, [\d.]+ MB written, [\d,]+ rows/s", output);

        // Header plus one line per row (no value here holds a line break), every id once.
        string[] lines;
        await using (var gzip = new GZipStream(File.OpenRead(file), CompressionMode.Decompress))
        using (var reader = new StreamReader(gzip))
        {
            lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        var columns = await _db.QueryAsync<string>("""
            SELECT attname FROM pg_attribute WHERE attrelid = 'signal_events'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
            """);
        Assert.Equal(string.Join(',', columns), lines[0]);
        Assert.Equal(251, lines.Length);
        var idColumn = columns.ToList().IndexOf("id");
        Assert.Equal(0, idColumn);
        Assert.Equal(ids, lines.Skip(1).Select(l => l[..l.IndexOf(',', StringComparison.Ordinal)]).ToHashSet());

        var record = (await _db.QueryAsync<(string State, long Rows, string File, long FileBytes, string Sha256)>(
            "SELECT state, rows, file, file_bytes, sha256 FROM partition_archives WHERE partition = @oldest", new { oldest })).Single();
        Assert.Equal(("dropped", 250L, file, new FileInfo(file).Length), (record.State, record.Rows, record.File, record.FileBytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))), record.Sha256);
        Assert.Null(await _db.ScalarAsync<string?>("SELECT to_regclass(@oldest)::text", new { oldest }));
        Assert.Equal(7L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_archives, $"{oldest}.json")));
        Assert.Equal(250, manifest.RootElement.GetProperty("rows").GetInt64());
        Assert.Equal(record.Sha256, manifest.RootElement.GetProperty("sha256").GetString());
        Assert.Equal(columns, manifest.RootElement.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));
        Assert.StartsWith("./run.sh partitions ensure --from ", manifest.RootElement.GetProperty("restore")[0].GetString(), StringComparison.Ordinal);

        var (statusExit, json, statusError) = await OpsCommand.RunAsync(_db.ConnectionString, KeepThree, "status", "--json");
        Assert.True(statusExit == 0, statusError);
        var partitions = JsonDocument.Parse(json).RootElement.EnumerateArray()
            .Single(m => m.GetProperty("migration").GetString() == "signal-events").GetProperty("partitions");
        var archive = partitions.GetProperty("archives").EnumerateArray().Single();
        Assert.Equal((oldest, "dropped", file, record.Sha256), (archive.GetProperty("partition").GetString(), archive.GetProperty("state").GetString(),
            archive.GetProperty("file").GetString(), archive.GetProperty("sha256").GetString()));
        Assert.Empty(partitions.GetProperty("due").EnumerateArray());
        var (_, text, _) = await OpsCommand.RunAsync(_db.ConnectionString, KeepThree, "status");
        Assert.Contains("EVENT PARTITIONS (signal_events, on created_at, UTC)", text, StringComparison.Ordinal);
        Assert.Contains($"archived to {file} (250 rows", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refuses_while_a_migration_needs_the_rows()
    {
        var oldest = (await _db.PastMonthsAsync(4))[0];
        await _db.FillAsync(oldest, 12);
        await _db.ExecuteAsync("ANALYZE signal_events");
        await _db.SetStageAsync("signal-events", "shadow");

        var (exit, _, error) = await RetireAsync("--drop");

        Assert.Equal(1, exit);
        Assert.Contains($"{oldest} (", error, StringComparison.Ordinal);
        Assert.Contains("~12 rows) is past Events__RetentionMonths=3 but kept: migration signal-events is at shadow: " +
                        "its backfill, parity and repair still read signal_events (retired rows would show as missing against blog_attribution_events), " +
                        "and a rollback copies back from it, while DETACH and DROP fire no DELETE trigger for the cut-over to record. " +
                        "Retention resumes once signal-events is cleaned up ('./run.sh cleanup signal-events') or set off ('./run.sh stage signal-events off').",
            error, StringComparison.Ordinal);
        Assert.Equal(oldest, await _db.ScalarAsync<string>("SELECT partition FROM partition_bounds('signal_events') WHERE partition = @oldest AND NOT detach_pending", new { oldest }));
        Assert.Equal(12L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM partition_archives"));

        // The timer says the same and does nothing either, without failing.
        await using (var services = TimerServices.For(_db, new Dictionary<string, string?> { ["Events:RetentionMonths"] = "3", ["Events:RetentionAction"] = "drop" }))
        {
            var outcome = await EventPartitions.RunTimerAsync(services, CancellationToken.None);
            Assert.False(outcome.Failed);
            Assert.StartsWith($"Retention {oldest} (", Assert.Single(outcome.Logs.Skip(1)), StringComparison.Ordinal);
            Assert.Contains("kept: migration signal-events is at shadow", outcome.Logs[1], StringComparison.Ordinal);
        }
        Assert.Equal(12L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));

        await _db.SetStageAsync("signal-events", "off");
        (exit, var output, error) = await RetireAsync("--drop");

        Assert.True(exit == 0, error);
        Assert.Contains($"{oldest} (", output, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        Assert.Equal("dropped", await _db.ScalarAsync<string>("SELECT state FROM partition_archives WHERE partition = @oldest", new { oldest }));
    }

    [Fact]
    public async Task Finalizes_an_interrupted_detach()
    {
        var oldest = (await _db.PastMonthsAsync(4))[0];
        await _db.FillAsync(oldest, 5);
        // A reader's snapshot older than the detach: DETACH … CONCURRENTLY waits for it, and a
        // statement timeout cancels the wait after the partition was already marked.
        await using (var reader = await _db.DataSource.OpenConnectionAsync())
        {
            await using var snapshot = await reader.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
            await using (var count = new NpgsqlCommand("SELECT count(*) FROM signal_events", reader, snapshot))
            {
                Assert.Equal(5L, await count.ExecuteScalarAsync());
            }
            // Its own statement: DETACH … CONCURRENTLY refuses to run in a transaction, implicit ones too.
            await using var detacher = await _db.DataSource.OpenConnectionAsync();
            await detacher.ExecuteAsync("SET statement_timeout = '1s'");
            var cancelled = await Assert.ThrowsAsync<PostgresException>(() => detacher.ExecuteAsync(
                $"ALTER TABLE signal_events DETACH PARTITION {oldest} CONCURRENTLY"));
            Assert.Equal(PostgresErrorCodes.QueryCanceled, cancelled.SqlState);
            await snapshot.RollbackAsync();
        }
        Assert.True(await _db.ScalarAsync<bool>("SELECT detach_pending FROM partition_bounds('signal_events') WHERE partition = @oldest", new { oldest }));
        await using var services = TimerServices.For(_db, new Dictionary<string, string?> { ["Events:RetentionMonths"] = "3", ["Events:RetentionAction"] = "drop" });

        var outcome = await EventPartitions.RunTimerAsync(services, CancellationToken.None);

        Assert.False(outcome.Failed, string.Join('\n', outcome.Logs));
        Assert.StartsWith($"Retention {oldest} (", Assert.Single(outcome.Logs.Skip(1)), StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM partition_bounds('signal_events') WHERE partition = @oldest OR detach_pending", new { oldest }));
        Assert.Null(await _db.ScalarAsync<string?>("SELECT to_regclass(@oldest)::text", new { oldest }));
        Assert.Equal("dropped", await _db.ScalarAsync<string>("SELECT state FROM partition_archives WHERE partition = @oldest", new { oldest }));
    }

    [Fact]
    public async Task Resumes_a_retirement_left_after_the_detach()
    {
        var oldest = (await _db.PastMonthsAsync(4))[0];
        await _db.FillAsync(oldest, 9);
        // As a run that died right after the detach left it: a standalone table and its record.
        await _db.ExecuteAsync($"""
            INSERT INTO partition_archives (parent, partition, range_from, range_to, state, actor)
            SELECT 'signal_events', partition, lower_bound, upper_bound, 'detached', 'test' FROM partition_bounds('signal_events') WHERE partition = @oldest;
            ALTER TABLE signal_events DETACH PARTITION {oldest};
            """, new { oldest });

        var (exit, output, error) = await RetireAsync("--dry-run", "--dir", _archives);
        Assert.True(exit == 0, error);
        Assert.Contains($"  {oldest} (", output, StringComparison.Ordinal);
        Assert.Contains("resuming from detached", output, StringComparison.Ordinal);
        Assert.Equal(9L, await _db.ScalarAsync<long>($"SELECT count(*) FROM {oldest}"));

        (exit, output, error) = await RetireAsync("--dir", _archives);

        Assert.True(exit == 0, error);
        Assert.Contains($"archived to {Path.Combine(_archives, $"{oldest}.csv.gz")} (9 rows", output, StringComparison.Ordinal);
        Assert.Equal([("dropped", 9L)], await _db.QueryAsync<(string, long)>("SELECT state, rows FROM partition_archives"));
    }

    [Fact]
    public async Task Retire_says_what_is_wrong_and_changes_nothing()
    {
        var months = await _db.PastMonthsAsync(4);
        await _db.FillAsync(months[0], 3);
        var blocked = Path.Combine(_archives, "a-file");
        await File.WriteAllTextAsync(blocked, "");

        var unknown = await RetireAsync("--drop", "--partition", "signal_events_p1999_01");
        var notDue = await RetireAsync("--drop", "--partition", months[1]);
        var notWritable = await RetireAsync("--dir", Path.Combine(blocked, "archives"));
        var both = await RetireAsync("--drop", "--dir", _archives);
        var nowhere = await RetireAsync();
        var keepAll = await OpsCommand.RunAsync(_db.ConnectionString, "partitions", "retire", "--drop");
        var dryRun = await RetireAsync("--drop", "--dry-run");

        Assert.Equal((1, "error: signal_events has no partition signal_events_p1999_01: './run.sh partitions list' shows them."), (unknown.Exit, unknown.Err.Trim()));
        Assert.Equal(1, notDue.Exit);
        Assert.StartsWith($"error: {months[1]} (", notDue.Err, StringComparison.Ordinal);
        Assert.Contains("is not past retention: with Events__RetentionMonths=3, only partitions ending on or before", notDue.Err, StringComparison.Ordinal);
        Assert.Equal(1, notWritable.Exit);
        Assert.StartsWith($"error: cannot write archives to {Path.Combine(blocked, "archives")}: ", notWritable.Err, StringComparison.Ordinal);
        Assert.EndsWith("Nothing was detached.", notWritable.Err.Trim(), StringComparison.Ordinal);
        Assert.Equal(2, both.Exit);
        Assert.Contains("error: give --dir or --drop, not both.", both.Err, StringComparison.Ordinal);
        Assert.Equal(2, nowhere.Exit);
        Assert.Contains("error: nothing to archive to: give --dir DIR (or set Events__ArchiveDirectory), or --drop", nowhere.Err, StringComparison.Ordinal);
        Assert.Equal((0, "Nothing to retire: Events__RetentionMonths is 0, which keeps every partition."), (keepAll.Exit, keepAll.Out.Trim()));
        Assert.Equal(0, dryRun.Exit);
        Assert.Equal($"Would drop, without an archive:\n  {months[0]} (", dryRun.Out[..(dryRun.Out.IndexOf('(', StringComparison.Ordinal) + 1)]);

        Assert.Equal(months, (await _db.QueryAsync<string>(
            "SELECT partition FROM partition_bounds('signal_events') WHERE NOT detach_pending ORDER BY lower_bound")).Take(4));
        Assert.Equal(3L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM partition_archives"));
    }

    [Theory]
    [InlineData("Events:RetentionMonths", "1", "Events:RetentionMonths must be 0 (keep every partition) or at least 2")]
    [InlineData("Events:RetentionMonths", "-1", "RetentionMonths")]
    [InlineData("Events:RetentionAction", "delete", "Events:RetentionAction must be archive or drop.")]
    public async Task A_retention_setting_out_of_range_is_refused_by_name(string key, string value, string message)
    {
        await using var services = TimerServices.For(_db, new Dictionary<string, string?> { [key] = value });

        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<EventsOptions>>().Value);
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_verb_refuses_a_retention_setting_by_name()
    {
        var (exit, _, error) = await OpsCommand.RunAsync(_db.ConnectionString, new Dictionary<string, string> { ["Events__RetentionMonths"] = "1" },
            "partitions", "retire", "--drop");

        Assert.Equal(1, exit);
        Assert.Contains("Events:RetentionMonths must be 0 (keep every partition) or at least 2", error, StringComparison.Ordinal);
    }
}
