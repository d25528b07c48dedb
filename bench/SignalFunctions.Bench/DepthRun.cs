using System.Globalization;
using System.Text;
using Npgsql;

namespace SignalFunctions.Bench;

/// <summary>
/// (e) Does ingest slow down as signal_events grows? For each depth, past months are filled directly
/// (DepthFill), then 100-event batches and single events are measured at stage complete, where only
/// signal_events is written. After the deepest fill, the partition operations are timed (PartitionOps);
/// then, with --plain-depth, the same rows in one plain table for comparison.
/// </summary>
public static class DepthRun
{
    private const int JourneySamples = 200;
    private const int PartitionsForJourney = 36;
    private const int DetachLoadSeconds = 9;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    // A backfill, parity or rollup refresh of tens of millions of rows would land in a window.
    private static readonly Dictionary<string, string> TimersOff = new[]
    {
        "BackfillSchedule", "ParitySchedule", "RepairSchedule", "RefreshViewsSchedule", "GuardSchedule", "PartitionsSchedule",
    }.ToDictionary(name => name, _ => "0 0 0 1 1 *");

    public sealed record Result(List<BenchRun.Row> Rows, List<string> Failures, string Report);

    /// <summary>One depth's fill and measurement; ThisMonth is the partition the app's inserts filled (partitioned only).</summary>
    private sealed record Depth(
        string Layout, long Rows, int Months, DepthFill.Times Fill, DepthFill.Sizes Sizes, BenchRun.Row Batch, BenchRun.Row Single, DepthFill.Sizes? ThisMonth);

    private sealed record Operations(
        PartitionOps.Journey Before, PartitionOps.Journey After, List<double> AttachMs, PartitionOps.Retirement Retired, WrkResult Load, string Check);

    public static async Task<Result> RunAsync(BenchSettings s, NpgsqlDataSource db, string connectionString, HttpClient http, int postmaster)
    {
        var failures = new List<string>();
        var depths = new List<Depth>();
        await DepthFill.PrepareClusterAsync(db);
        var now = DateTime.UtcNow;
        var thisMonth = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        Operations? operations = null;

        ServedApp? app = await ServedApp.StartAsync(s, connectionString, http, TimersOff);
        try
        {
            await BenchRun.SetStageAsync(db, http, app.Url, "complete");
            await WarmUpAsync(s, app);
            foreach (var rows in s.Depths)
            {
                await DepthFill.DropPastPartitionsAsync(db);
                await BenchRun.ResetTablesAsync(db);
                var months = DepthFill.Months(thisMonth, rows, s.DepthMonths);
                Console.WriteLine($"(e) filling {rows:N0} rows into {months.Count} past months of the partitioned table, {s.FillSessions} at a time (load {ProcFs.LoadAverage():N2})…");
                var fill = await DepthFill.FillPartitionedAsync(db, months, s.FillSessions);
                var sizes = await DepthFill.SizesAsync(db, months.Select(m => m.Partition).ToList(), rows);
                depths.Add(await MeasureAsync(s, db, app, postmaster, "partitioned", rows, months.Count, fill, sizes, failures));
                if (operations is null && rows == s.Depths.Max())
                {
                    operations = await OperationsAsync(s, db, app, months[0].Partition, failures);
                }
            }

            if (s.PlainDepth > 0)
            {
                await app.DisposeAsync();
                app = null;
                await DepthFill.DropPastPartitionsAsync(db);
                await BenchRun.ResetTablesAsync(db);
                var months = DepthFill.Months(thisMonth, s.PlainDepth, s.DepthMonths);
                Console.WriteLine($"(e) filling {s.PlainDepth:N0} rows into a plain signal_events (load {ProcFs.LoadAverage():N2})…");
                var fill = await DepthFill.FillPlainAsync(db, months, s.FillSessions);
                var sizes = await DepthFill.SizesAsync(db, [DepthFill.Table], s.PlainDepth);
                // Started again, so it finds the plain table as a database before partitioning has it.
                app = await ServedApp.StartAsync(s, connectionString, http, TimersOff);
                await BenchRun.SetStageAsync(db, http, app.Url, "complete");
                await WarmUpAsync(s, app);
                depths.Add(await MeasureAsync(s, db, app, postmaster, "plain", s.PlainDepth, months.Count, fill, sizes, failures));
            }
        }
        catch (Exception ex) when (depths.Count > 0)
        {
            // What was measured before still goes into the report; the run fails.
            failures.Add($"(e) stopped after {depths.Count} depth(s): {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
        return new Result([.. depths.SelectMany(d => new[] { d.Batch, d.Single })], failures, Report(s, depths, operations));
    }

    /// <summary>The partition operations on the deepest fill; <paramref name="oldest"/> is the month retired.</summary>
    private static async Task<Operations> OperationsAsync(BenchSettings s, NpgsqlDataSource db, ServedApp app, string oldest, List<string> failures)
    {
        Console.WriteLine($"(e) partition operations at {s.Depths.Max():N0} rows…");
        var before = await PartitionOps.JourneyAsync(db, JourneySamples);
        var attach = await PartitionOps.AttachEmptyMonthsAsync(db, (int)Math.Max(0, PartitionsForJourney - before.Partitions));
        var after = await PartitionOps.JourneyAsync(db, JourneySamples);
        // The detach beside 100-event batches, as retention runs while ingest goes on.
        var since = await BenchRun.Scalar<DateTime>(db, "SELECT now()");
        var load = Wrk.RunAsync(s.WrkScript, app.EventsUrl, s.BatchConnections, s.BatchSize, DetachLoadSeconds, s.OccurredAt);
        await Task.Delay(TimeSpan.FromSeconds(DetachLoadSeconds / 3.0));
        var retired = await PartitionOps.RetireAsync(db, oldest, s.WorkDir, () => load);
        var check = await BenchRun.CheckRowsAsync(db, "complete", [await load], since);
        if (check.StartsWith("FAIL", StringComparison.Ordinal))
        {
            failures.Add($"(e) ingest beside DETACH: {check}");
        }
        var operations = new Operations(before, after, attach, retired, await load, check);
        Console.WriteLine(OperationsTable(s, operations));
        return operations;
    }

    private static async Task WarmUpAsync(BenchSettings s, ServedApp app)
    {
        await Wrk.RunAsync(s.WrkScript, app.EventsUrl, s.Connections, 1, BenchRun.JitWarmupSeconds, s.OccurredAt);
        await Wrk.RunAsync(s.WrkScript, app.EventsUrl, s.BatchConnections, s.BatchSize, s.WarmupSeconds, s.OccurredAt);
    }

    private static async Task<Depth> MeasureAsync(
        BenchSettings s, NpgsqlDataSource db, ServedApp app, int postmaster, string layout, long rows, int months,
        DepthFill.Times fill, DepthFill.Sizes sizes, List<string> failures)
    {
        await using (var connection = await db.OpenConnectionAsync())
        {
            // The fill's dirty pages written out before the first window, not during it.
            await BenchRun.Exec(connection, "CHECKPOINT");
        }
        Console.WriteLine(string.Create(Inv,
            $"(e) {layout}, {rows:N0} rows: filled in {fill.WallS:N0} s (insert {fill.InsertS:N0}, indexes {fill.IndexS:N0}, vacuum {fill.VacuumS:N0}, attach {fill.AttachS:N1} s); heap {sizes.HeapBytes / (double)rows:N0} B/row, indexes {sizes.IndexBytes / (double)rows:N0} B/row"));
        // The bench's rows are told from the fill's by recorded_at: the fill's lie in past months.
        var since = await BenchRun.Scalar<DateTime>(db, "SELECT now()");
        var counted = new List<WrkResult>();
        var measured = new List<BenchRun.Row>();
        foreach (var scenario in new[]
                 {
                     new BenchRun.Scenario($"(e) 100-event batch POSTs, {layout}, {rows:N0} rows deep", "complete", s.BatchSize, s.BatchConnections),
                     new BenchRun.Scenario($"(e) single-event POSTs, {layout}, {rows:N0} rows deep", "complete", 1, s.Connections),
                 })
        {
            var row = (await BenchRun.MeasureScenarioAsync(s, db, app, postmaster, scenario, counted, since)).Row;
            if (row.Check.StartsWith("FAIL", StringComparison.Ordinal))
            {
                failures.Add($"{scenario.Name}: {row.Check}");
            }
            BenchRun.PrintRow(row);
            measured.Add(row);
        }
        var thisMonth = layout == "partitioned" ? await DepthFill.ThisMonthSizesAsync(db) : null;
        return new Depth(layout, rows, months, fill, sizes, measured[0], measured[1], thisMonth);
    }

    private static string Report(BenchSettings s, List<Depth> depths, Operations? operations)
    {
        var text = new StringBuilder();
        text.AppendLine(Inv, $"(e) Depth: {s.Windows} windows of {s.Seconds} s per scenario at stage complete (only signal_events written), {s.DepthMonths} past months filled, {s.FillSessions} at a time; max_wal_size 8GB, maintenance_work_mem 1GB.");
        text.AppendLine();
        text.AppendLine("| layout | rows deep | fill s (wall) | insert / indexes / vacuum / attach s, summed over sessions | heap B/row | index B/row | index MB per month | batch events/s (× first) | single events/s (× first) | pg µs/event batch / single | WAL B/event batch / single | load avg |");
        text.AppendLine("|---|--:|--:|---|--:|--:|--:|--:|--:|---|---|--:|");
        var first = depths.FirstOrDefault();
        foreach (var d in depths)
        {
            text.AppendLine(Inv,
                $"| {d.Layout} | {d.Rows:N0} | {d.Fill.WallS:N0} | {d.Fill.InsertS:N0} / {d.Fill.IndexS:N0} / {d.Fill.VacuumS:N0} / {d.Fill.AttachS:N1} | {d.Sizes.HeapBytes / (double)d.Rows:N0} | {d.Sizes.IndexBytes / (double)d.Rows:N0} | {d.Sizes.IndexBytes / 1048576.0 / d.Months:N0} | {d.Batch.EventsPerSecond:N0} ({d.Batch.EventsPerSecond / first!.Batch.EventsPerSecond:N2}×) | {d.Single.EventsPerSecond:N0} ({d.Single.EventsPerSecond / first.Single.EventsPerSecond:N2}×) | {PgUs(d.Batch)} / {PgUs(d.Single)} | {d.Batch.WalBytesPerEvent:N0} / {d.Single.WalBytesPerEvent:N0} | {d.Batch.Load:N2} / {d.Single.Load:N2} |");
        }
        text.AppendLine();
        text.AppendLine("Bytes per row of the filled months or table (indexes built packed, from sorted rows) and of this month's partition after the windows (indexes grown by the app's inserts of random ids):");
        text.AppendLine();
        var names = depths.SelectMany(d => d.Sizes.Indexes.Select(i => i.Index)).Distinct().Order().ToList();
        text.AppendLine("| layout | rows deep | table | heap | " + string.Join(" | ", names) + " |");
        text.AppendLine("|---|--:|---|--:|" + string.Concat(names.Select(_ => "--:|")));
        foreach (var d in depths)
        {
            foreach (var (table, sizes) in new[] { ("filled", d.Sizes), ("this month", d.ThisMonth) })
            {
                if (sizes is null)
                {
                    continue;
                }
                var bytes = sizes.Indexes.ToDictionary(i => i.Index, i => i.Bytes);
                var cells = names.Select(n => bytes.TryGetValue(n, out var b) ? (b / (double)sizes.Rows).ToString("N1", Inv) : "-");
                text.AppendLine(Inv, $"| {d.Layout} | {d.Rows:N0} | {table}, {sizes.Rows:N0} rows | {sizes.HeapBytes / (double)sizes.Rows:N1} | {string.Join(" | ", cells)} |");
            }
        }
        if (operations is { } o)
        {
            text.AppendLine();
            text.Append(OperationsTable(s, o));
        }
        return text.ToString();
    }

    private static string OperationsTable(BenchSettings s, Operations o)
    {
        var text = new StringBuilder();
        text.AppendLine(Inv, $"Partition operations, partitioned table at {s.Depths.Max():N0} rows:");
        text.AppendLine();
        text.AppendLine("| operation | figure |");
        text.AppendLine("|---|---|");
        foreach (var j in new[] { o.Before, o.After })
        {
            text.AppendLine(Inv,
                $"| journey query (signal_id, no time predicate), {j.Partitions} partitions, median of {j.Samples} | planning {j.PlanningMs:N3} ms, execution {j.ExecutionMs:N3} ms (EXPLAIN ANALYZE); prepared, round trip {j.PreparedMs:N3} ms; {j.RowsPerJourney:N1} rows a journey; a prepared run holds {j.Locks} relation locks, {j.FastPathLocks} of them fast-path |");
        }
        if (o.AttachMs.Count > 0)
        {
            text.AppendLine(Inv, $"| ATTACH of an empty month (ensure_partition: LIKE + ATTACH), {o.AttachMs.Count} months | median {PartitionOps.Median(o.AttachMs):N1} ms, max {o.AttachMs.Max():N1} ms |");
        }
        var r = o.Retired;
        text.AppendLine(Inv,
            $"| DETACH … CONCURRENTLY of {r.Partition} ({r.Rows:N0} rows), beside 100-event batch ingest | {r.DetachS:N2} s; the ingest: {o.Load.Accepted / o.Load.ElapsedS:N0} events/s over {o.Load.ElapsedS:N0} s, p99 {o.Load.P99Us / 1000.0:N1} ms, max {o.Load.MaxUs / 1000.0:N1} ms; {o.Check} |");
        text.AppendLine(Inv,
            $"| COPY of it TO STDOUT (csv) through gzip (GZipStream, Optimal) | {r.ExportS:N1} s: {r.Rows / r.ExportS:N0} rows/s, {r.CsvBytes / 1048576.0 / r.ExportS:N1} MB/s of CSV; {r.CsvBytes / 1048576.0:N0} MB → {r.GzipBytes / 1048576.0:N0} MB ({(double)r.CsvBytes / r.GzipBytes:N1}:1) |");
        text.AppendLine(Inv, $"| DROP of the detached table | {r.DropMs:N1} ms |");
        return text.ToString();
    }

    private static string PgUs(BenchRun.Row r) => r.Cpu is { } c && r.EventsPerSecond > 0
        ? (c.Postgres / r.EventsPerSecond * 1e6).ToString("N1", Inv)
        : "-";
}
