using Dapper;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Partitions;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Partitions;

/// <summary>
/// `partitions convert` on a database that held events before partitioning came: schema 0018 leaves
/// its signal_events a plain table, and the verb makes it partitioned in place while ingest goes on.
/// </summary>
public sealed class PartitionConversionTests
{
    private const int Existing = 10_000;

    private static readonly Dictionary<string, string> NoRateLimit = new() { ["Ingest__RateLimitPerSecond"] = "0" };

    [Fact]
    public async Task Converts_a_populated_table_under_ingest()
    {
        await using var db = await ExistingDatabaseAsync(Existing);
        var role = $"Reader_{Guid.NewGuid():N}"[..20];
        await db.ExecuteAsync($"""CREATE ROLE "{role}"; GRANT SELECT ON signal_events TO "{role}" WITH GRANT OPTION; GRANT SELECT ON signal_events TO PUBLIC""");
        try
        {
            IReadOnlyCollection<Guid> accepted;
            (int Exit, string Out, string Err) convert;
            await using (var app = await AppProcess.StartAsync(db.ConnectionString, NoRateLimit))
            {
                // complete: signal_events is the only side written, so a failed insert is a refused event.
                await db.SetStageAndWaitAsync(app, "signal-events", "complete");
                (accepted, convert) = await ConvertUnderLoadAsync(db, app, 300);
            }

            Assert.True(convert.Exit == 0, convert.Out + convert.Err);
            foreach (var step in new[] { "[1/5] built CONCURRENTLY", "[2/5] added NOT VALID, then validated", "[3/5] done", "[4/5] 3 made", "[5/5] done" })
            {
                Assert.Contains(step, convert.Out, StringComparison.Ordinal);
            }
            Assert.Equal("p", await KindAsync(db));
            Assert.Equal("(id, created_at)", await db.ScalarAsync<string>("""
                SELECT substring(pg_get_constraintdef(oid) FROM '\(.*\)') FROM pg_constraint WHERE conrelid = 'signal_events'::regclass AND contype = 'p'
                """));
            Assert.Equal(Existing, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events_history WHERE session_id = 'existing'"));
            Assert.Equal(accepted.Count, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = ANY(@ids)", new { ids = accepted.ToArray() }));
            Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM repair_entries"));

            // The history ends at a month start at least 7 days after the conversion; the months ahead follow it.
            var bounds = await db.QueryAsync<(string Name, DateTime? Lower, DateTime? Upper)>(
                "SELECT partition, lower_bound, upper_bound FROM partition_bounds('signal_events') ORDER BY lower_bound NULLS FIRST");
            Assert.Equal(("signal_events_history", (DateTime?)null), (bounds[0].Name, bounds[0].Lower));
            var cutoff = bounds[0].Upper!.Value;
            Assert.True(cutoff >= DateTime.UtcNow.AddDays(7) && cutoff.Day == 1 && cutoff.TimeOfDay == TimeSpan.Zero, $"cutoff {cutoff:O}");
            Assert.Equal([cutoff, cutoff.AddMonths(1), cutoff.AddMonths(2)], bounds.Skip(1).Select(b => b.Lower!.Value));

            Assert.Equal(
                ["signal_events_rollup_deleted", "signal_events_rollup_truncated", "signal_events_rollup_updated"],
                await db.QueryAsync<string>("SELECT tgname FROM pg_trigger WHERE tgrelid = 'signal_events'::regclass AND NOT tgisinternal ORDER BY 1"));
            // The rollup triggers fire on the parent.
            var gone = await db.ScalarAsync<Guid>("SELECT content_id FROM signal_events WHERE id = @id", new { id = accepted.First() });
            await db.ExecuteAsync("DELETE FROM signal_events WHERE content_id = @gone", new { gone });
            Assert.Equal(1, await db.ScalarAsync<long>("SELECT count(*) FROM signal_rollup_changes WHERE content_id = @gone", new { gone }));

            Assert.True(await db.ScalarAsync<bool>($"SELECT has_table_privilege('{role}', 'signal_events', 'SELECT WITH GRANT OPTION')"));
            Assert.True(await db.ScalarAsync<bool>(
                "SELECT EXISTS (SELECT FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = 'signal_events'::regclass AND a.grantee = 0 AND a.privilege_type = 'SELECT')"));
        }
        finally
        {
            await db.ExecuteAsync($"""DROP OWNED BY "{role}"; DROP ROLE "{role}" """);
        }
    }

    [Fact]
    public async Task Converts_a_cut_over_table_and_the_view_follows()
    {
        await using var db = await ExistingDatabaseAsync(2_000);
        await db.SetStageAsync("signal-events", "complete");
        await new Engine(db).Cutover.CutOverAsync(SignalEventsMigration.Declaration, "test", CancellationToken.None);
        IReadOnlyCollection<Guid> accepted;
        (int Exit, string Out, string Err) convert;
        await using (var app = await AppProcess.StartAsync(db.ConnectionString, NoRateLimit))
        {
            (accepted, convert) = await ConvertUnderLoadAsync(db, app, 200);
        }

        Assert.True(convert.Exit == 0, convert.Out + convert.Err);
        Assert.Equal("p", await KindAsync(db));
        // Now (and the load's events) still fall in the history, so a view left bound to the old table
        // would show them too: only a row in a month partition tells the views apart.
        var later = Guid.NewGuid();
        await db.ExecuteAsync("""
            INSERT INTO signal_events (id, signal_id, content_id, target_type, target_id, event_type, source_component, created_at)
            SELECT @later, gen_random_uuid(), gen_random_uuid(), 'tutor', gen_random_uuid(), 'click', 'tutor_embed', upper_bound + interval '1 day'
              FROM partition_bounds('signal_events') WHERE partition = 'signal_events_history'
            """, new { later });
        Assert.Equal(accepted.Count + 1, await db.ScalarAsync<long>(
            "SELECT count(*) FROM blog_attribution_events WHERE id = ANY(@ids)", new { ids = accepted.Append(later).ToArray() }));
        Assert.Equal(2_000 + accepted.Count + 1, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events"));
        Assert.Equal(
            ["signal_events_cutover_deletes", "signal_events_cutover_rekeys", "signal_events_cutover_truncate",
             "signal_events_rollup_deleted", "signal_events_rollup_truncated", "signal_events_rollup_updated"],
            await db.QueryAsync<string>("SELECT tgname FROM pg_trigger WHERE tgrelid = 'signal_events'::regclass AND NOT tgisinternal ORDER BY 1"));

        // The cut-over's delete recording works on the parent, and the rollback copies back from it.
        var deleted = accepted.First();
        await db.ExecuteAsync("DELETE FROM blog_attribution_events WHERE id = @deleted", new { deleted });
        Assert.Equal(1, await db.ScalarAsync<long>(
            "SELECT count(*) FROM cutover_deletes WHERE table_name = 'signal_events' AND key = @key", new { key = deleted.ToString() }));
        var rollback = await Ops(db, "rollback", "signal-events");
        Assert.True(rollback.Exit == 0, rollback.Out + rollback.Err);
        Assert.Equal(2_000 + accepted.Count, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events"));
    }

    [Fact]
    public async Task Resumes_after_an_interrupted_run()
    {
        await using var db = await ExistingDatabaseAsync(2_000);
        // What an interrupted run leaves: an index build that failed (invalid; here it fails on
        // duplicates) and a CHECK added NOT VALID but never validated, with that run's cutoff.
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            db.ExecuteAsync("CREATE UNIQUE INDEX CONCURRENTLY signal_events_id_created ON signal_events (content_type)"));
        Assert.False(await db.ScalarAsync<bool>("SELECT indisvalid FROM pg_index WHERE indexrelid = 'signal_events_id_created'::regclass"));
        var earlier = await LeaveCheckAsync(db, validated: false);

        var (exit, output, error) = await Ops(db, "partitions", "convert");

        Assert.True(exit == 0, output + error);
        Assert.Contains("dropping the unusable signal_events_id_created", output, StringComparison.Ordinal);
        Assert.Contains("from the CHECK signal_events_history_range an earlier run left", output, StringComparison.Ordinal);
        Assert.Contains("[2/5] validated (added by an earlier run)", output, StringComparison.Ordinal);
        Assert.Equal("p", await KindAsync(db));
        Assert.Equal(earlier, await db.ScalarAsync<DateTime>("SELECT upper_bound FROM partition_bounds('signal_events') WHERE partition = 'signal_events_history'"));
        Assert.Equal("PRIMARY KEY (id, created_at)", await db.ScalarAsync<string>(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'signal_events_history'::regclass AND contype = 'p'"));
        Assert.Equal(2_000, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }

    [Fact]
    public async Task A_busy_table_is_left_as_it_was_and_the_next_run_finishes()
    {
        await using var db = await ExistingDatabaseAsync(1_000);
        // An earlier run got as far as the swap. (The index build would also wait for the report below:
        // CONCURRENTLY waits for every older snapshot; adding the CHECK, for the same lock as the swap.)
        await db.ExecuteAsync("CREATE UNIQUE INDEX signal_events_id_created ON signal_events (id, created_at)");
        await LeaveCheckAsync(db, validated: true);
        await using (var reader = await db.DataSource.OpenConnectionAsync())
        await using (var tx = await reader.BeginTransactionAsync())
        {
            // A long report: its ACCESS SHARE lock keeps the swap's ACCESS EXCLUSIVE waiting.
            await reader.ExecuteScalarAsync<long>("SELECT count(*) FROM signal_events", transaction: tx);

            var (exit, output, error) = await Ops(db, "partitions", "convert", "--tries", "1");

            Assert.Equal(1, exit);
            Assert.Contains("[1/5] already built", output, StringComparison.Ordinal);
            Assert.Contains("[2/5] already validated", output, StringComparison.Ordinal);
            Assert.Contains("error: busy, try again later", error, StringComparison.Ordinal);
            Assert.Contains("the swap changed nothing", error, StringComparison.Ordinal);
            Assert.Equal("r", await KindAsync(db));
        }

        var again = await Ops(db, "partitions", "convert");

        Assert.True(again.Exit == 0, again.Out + again.Err);
        Assert.Contains("[1/5] already built", again.Out, StringComparison.Ordinal);
        Assert.Contains("[2/5] already validated", again.Out, StringComparison.Ordinal);
        Assert.Equal("p", await KindAsync(db));
        Assert.Equal(1_000, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events_history"));
    }

    [Fact]
    public async Task Refuses_rows_past_the_cutoff()
    {
        await using var db = await ExistingDatabaseAsync(1_000);
        // The cutoff is at most about 38 days ahead (a month start, 7 days away at least).
        await db.ExecuteAsync("UPDATE signal_events SET created_at = now() + interval '60 days' WHERE id IN (SELECT id FROM signal_events LIMIT 2)");

        var (exit, output, error) = await Ops(db, "partitions", "convert");

        Assert.True(exit == 1, output + error);
        Assert.Contains("error: 2 row(s) of signal_events are dated at or after the cutoff", error, StringComparison.Ordinal);
        Assert.Contains("future_dated_events", error, StringComparison.Ordinal);
        Assert.Equal("r", await KindAsync(db));
        // The CHECK is taken back: ingest takes every time it took before.
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'signal_events_history_range'"));
    }

    [Fact]
    public async Task Dry_run_changes_nothing()
    {
        await using var db = await ExistingDatabaseAsync(1_000);
        const string Catalog = """
            SELECT (SELECT relkind FROM pg_class WHERE oid = 'signal_events'::regclass)::text
                   || (SELECT count(*) FROM pg_class) || '/' || (SELECT count(*) FROM pg_constraint) || '/' || (SELECT count(*) FROM pg_trigger)
            """;
        var before = await db.ScalarAsync<string>(Catalog);
        Assert.Contains("signal_events is a plain table (it held rows before partitioning came): './run.sh partitions convert' partitions it online",
            (await Ops(db, "partitions", "list")).Out, StringComparison.Ordinal);

        var (exit, output, error) = await Ops(db, "partitions", "convert", "--dry-run");

        Assert.True(exit == 0, output + error);
        Assert.Contains("signal_events: a plain table", output, StringComparison.Ordinal);
        Assert.Contains("cutoff: ", output, StringComparison.Ordinal);
        Assert.Contains("dry run, nothing changed", output, StringComparison.Ordinal);
        Assert.Contains("1. unique index signal_events_id_created (id, created_at): build it CONCURRENTLY", output, StringComparison.Ordinal);
        Assert.Contains("5. ANALYZE signal_events", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[1/5]", output, StringComparison.Ordinal);
        Assert.Equal(before, await db.ScalarAsync<string>(Catalog));
        Assert.StartsWith("r", before, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_already_partitioned_table_is_left_as_it_is()
    {
        await using var db = await TestDatabase.CreateAsync();
        const string Partitions = "SELECT string_agg(partition, ',' ORDER BY partition) FROM partition_bounds('signal_events')";
        var before = await db.ScalarAsync<string>(Partitions);

        var (exit, output, error) = await Ops(db, "partitions", "convert");

        Assert.True(exit == 0, output + error);
        Assert.Equal("signal_events is already partitioned: nothing to convert ('./run.sh partitions list' shows its partitions).", output.Trim());
        Assert.Equal(before, await db.ScalarAsync<string>(Partitions));
    }

    [Fact]
    public async Task Tries_out_of_range_is_a_usage_error()
    {
        var (exit, _, error) = await OpsCommand.RunAsync("Host=127.0.0.1;Port=1;Database=never;Timeout=2", "partitions", "convert", "--tries", "0");

        Assert.Equal(2, exit);
        Assert.Contains("--tries must be a whole number from 1 to 100.", error, StringComparison.Ordinal);
        Assert.Contains("Run './run.sh partitions convert --help' for usage.", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-12-07T01:00:00Z", 1, "2027-01-01")]
    [InlineData("2026-12-25T00:00:00Z", 1, "2027-01-01")] // exactly 7 days left
    [InlineData("2026-12-25T00:00:01Z", 1, "2027-02-01")]
    [InlineData("2026-11-01T00:00:00Z", 3, "2027-01-01")]
    [InlineData("2026-12-28T00:00:00Z", 3, "2027-04-01")]
    public void Cutoff_is_the_next_unit_start_or_the_one_after_when_fewer_than_7_days_remain(string now, int months, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected + "T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
            PartitionConversion.CutoffFor(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), months));

    /// <summary>A database as it stood before schema 0018 with rows in it, then brought up to date: its signal_events stays a plain table.</summary>
    private static async Task<TestDatabase> ExistingDatabaseAsync(int rows)
    {
        var db = await TestDatabase.CreateAsync(stopBefore: "0018");
        await db.ExecuteAsync("""
            INSERT INTO signal_events (id, signal_id, content_id, target_type, target_id, event_type, source_component, session_id, created_at, recorded_at)
            SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'tutor', gen_random_uuid(), 'impression', 'tutor_embed', 'existing',
                   now() - interval '180 days' * (i::float8 / @rows), now() - interval '180 days' * (i::float8 / @rows)
              FROM generate_series(1, @rows) i
            """, new { rows });
        await db.MigrateAsync();
        return db;
    }

    /// <summary>
    /// Runs the verb while the app takes events, and goes on until as many again are accepted after it:
    /// the same app, its connections and their auto-prepared INSERT, across the swap. None may be refused.
    /// </summary>
    private static async Task<(IReadOnlyCollection<Guid> Accepted, (int Exit, string Out, string Err) Convert)> ConvertUnderLoadAsync(
        TestDatabase db, AppProcess app, int events)
    {
        await using var load = new EventLoad(app, limit: TimeSpan.FromMinutes(3));
        await load.UntilAcceptedAsync(events);
        var convert = await Ops(db, "partitions", "convert");
        await load.UntilAcceptedAsync(load.Accepted.Count + events);
        var accepted = await load.StopAsync();
        Assert.Empty(load.Refused);
        return (accepted, convert);
    }

    /// <summary>The CHECK an earlier run placed, with a cutoff three months ahead (that run's choice); returns the cutoff.</summary>
    private static async Task<DateTime> LeaveCheckAsync(TestDatabase db, bool validated)
    {
        await db.ExecuteAsync($$"""
            DO $$ BEGIN
              EXECUTE format('ALTER TABLE signal_events ADD CONSTRAINT signal_events_history_range CHECK (created_at < %L) {{(validated ? "" : "NOT VALID")}}',
                             date_trunc('month', now(), 'UTC') + interval '3 months');
            END $$
            """);
        return await db.ScalarAsync<DateTime>("SELECT date_trunc('month', now(), 'UTC') + interval '3 months'");
    }

    private static Task<string> KindAsync(TestDatabase db) => db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE oid = 'signal_events'::regclass");

    private static Task<(int Exit, string Out, string Err)> Ops(TestDatabase db, params string[] args) => OpsCommand.RunAsync(db.ConnectionString, args);
}
