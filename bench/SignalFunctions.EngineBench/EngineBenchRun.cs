using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using SignalFunctions.Migrations.Declarations;
using static SignalFunctions.EngineBench.Results;

namespace SignalFunctions.EngineBench;

/// <summary>
/// The engine's benchmark in one run, on one legacy table: (1) backfill through the engine vs one INSERT …
/// SELECT (the limit) vs the seed's method; (2) parity vs one hash-aggregate scan of both tables,
/// on equal tables and with ten injected differences; (3) ingest latency at a steady rate, idle
/// and while the engine backfills.
/// </summary>
internal static partial class EngineBenchRun
{
    private const string Migration = "signal-events";
    private static readonly TimeSpan VerbTimeout = TimeSpan.FromMinutes(6);

    // The backfill yields to ingest for as long as ingest's latency asks, so under load it may take longer.
    private static readonly TimeSpan BackfillUnderIngestTimeout = TimeSpan.FromMinutes(15);

    public static async Task<int> RunAsync(EngineBenchSettings settings, CancellationToken ct)
    {
        var results = new Results();
        await using var db = await BenchDatabase.CreateAsync(settings.ServerConnectionString, ct);
        var app = new AppProcesses(settings.AppDll, settings.DevHostDll, settings.SettingsFile, db.ConnectionString, settings.WorkDirectory);

        Step("schema (db migrate)");
        Require(await app.VerbAsync(VerbTimeout, ct, "db", "migrate"));
        await results.MachineAsync(db, ct);

        Step($"seeding {settings.Rows:N0} legacy rows");
        await LegacyData.SeedAsync(db, settings.Rows, ct);
        await db.ExecuteAsync("VACUUM ANALYZE blog_attribution_events", ct);
        // The backfill verb copies only from dual_write on, when every write reaches the new table
        // too; the ingest section measures dual_write as well.
        Require(await app.VerbAsync(VerbTimeout, ct, "stage", Migration, "dual_write", "--reason", "engine benchmark"));

        if (settings.Only.Contains("backfill"))
        {
            await BackfillAsync(settings, db, app, results, ct);
        }
        if (settings.Only.Contains("parity"))
        {
            await EqualTablesAsync(db, app, ct);
            await ParityAsync(db, app, results, ct);
        }
        if (settings.Only.Contains("ingest"))
        {
            await IngestDuringBackfillAsync(settings, db, app, results, TimeSpan.FromSeconds(settings.IdleSeconds), ct);
        }

        results.Line($"Load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]}.");
        results.Line();
        var text = results.ToString();
        Console.WriteLine();
        Console.WriteLine(text);
        if (settings.ResultsFile is { } file)
        {
            await File.WriteAllTextAsync(file, text, ct);
        }
        return results.AllHeld ? 0 : 1;
    }

    // ---- 1. Backfill ------------------------------------------------------------------------

    private static async Task BackfillAsync(EngineBenchSettings settings, BenchDatabase db, AppProcesses app, Results results, CancellationToken ct)
    {
        var rows = settings.Rows;

        // The limit runs before and after the engine and the seed, so a change in what else the
        // machine does shows as a gap between the two, instead of as a better or worse engine.
        Step("limit: one INSERT … SELECT of every row");
        var limitBefore = await LimitAsync(db, rows, results, "before", ct);

        Step($"engine: backfill {Migration} --until-done");
        await FreshTargetAsync(db, ct);
        var run = await app.VerbAsync(VerbTimeout, ct, "backfill", Migration, "--until-done");
        Console.Error.Write(run.Output);
        results.Check("engine backfill completed", run.ExitCode == 0 && await TargetCountAsync(db, ct) == rows);
        var job = TimeSpan.FromSeconds(double.Parse(BackfillSeconds().Match(run.Output).Groups[1].Value, CultureInfo.InvariantCulture));
        var batches = await db.ScalarAsync<long>("SELECT batches FROM backfill_progress WHERE migration = $1", ct, Migration);
        var scanned = await db.ScalarAsync<long>("SELECT rows_scanned FROM backfill_progress WHERE migration = $1", ct, Migration);

        Step($"seed method: OFFSET pages of 500, one INSERT per row, {settings.SampleRows:N0} rows");
        await FreshTargetAsync(db, ct);
        var seed = await SeedMethod.CopyAsync(db.DataSource, settings.SampleRows, ct);
        results.Check("seed method copied its sample", seed.Copied == settings.SampleRows && await TargetCountAsync(db, ct) == settings.SampleRows);
        var (seedProjected, lastPage) = await SeedMethod.ProjectAsync(db.DataSource, seed, rows, ct);

        Step("limit again");
        var limitAfter = await LimitAsync(db, rows, results, "after", ct);

        double Rate(double n, TimeSpan t) => n / t.TotalSeconds;
        var limit = (limitBefore + limitAfter) / 2;
        var limitRate = Rate(rows, limit);
        var engineRate = Rate(rows, job);
        var engineWallRate = Rate(rows, run.Wall);
        var seedRate = Rate(settings.SampleRows, seed.Elapsed);
        results.Line($"### 1. Backfill of {rows:N0} legacy rows");
        results.Line();
        results.Table(["method", "rows", "seconds", "rows/s", "engine's rows/s vs it", "target"],
        [
            [$"limit: one `INSERT INTO signal_events SELECT …` with the declaration's mapping, fresh target (mean of a run before the engine, {N(limitBefore.TotalSeconds, "0.0")} s, and one after the seed's method, {N(limitAfter.TotalSeconds, "0.0")} s)",
                N(rows), N(limit.TotalSeconds, "0.0"), N(limitRate), N(engineRate / limitRate * 100, "0") + " %",
                "≥ 50 %: " + results.Target("engine ≥ 50 % of the limit", engineRate >= 0.5 * limitRate)],
            [$"**engine**: `backfill {Migration} --until-done`, {batches} keyset batches, each committed with its checkpoint; the job's own clock (the verb's process, with .NET start-up: {N(run.Wall.TotalSeconds, "0.0")} s, {N(engineWallRate)} rows/s, {N(engineWallRate / limitRate * 100, "0")} % of the limit)",
                N(rows), N(job.TotalSeconds, "0.0"), N(engineRate), "—", ""],
            [$"seed's method: OFFSET pages of 500 ordered by id, one INSERT (round trip, commit) per row, first {N(settings.SampleRows)} rows",
                N(settings.SampleRows), N(seed.Elapsed.TotalSeconds, "0.0"), N(seedRate), N(engineRate / seedRate, "0.0") + "×",
                "≥ 50×: " + results.Target("engine ≥ 50× the seed's method", engineRate >= 50 * seedRate)],
            [$"seed's method on all {N(rows)} rows, projected: OFFSET reads every row before its page, so the first page took {N(seed.FirstPage.TotalMilliseconds, "0")} ms and the last {N(lastPage.TotalMilliseconds, "0")} ms",
                N(rows), N(rows / seedProjected, "0"), N(seedProjected), N(engineRate / seedProjected, "0") + "×", ""],
        ]);
        results.Line($"The limit is {N(limitRate / seedRate, "0.0")}× the seed's method on the sample: the most any engine bounded by one INSERT … SELECT can show there.");
        results.Line();
    }

    private static async Task<TimeSpan> LimitAsync(BenchDatabase db, long rows, Results results, string when, CancellationToken ct)
    {
        await FreshTargetAsync(db, ct);
        var took = await db.TimeAsync($"""
            INSERT INTO signal_events ({SignalEventsMigration.TargetColumns})
            SELECT {SignalEventsMigration.SelectAsTarget} FROM blog_attribution_events s
            """, ct);
        results.Check($"limit copied every row ({when})", await TargetCountAsync(db, ct) == rows);
        return took;
    }

    /// <summary>Parity alone (--only) starts from a backfilled target.</summary>
    private static async Task EqualTablesAsync(BenchDatabase db, AppProcesses app, CancellationToken ct)
    {
        if (await TargetCountAsync(db, ct) == 0)
        {
            Require(await app.VerbAsync(VerbTimeout, ct, "backfill", Migration, "--until-done"));
        }
    }

    private static async Task FreshTargetAsync(BenchDatabase db, CancellationToken ct)
    {
        await db.ExecuteAsync("TRUNCATE signal_events", ct);
        await db.ExecuteAsync("DELETE FROM backfill_progress", ct);
        await db.CheckpointAsync(ct);
    }

    private static Task<long> TargetCountAsync(BenchDatabase db, CancellationToken ct) =>
        db.ScalarAsync<long>("SELECT count(*) FROM signal_events", ct);

    // ---- 2. Parity --------------------------------------------------------------------------

    private const int ParityRounds = 3;

    private static async Task ParityAsync(BenchDatabase db, AppProcesses app, Results results, CancellationToken ct)
    {
        var m = SignalEventsMigration.Declaration;
        string Scan(string table, string alias, string image, string? filter) => $"""
            SELECT count(*), sum(('x' || substr(md5({image}), 1, 15))::bit(60)::bigint)
              FROM {table} {alias} {(filter is null ? "" : "WHERE " + filter)}
            """;
        var sourceScan = Scan(m.Source, "s", m.SourceImage, m.SourceFilter);
        var targetScan = Scan(m.Target, "t", m.TargetImage, m.TargetFilter);

        // The limit and the job take turns, so both see the same machine; medians of the rounds.
        async Task<(TimeSpan Limit, ParityRun Job)> RoundsAsync(string phase, Func<(long, decimal), (long, decimal), ParityRun, bool> holds, string what)
        {
            var limits = new List<TimeSpan>();
            var jobs = new List<ParityRun>();
            for (var round = 1; round <= ParityRounds; round++)
            {
                var watch = Stopwatch.StartNew();
                var source = await ChecksumAsync(db, sourceScan, ct);
                var target = await ChecksumAsync(db, targetScan, ct);
                var limit = watch.Elapsed;
                limits.Add(limit);
                var run = await ParityRun.ExecuteAsync(app, ct);
                jobs.Add(run);
                Console.Error.WriteLine($"  {phase} round {round}: limit {limit.TotalSeconds:0.00} s, parity job {run.JobSeconds:0.00} s (wall {run.Wall.TotalSeconds:0.00} s)");
                results.Check($"{what} (round {round})", holds(source, target, run));
            }
            return (limits.Order().ElementAt(ParityRounds / 2), jobs.OrderBy(j => j.JobSeconds).ElementAt(ParityRounds / 2));
        }

        Step("parity on equal tables");
        await db.ExecuteAsync("VACUUM ANALYZE signal_events", ct);
        await WaitOutFenceAsync(db, ct);
        var (equalLimit, equal) = await RoundsAsync("equal", (source, target, run) => source == target && run.ExitCode == 0 && run.Clean && run.KeyCount == 0,
            "limit sums agree and parity reports the tables clean");

        Step("parity with 10 injected differences");
        var injected = await LegacyData.InjectDifferencesAsync(db, ct);
        var (differingLimit, differing) = await RoundsAsync("10 differences", (source, target, run) => source != target && run.ExitCode == 1 && !run.Clean &&
                Same(run.Missing, injected.Missing) && Same(run.Extra, injected.Extra) && Same(run.Different, injected.Different),
            $"parity reports exactly the {injected.Count} injected keys");

        results.Line("### 2. Parity");
        results.Line();
        results.Table(["tables", "limit: `count(*)`, `sum(60-bit md5 of the row image)` over each table, s", "parity job, s (verb process)", "parity vs limit", "target"],
        [
            ["equal", N(equalLimit.TotalSeconds, "0.00"), $"{N(equal.JobSeconds, "0.00")} ({N(equal.Wall.TotalSeconds, "0.00")})", N(equal.JobSeconds / equalLimit.TotalSeconds, "0.00") + "×",
                "≤ 2×: " + results.Target("parity ≤ 2× the limit", equal.JobSeconds <= 2 * equalLimit.TotalSeconds)],
            ["10 injected differences", N(differingLimit.TotalSeconds, "0.00"), $"{N(differing.JobSeconds, "0.00")} ({N(differing.Wall.TotalSeconds, "0.00")})", N(differing.JobSeconds / differingLimit.TotalSeconds, "0.00") + "×",
                "≤ 3×: " + results.Target("parity with differences ≤ 3× the limit", differing.JobSeconds <= 3 * differingLimit.TotalSeconds)],
        ]);
        results.Line($"Medians of {ParityRounds} rounds; in each round the limit and the parity job run in turn. The job's clock covers all it does: " +
                     "snapshot, fence, bucket scans of both sides, drilling, the validation rules, writing the report. Keys injected and reported:");
        results.Line();
        results.Table(["kind", "injected", "reported"],
        [
            ["missing in signal_events", string.Join("<br>", Sorted(injected.Missing)), string.Join("<br>", Sorted(differing.Missing))],
            ["extra in signal_events", string.Join("<br>", Sorted(injected.Extra)), string.Join("<br>", Sorted(differing.Extra))],
            ["different (2 changed in the new table, 2 in the old)", string.Join("<br>", Sorted(injected.Different)), string.Join("<br>", Sorted(differing.Different))],
        ]);
    }

    private static async Task<(long Count, decimal Sum)> ChecksumAsync(BenchDatabase db, string sql, CancellationToken ct)
    {
        await using var command = db.DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? 0 : reader.GetDecimal(1));
    }

    /// <summary>Parity leaves out target rows written within its fence; a benchmark on equal tables must not hide rows in it.</summary>
    private static async Task WaitOutFenceAsync(BenchDatabase db, CancellationToken ct)
    {
        var fence = int.Parse(Environment.GetEnvironmentVariable("Migrations__ParityFenceSeconds") ?? "5", CultureInfo.InvariantCulture);
        var wait = await db.ScalarAsync<double>(
            "SELECT coalesce(greatest(0, extract(epoch FROM max(recorded_at) - now()) + $1 + 1), 0)::float8 FROM signal_events", ct, fence);
        await Task.Delay(TimeSpan.FromSeconds(wait), ct);
    }

    private static bool Same(IReadOnlyList<string> a, IReadOnlyList<string> b) => Sorted(a).SequenceEqual(Sorted(b));

    private static IEnumerable<string> Sorted(IEnumerable<string> keys) => keys.Order(StringComparer.Ordinal);

    private sealed partial record ParityRun(int ExitCode, bool Clean, double JobSeconds, TimeSpan Wall, List<string> Missing, List<string> Extra, List<string> Different)
    {
        public int KeyCount => Missing.Count + Extra.Count + Different.Count;

        public static async Task<ParityRun> ExecuteAsync(AppProcesses app, CancellationToken ct)
        {
            var run = await app.VerbAsync(VerbTimeout, ct, "parity", Migration);
            var summary = Summary().Match(run.Output);
            if (!summary.Success)
            {
                throw new InvalidOperationException($"parity printed no summary line:\n{run.Output}");
            }
            // The verb prints "  missing in …: N", "  extra in …: N", "  different: N", each followed by its keys indented by four.
            List<string> missing = [], extra = [], different = [];
            List<string>? current = null;
            foreach (var line in run.Output.Split('\n').Select(l => l.TrimEnd('\r')))
            {
                if (line.StartsWith("    ", StringComparison.Ordinal) && current is not null)
                {
                    current.Add(line.Trim());
                }
                else
                {
                    current = line.StartsWith("  missing in ", StringComparison.Ordinal) ? missing
                        : line.StartsWith("  extra in ", StringComparison.Ordinal) ? extra
                        : line.StartsWith("  different:", StringComparison.Ordinal) ? different
                        : null;
                }
            }
            return new ParityRun(run.ExitCode, run.Output.Contains("\nclean", StringComparison.Ordinal) || run.Output.StartsWith("clean", StringComparison.Ordinal),
                double.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture), run.Wall, missing, extra, different);
        }

        [GeneratedRegex(@"rows compared over [\d,]+ ranges in ([\d.]+) s")]
        private static partial Regex Summary();
    }

    // ---- 3. Ingest during backfill ----------------------------------------------------------

    private static async Task IngestDuringBackfillAsync(
        EngineBenchSettings settings, BenchDatabase db, AppProcesses app, Results results, TimeSpan window, CancellationToken ct)
    {
        Step($"ingest at {settings.IngestRate}/s: {settings.WarmupSeconds} s warm-up, {window.TotalSeconds:0} s idle, then during backfill");
        await FreshTargetAsync(db, ct);
        var served = await app.ServeAsync(new Dictionary<string, string> { ["Ingest__RateLimitPerSecond"] = "0" }, ct);
        LatencySummary idle, during, duringFirst, after;
        VerbResult backfill;
        Guid[] accepted;
        await using (served)
        {
            using var sender = new PacedSender(served.BaseAddress, settings.IngestRate, connections: 64,
                longest: TimeSpan.FromSeconds(settings.WarmupSeconds) + 2 * window + BackfillUnderIngestTimeout + TimeSpan.FromMinutes(1));
            using var stopSending = new CancellationTokenSource();
            var sending = sender.RunAsync(stopSending.Token);
            await Task.Delay(TimeSpan.FromSeconds(settings.WarmupSeconds), ct);
            var idleFrom = Stopwatch.GetTimestamp();
            await Task.Delay(window, ct);
            var backfillFrom = Stopwatch.GetTimestamp();
            backfill = await app.VerbAsync(BackfillUnderIngestTimeout, ct, "backfill", Migration, "--until-done");
            var backfillTo = Stopwatch.GetTimestamp();
            // Idle again, now with the new table full: what ingest costs after the migration's
            // growth alone, without the backfill at work.
            await Task.Delay(window, ct);
            var afterTo = Stopwatch.GetTimestamp();
            await stopSending.CancelAsync();
            await sending;
            idle = sender.Summarize(idleFrom, backfillFrom);
            after = sender.Summarize(backfillTo, afterTo);
            during = sender.Summarize(backfillFrom, backfillTo);
            // The idle window's length, from the backfill's start: the same duration, as a second view.
            duringFirst = sender.Summarize(backfillFrom, Math.Min(backfillTo, backfillFrom + (backfillFrom - idleFrom)));
            PrintTimeline(sender, idleFrom, backfillFrom, backfillTo, afterTo);
            accepted = sender.AcceptedIds();
        }
        Console.Error.Write(backfill.Output);
        results.Check("backfill under ingest completed", backfill.ExitCode == 0);
        results.Check("no request failed", idle.Errors + during.Errors + after.Errors == 0);
        var inLegacy = await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = ANY($1)", ct, accepted);
        var inNew = await db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = ANY($1)", ct, accepted);
        results.Check($"every accepted event ({accepted.Length:N0}) is in both tables", inLegacy == accepted.Length && inNew == accepted.Length);
        await WaitOutFenceAsync(db, ct);
        var parity = await ParityRun.ExecuteAsync(app, ct);
        results.Check("parity clean after backfill under ingest", parity.ExitCode == 0 && parity.Clean);

        var ratio = during.P99 / idle.P99;
        var ratioFirst = duringFirst.P99 / idle.P99;
        var legacyRows = await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events", ct);
        var batches = await db.ScalarAsync<long>("SELECT batches FROM backfill_progress WHERE migration = $1", ct, Migration);
        var scanned = await db.ScalarAsync<long>("SELECT rows_scanned FROM backfill_progress WHERE migration = $1", ct, Migration);
        results.Line($"### 3. Ingest at {settings.IngestRate:N0} events/s (stage dual_write: both tables), idle vs during the backfill");
        results.Line();
        results.Table(["window", "seconds", "requests", "req/s", "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"],
            new[]
            {
                ("idle", idle), ("during the backfill: its first seconds, as many as idle", duringFirst), ("**during the backfill: all of it**", during),
                ("idle after the backfill (the new table full)", after),
            }.Select(w => new[]
            {
                w.Item1, N(w.Item2.Seconds, "0.0"), N(w.Item2.Requests), N(w.Item2.Rate), N(w.Item2.Errors),
                N(w.Item2.P50, "0.0"), N(w.Item2.P90, "0.0"), N(w.Item2.P99, "0.0"), N(w.Item2.P999, "0.0"), N(w.Item2.Max, "0.0"),
            }));
        results.Line($"p99 during the whole backfill / idle p99: **{N(ratio, "0.00")}×** (target ≤ 2×: {results.Target("ingest p99 during backfill ≤ 2× idle", ratio <= 2)}); " +
                     $"over its first {N(duringFirst.Seconds, "0")} s: {N(ratioFirst, "0.00")}× ({results.Target("ingest p99 in the backfill's first seconds ≤ 2× idle", ratioFirst <= 2)}). " +
                     $"The backfill scanned {N(scanned)} rows in {N(backfill.Wall.TotalSeconds, "0.0")} s ({N(scanned / backfill.Wall.TotalSeconds)} rows/s, " +
                     $"{batches} batches) while ingest ran; the legacy table had {N(legacyRows)} rows at its end (what ingest added behind the " +
                     "checkpoint was in both tables already). " +
                     $"Against idle after the backfill, with the tables as large as at its end: {N(during.P99 / after.P99, "0.00")}×.");
        results.Line();
    }

    /// <summary>p99 per 5 s on stderr: shows whether a window's tail is one stall (a checkpoint) or spread.</summary>
    private static void PrintTimeline(PacedSender sender, long idleFrom, long backfillFrom, long backfillTo, long afterTo)
    {
        var step = 5 * Stopwatch.Frequency;
        foreach (var (name, from, to) in new[] { ("idle", idleFrom, backfillFrom), ("backfill", backfillFrom, backfillTo), ("idle after", backfillTo, afterTo) })
        {
            var p99s = new List<string>();
            for (var t = from; t < to; t += step)
            {
                p99s.Add(N(sender.Summarize(t, Math.Min(to, t + step)).P99, "0"));
            }
            Console.Error.WriteLine($"  {name} p99 ms per 5 s: {string.Join(' ', p99s)}");
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static void Step(string what) => Console.Error.WriteLine($"==> {DateTime.Now:HH:mm:ss} {what}");

    private static void Require(VerbResult run)
    {
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"a verb failed ({run.ExitCode}):\n{run.Output}");
        }
    }

    private static async Task MachineAsync(this Results results, BenchDatabase db, CancellationToken ct)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var settings = new List<string>();
        foreach (var name in new[] { "fsync", "synchronous_commit", "shared_buffers", "max_wal_size" })
        {
            settings.Add($"{name}={await db.SettingAsync(name, ct)}");
        }
        var defaults = new Migrations.MigrationOptions();
        var migrationSettings = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("Migrations__", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}").ToList();
        var engineSettings = $"defaults (TargetBatchMilliseconds={defaults.TargetBatchMilliseconds}, YieldRatio={defaults.YieldRatio}, MaxBatchSize={defaults.MaxBatchSize})" +
                             (migrationSettings.Count == 0 ? "" : ", overridden by " + string.Join(", ", migrationSettings));
        results.Line($"Machine: {cpu}, {Environment.ProcessorCount} cores, {long.Parse(memory, CultureInfo.InvariantCulture) / 1024 / 1024} GiB; " +
                     $"Linux {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}; {RuntimeInformation.FrameworkDescription}; " +
                     $"PostgreSQL {await db.SettingAsync("server_version", ct)} ({string.Join(", ", settings)}), loopback. " +
                     $"Engine settings: {engineSettings}. " +
                     $"Load average at the start: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (the cores are not the bench's alone if it is well above 0). {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        results.Line();
    }

    [GeneratedRegex(@"rows in ([\d.]+) s")]
    private static partial Regex BackfillSeconds();
}
