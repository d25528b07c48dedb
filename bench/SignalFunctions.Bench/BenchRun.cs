using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace SignalFunctions.Bench;

/// <summary>
/// The whole benchmark: the bare endpoint (d), the app under single events (a) and 100-event
/// batches (b) in stage off and dual_write, then binary COPY (c); one table, checked row counts,
/// the app's memory, who used the CPU, and the targets of issue 2 §7. The app is served as
/// ./run.sh serves it: the dev host starts the worker and forwards every request to it.
/// </summary>
public static class BenchRun
{
    private const string Migration = "signal-events";
    private const int JitWarmupSeconds = 6;

    // The dev host gives the worker 120 s to load its functions before it gives up.
    private static readonly TimeSpan AppStartTimeout = TimeSpan.FromSeconds(120);
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// One line of the table: the best of the scenario's windows, and the slowest window beside it.
    /// RssMb is the worker's; BareUsPerEvent the bare endpoint's CPU per event at the same body size, this run.
    /// </summary>
    public sealed record Row(
        string Scenario, string Stage, string Load, double EventsPerSecond, double MinEventsPerSecond, double? RequestsPerSecond,
        double? P50Ms, double? P99Ms, string Check, double? RssMb, Cpu? Cpu, double? BareUsPerEvent = null);

    /// <summary>
    /// Cores used during a window, by whom. Worker is the process that runs the handlers: the app's
    /// worker, or the bare endpoint for (d), or nothing for (c), where the COPY loader is the load
    /// generator. Host is the dev host in front of the worker (null without one). Kernel is
    /// interrupt time (the loopback network stack); Other is every other process on the machine:
    /// anything much above zero means the run was disturbed.
    /// </summary>
    public sealed record Cpu(double Worker, double? Host, double Postgres, double LoadGenerator, double Kernel, double Other, double Machine);

    /// <summary>The processes serving a scenario: the app's worker and its dev host, or the bare endpoint alone (Host null).</summary>
    private sealed record Served(int Worker, int? Host);

    private sealed record Window(WrkResult Result, Cpu Cpu, long WorkerRss, long HostRss);

    /// <summary>Resident memory in bytes: peak (VmHWM, start-up included) and at the end of the last scenario.</summary>
    private sealed record Memory(long WorkerPeak, long WorkerFinal, long HostPeak, long HostFinal);

    public static async Task<int> RunAsync(BenchSettings s)
    {
        var rows = new List<Row>();
        var notes = new List<string>();
        var failures = new List<string>();
        var admin = new NpgsqlConnectionStringBuilder(s.PostgresConnectionString) { Database = "postgres", Pooling = false };
        var dbName = "signal_bench";
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await Exec(connection, $"DROP DATABASE IF EXISTS {dbName}");
            await Exec(connection, $"CREATE DATABASE {dbName}");
        }
        var appConnectionString = new NpgsqlConnectionStringBuilder(s.PostgresConnectionString) { Database = dbName }.ConnectionString;
        await using var db = NpgsqlDataSource.Create(appConnectionString);
        var postmaster = await PostmasterPid(db);

        await PrintHeaderAsync(db, s);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        // The bare endpoint's CPU per event, by events per request: what HTTP alone costs, beside the worker's.
        var bareUsPerEvent = new Dictionary<int, double>();
        if (s.Only.Contains("d"))
        {
            var url = $"http://127.0.0.1:{s.BarePort}";
            var log = Path.Combine(s.WorkDir, "bare.log");
            using var bare = StartProcess("dotnet", [typeof(BenchRun).Assembly.Location, "bare", "--urls", url], log, new Dictionary<string, string>());
            try
            {
                await WaitUntilAsync(async () => (await http.PostAsync($"{url}/api/signal/events", new StringContent("{}"))).IsSuccessStatusCode,
                    "the bare endpoint", bare, log, TimeSpan.FromSeconds(60));
                var served = new Served(bare.Id, Host: null);
                await Wrk.RunAsync(s.WrkScript, $"{url}/api/signal/events", s.Connections, 1, JitWarmupSeconds);
                foreach (var (name, batch, connections) in new[] { ("(d) bare endpoint, 1-event bodies", 1, s.Connections), ("(d) bare endpoint, 100-event bodies", s.BatchSize, s.BatchConnections) })
                {
                    await Wrk.RunAsync(s.WrkScript, $"{url}/api/signal/events", connections, batch, s.WarmupSeconds);
                    var windows = await MeasureAsync(s, $"{url}/api/signal/events", connections, batch, served, postmaster, sampleMemory: false);
                    var (result, cpu, _, _) = windows.MaxBy(w => w.Result.Answered / w.Result.ElapsedS)!;
                    var requests = result.Answered / result.ElapsedS;
                    var notAccepted = windows.Sum(w => w.Result.NotAccepted);
                    var check = notAccepted == 0 ? "no DB (discards)" : $"FAIL: {notAccepted} non-202";
                    rows.Add(new Row(name, "-", $"{connections} conns", requests * batch, windows.Min(w => w.Result.Answered / w.Result.ElapsedS) * batch,
                        requests, result.P50Us / 1000.0, result.P99Us / 1000.0, check, null, cpu));
                    bareUsPerEvent[batch] = WorkerUsPerEvent(rows[^1]);
                    PrintRow(rows[^1]);
                }
            }
            finally
            {
                Stop(bare);
            }
        }

        Memory? memory = null;
        if (s.Only.Contains("a") || s.Only.Contains("b"))
        {
            var url = $"http://127.0.0.1:{s.AppPort}";
            var env = new Dictionary<string, string>(s.AppEnvironment)
            {
                ["ConnectionStrings__Signal"] = appConnectionString,
                // One client address sends everything here; the per-IP limit would answer 429.
                ["Ingest__RateLimitPerSecond"] = "0",
            };
            var log = Path.Combine(s.WorkDir, "app.log");
            using var app = StartProcess("dotnet", DevHostArguments(s, url), log, env);
            // bench/run.sh stops it by this file if the bench itself is killed.
            var pidFile = Path.Combine(s.WorkDir, "devhost.pid");
            await File.WriteAllTextAsync(pidFile, app.Id.ToString(Inv));
            try
            {
                // The dev host opens its port only once the worker has loaded its functions.
                await WaitUntilAsync(async () => (await http.GetAsync($"{url}/api/health")).IsSuccessStatusCode, "the app", app, log, AppStartTimeout);
                var served = new Served(await WorkerPidAsync(http, url), app.Id);
                // A fresh process runs unoptimised code for its first seconds (tiered JIT): let it
                // reach steady state before the first measurement, as a long-running app has.
                await Wrk.RunAsync(s.WrkScript, $"{url}/api/signal/events", s.Connections, 1, JitWarmupSeconds);
                await Wrk.RunAsync(s.WrkScript, $"{url}/api/signal/events", s.BatchConnections, s.BatchSize, s.WarmupSeconds);
                long workerRss = 0, hostRss = 0;
                foreach (var stage in new[] { "off", "dual_write" })
                {
                    await SetStageAsync(db, http, url, stage);
                    foreach (var (name, batch, connections, letter) in new[]
                             {
                                 ("(a) single-event POSTs", 1, s.Connections, "a"),
                                 ("(b) 100-event batch POSTs", s.BatchSize, s.BatchConnections, "b"),
                             })
                    {
                        if (!s.Only.Contains(letter))
                        {
                            continue;
                        }
                        await ResetTablesAsync(db);
                        var warm = await Wrk.RunAsync(s.WrkScript, $"{url}/api/signal/events", connections, batch, s.WarmupSeconds);
                        var windows = await MeasureAsync(s, $"{url}/api/signal/events", connections, batch, served, postmaster, sampleMemory: true);
                        var (result, cpu, _, _) = windows.MaxBy(w => w.Result.Accepted / w.Result.ElapsedS)!;
                        var rss = windows.Max(w => w.WorkerRss);
                        workerRss = Math.Max(workerRss, rss);
                        hostRss = Math.Max(hostRss, windows.Max(w => w.HostRss));
                        var check = await CheckRowsAsync(db, stage, [warm, .. windows.Select(w => w.Result)]);
                        if (check.StartsWith("FAIL", StringComparison.Ordinal))
                        {
                            failures.Add($"{name}, {stage}: {check}");
                        }
                        rows.Add(new Row(name, stage, $"{connections} conns", result.Accepted / result.ElapsedS,
                            windows.Min(w => w.Result.Accepted / w.Result.ElapsedS), result.Answered / result.ElapsedS,
                            result.P50Us / 1000.0, result.P99Us / 1000.0, check, rss / 1048576.0, cpu,
                            bareUsPerEvent.TryGetValue(batch, out var bareUs) ? bareUs : null));
                        PrintRow(rows[^1]);
                    }
                }
                memory = new Memory(
                    Math.Max(workerRss, ProcFs.MemoryBytes(served.Worker, "VmHWM")), ProcFs.MemoryBytes(served.Worker),
                    Math.Max(hostRss, ProcFs.MemoryBytes(app.Id, "VmHWM")), ProcFs.MemoryBytes(app.Id));
            }
            finally
            {
                await StopDevHostAsync(app);
                File.Delete(pidFile);
            }
        }

        if (s.Only.Contains("c"))
        {
            foreach (var stage in new[] { "off", "dual_write" })
            {
                await ResetTablesAsync(db);
                var windows = new List<(CopyLoad.Result Copied, Cpu Cpu)>();
                for (var i = 0; i < s.Windows; i++)
                {
                    var before = CpuNow(null, postmaster);
                    var copied = await CopyLoad.RunAsync(db, stage == "dual_write", s.Seconds, s.CopyStreams);
                    windows.Add((copied, CpuSince(before, CpuNow(null, postmaster), wrkCpuSeconds: null)));
                }
                var (best, cpu) = windows.MaxBy(w => w.Copied.Events / w.Copied.ElapsedS);
                var total = windows.Sum(w => w.Copied.Events);
                var legacy = await Count(db, "blog_attribution_events");
                var fresh = await Count(db, "signal_events");
                var expectedNew = stage == "dual_write" ? total : 0;
                var check = legacy == total && fresh == expectedNew
                    ? $"{legacy + fresh:N0} rows = copied ✓"
                    : $"FAIL: legacy {legacy:N0}, new {fresh:N0}, copied {total:N0}";
                if (check.StartsWith("FAIL", StringComparison.Ordinal))
                {
                    failures.Add($"(c) COPY, {stage}: {check}");
                }
                rows.Add(new Row(stage == "dual_write" ? "(c) binary COPY, both tables" : "(c) binary COPY, legacy table", stage,
                    $"{s.CopyStreams} streams", best.Events / best.ElapsedS, windows.Min(w => w.Copied.Events / w.Copied.ElapsedS), null, null, null, check, null, cpu));
                PrintRow(rows[^1]);
            }
        }

        var report = Report(rows, memory, notes);
        Console.WriteLine();
        Console.WriteLine(report);
        if (s.ResultsFile is not null)
        {
            await File.WriteAllTextAsync(s.ResultsFile, report);
            Console.WriteLine($"(markdown copy: {s.ResultsFile})");
        }
        foreach (var failure in failures)
        {
            Console.Error.WriteLine($"error: {failure}");
        }
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>./run.sh's command line for the dev host: the worker's output folder as script root, the settings file, the address.</summary>
    private static List<string> DevHostArguments(BenchSettings s, string url)
    {
        var args = new List<string> { s.DevHostDll, "--script-root", Path.GetDirectoryName(Path.GetFullPath(s.AppDll))! };
        if (s.SettingsFile is { } settings)
        {
            args.AddRange(["--settings", settings]);
        }
        args.AddRange(["--urls", url]);
        return args;
    }

    /// <summary>The worker the dev host started: the process that runs our code, whose memory the target is about.</summary>
    private static async Task<int> WorkerPidAsync(HttpClient http, string url)
    {
        var status = await http.GetFromJsonAsync<JsonElement>($"{url}/admin/host/status");
        return status.GetProperty("workerProcessId").GetInt32();
    }

    /// <summary>
    /// Runs the scenario's measured windows back to back. Another process on the machine slows a
    /// window down, never speeds it up: the best window is the figure, the slowest shows the spread.
    /// </summary>
    private static async Task<List<Window>> MeasureAsync(
        BenchSettings s, string url, int connections, int batch, Served served, int postmaster, bool sampleMemory)
    {
        var windows = new List<Window>();
        for (var i = 0; i < s.Windows; i++)
        {
            windows.Add(await MeasureWindowAsync(s, url, connections, batch, served, postmaster, sampleMemory));
        }
        return windows;
    }

    private static async Task<Window> MeasureWindowAsync(
        BenchSettings s, string url, int connections, int batch, Served served, int postmaster, bool sampleMemory)
    {
        var before = CpuNow(served, postmaster);
        long workerRss = 0, hostRss = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = sampleMemory
            ? Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    workerRss = Math.Max(workerRss, ProcFs.MemoryBytes(served.Worker));
                    hostRss = served.Host is { } host ? Math.Max(hostRss, ProcFs.MemoryBytes(host)) : 0;
                    await Task.Delay(100, CancellationToken.None);
                }
            })
            : Task.CompletedTask;
        var result = await Wrk.RunAsync(s.WrkScript, url, connections, batch, s.Seconds);
        var after = CpuNow(served, postmaster);
        await sampling.CancelAsync();
        await sampler;
        return new Window(result, CpuSince(before, after, result.CpuS), workerRss, hostRss);
    }

    private sealed record CpuSample(double Wall, double Worker, double? Host, double Postgres, double Self, double Busy, double Interrupts);

    private static CpuSample CpuNow(Served? served, int postmaster)
    {
        var machine = ProcFs.Machine();
        return new(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency,
            served is null ? 0 : ProcFs.CpuSeconds(served.Worker),
            served?.Host is { } host ? ProcFs.CpuSeconds(host) : null,
            ProcFs.TreeCpuSeconds(postmaster), ProcFs.CpuSeconds(Environment.ProcessId), machine.Busy, machine.Interrupts);
    }

    /// <summary>
    /// Average cores used between two samples. Under wrk, the load generator is wrk (its own CPU
    /// time, from the script) and this process only samples; for COPY this process is the loader.
    /// </summary>
    private static Cpu CpuSince(CpuSample a, CpuSample b, double? wrkCpuSeconds)
    {
        var wall = b.Wall - a.Wall;
        var worker = (b.Worker - a.Worker) / wall;
        double? host = (b.Host - a.Host) is { } hostSeconds ? hostSeconds / wall : null;
        var pg = (b.Postgres - a.Postgres) / wall;
        var self = (b.Self - a.Self) / wall;
        var machine = (b.Busy - a.Busy) / wall;
        var kernel = (b.Interrupts - a.Interrupts) / wall;
        var generator = wrkCpuSeconds is { } wrk ? wrk / wall : self;
        var sampling = wrkCpuSeconds is null ? 0 : self;
        var other = Math.Max(0, machine - worker - (host ?? 0) - pg - generator - kernel - sampling);
        return new Cpu(worker, host, pg, generator, kernel, other, machine);
    }

    /// <summary>Every event answered 202 is in the table(s) the stage writes, once; nothing else is.</summary>
    private static async Task<string> CheckRowsAsync(NpgsqlDataSource db, string stage, List<WrkResult> runs)
    {
        var accepted = runs.Sum(r => r.Accepted);
        var sent = runs.Sum(r => r.EventsSent);
        var notAccepted = runs.Sum(r => r.NotAccepted);
        var duplicates = runs.Sum(r => r.Duplicates);
        var legacy = await Count(db, "blog_attribution_events");
        var fresh = await Count(db, "signal_events");
        var repairs = await Count(db, "repair_entries");
        var expectedNew = stage == "dual_write" ? accepted : 0;
        var problems = new List<string>();
        if (notAccepted > 0)
        {
            problems.Add($"{notAccepted} answers were not 202 ({string.Join("; ", runs.Select(Statuses))})");
        }
        if (duplicates > 0)
        {
            problems.Add($"{duplicates} events answered as duplicates");
        }
        if (accepted != sent)
        {
            problems.Add($"{sent - accepted} events sent but not accepted");
        }
        if (legacy != accepted)
        {
            problems.Add($"legacy table has {legacy:N0} rows, 202s accepted {accepted:N0}");
        }
        if (fresh != expectedNew)
        {
            problems.Add($"signal_events has {fresh:N0} rows, expected {expectedNew:N0}");
        }
        if (repairs != 0)
        {
            problems.Add($"{repairs} repair entries");
        }
        return problems.Count == 0
            ? $"{legacy + fresh:N0} rows = 202s{(stage == "dual_write" ? " ×2" : "")} ✓"
            : "FAIL: " + string.Join("; ", problems);
    }

    private static string Statuses(WrkResult r) => string.Join(", ", r.Statuses.Select(kv => $"{kv.Key}: {kv.Value}"));

    private static async Task SetStageAsync(NpgsqlDataSource db, HttpClient http, string url, string stage)
    {
        await using (var command = db.CreateCommand(
            "UPDATE stage_flags SET stage = $1, percent = 100, version = version + 1, updated_at = now(), updated_by = 'bench' WHERE migration = $2"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = stage });
            command.Parameters.Add(new NpgsqlParameter { Value = Migration });
            await command.ExecuteNonQueryAsync();
        }
        // The app hears the change over LISTEN/NOTIFY; wait until its health report shows it.
        await WaitUntilAsync(async () =>
        {
            var health = await http.GetFromJsonAsync<JsonElement>($"{url}/api/health/details");
            return health.GetProperty("flags").GetProperty("stages").GetProperty(Migration).GetProperty("stage").GetString() == stage;
        }, $"the app to take stage {stage}");
    }

    private static async Task ResetTablesAsync(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Exec(connection, "TRUNCATE blog_attribution_events, signal_events, repair_entries");
        // Start each scenario from the same point: no checkpoint owed from the previous one.
        await Exec(connection, "CHECKPOINT");
    }

    private static async Task<long> Count(NpgsqlDataSource db, string table)
    {
        await using var command = db.CreateCommand($"SELECT count(*) FROM {table}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<int> PostmasterPid(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("SELECT pg_backend_pid()");
        var backend = (int)(await command.ExecuteScalarAsync())!;
        var stat = await File.ReadAllTextAsync($"/proc/{backend}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], Inv);
    }

    private static async Task PrintHeaderAsync(NpgsqlDataSource db, BenchSettings s)
    {
        var cpuModel = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memKb = File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var settings = new List<string>();
        foreach (var name in new[] { "server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "shared_buffers", "max_wal_size" })
        {
            await using var command = db.CreateCommand($"SHOW {name}");
            settings.Add($"{name}={await command.ExecuteScalarAsync()}");
        }
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores ({cpuModel}), {long.Parse(memKb, Inv) / 1048576.0:N1} GiB; load average at start {ProcFs.LoadAverage():N2}");
        Console.WriteLine($"PostgreSQL: {string.Join(", ", settings)}  (realistic durability: every commit is fsynced)");
        Console.WriteLine($"Each scenario: {s.WarmupSeconds} s warm-up, then {s.Windows} measured windows of {s.Seconds} s, the best one shown (min = the slowest);");
        Console.WriteLine("wrk -t1 over loopback; tables truncated before each scenario; rows counted after it and compared with the events answered 202.");
        Console.WriteLine("The app as ./run.sh serves it: the dev host (host) starts the worker (wkr, our code) and forwards each request to it; each counted on its own.");
        Console.WriteLine();
        Console.WriteLine(Header());
    }

    private static string Header() =>
        $"{"scenario",-36} {"stage",-10} {"load",-10} {"events/s",9} {"(min)",9} {"req/s",8} {"p50 ms",7} {"p99 ms",7} {"wkr RSS",7}  {"cores wkr/host/pg/gen/net/other",-32} {"µs CPU/event wkr/host/pg",-25} {"bare µs/event",-14} check";

    private static void PrintRow(Row r) => Console.WriteLine(
        $"{r.Scenario,-36} {r.Stage,-10} {r.Load,-10} {r.EventsPerSecond,9:N0} {r.MinEventsPerSecond,9:N0} {Opt(r.RequestsPerSecond, "N0"),8} {Opt(r.P50Ms, "N1"),7} {Opt(r.P99Ms, "N1"),7} {Opt(r.RssMb, "N0"),7}  {CpuText(r.Cpu),-32} {PerEvent(r),-25} {BareText(r),-14} {r.Check}");

    /// <summary>CPU per event of the worker (for (c), the COPY loader): the figure to set beside the bare endpoint's.</summary>
    private static double WorkerUsPerEvent(Row r) => r.Cpu is { } c && r.EventsPerSecond > 0
        ? (c.Worker + (c.Worker == 0 ? c.LoadGenerator : 0)) / r.EventsPerSecond * 1e6
        : double.NaN;

    /// <summary>CPU per event, worker / host / PostgreSQL: steadier than events/s when something else shares the machine.</summary>
    private static string PerEvent(Row r) => r.Cpu is { } c && r.EventsPerSecond > 0
        ? string.Create(Inv, $"{WorkerUsPerEvent(r):N1}/{(c.Host is { } host ? (host / r.EventsPerSecond * 1e6).ToString("N1", Inv) : "-")}/{c.Postgres / r.EventsPerSecond * 1e6:N1}")
        : "-";

    /// <summary>The bare endpoint's CPU per event at the same body size, and what the worker spends beyond it.</summary>
    private static string BareText(Row r) => r.BareUsPerEvent is { } bare && r.Cpu is not null
        ? string.Create(Inv, $"{bare:N1} ({WorkerUsPerEvent(r) - bare:+0.0;-0.0})")
        : "-";

    private static string Opt(double? v, string format) => v is { } x ? x.ToString(format, Inv) : "-";

    private static string CpuText(Cpu? c) => c is null
        ? "-"
        : string.Create(Inv, $"{c.Worker:N2}/{(c.Host is { } host ? host.ToString("N2", Inv) : "-")}/{c.Postgres:N2}/{c.LoadGenerator:N2}/{c.Kernel:N2}/{c.Other:N2}");

    private static string Report(List<Row> rows, Memory? memory, List<string> notes)
    {
        var text = new StringBuilder();
        text.AppendLine("| scenario | stage | load | events/s | slowest window | requests/s | p50 ms | p99 ms | worker RSS MB | cores worker / host / pg / load gen / net / other | µs CPU per event worker / host / pg | bare endpoint µs CPU per event (worker − bare) | rows checked |");
        text.AppendLine("|---|---|---|--:|--:|--:|--:|--:|--:|---|---|---|---|");
        foreach (var r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Stage} | {r.Load} | {r.EventsPerSecond:N0} | {r.MinEventsPerSecond:N0} | {Opt(r.RequestsPerSecond, "N0")} | {Opt(r.P50Ms, "N1")} | {Opt(r.P99Ms, "N1")} | {Opt(r.RssMb, "N0")} | {CpuText(r.Cpu)} | {PerEvent(r)} | {BareText(r)} | {r.Check} |");
        }
        text.AppendLine();
        text.AppendLine("Targets (issue 2 §7):");
        Row? Find(string prefix, string stage) => rows.FirstOrDefault(r => r.Scenario.StartsWith(prefix, StringComparison.Ordinal) && r.Stage == stage);
        var bare = Find("(d) bare endpoint, 1-event", "-");
        var single = Find("(a)", "dual_write");
        var batch = Find("(b)", "dual_write");
        var copy = Find("(c)", "dual_write");
        if (single is not null && bare is not null)
        {
            var ratio = single.EventsPerSecond / bare.RequestsPerSecond!.Value;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"- (a) dual_write {single.EventsPerSecond:N0} events/s = {ratio:P0} of (d) {bare.RequestsPerSecond:N0} req/s; target ≥ 33 %: {Verdict(ratio >= 1 / 3.0)}");
            text.AppendLine(CultureInfo.InvariantCulture, $"- (a) dual_write p99 {single.P99Ms:N1} ms; target < 25 ms: {Verdict(single.P99Ms < 25)}");
        }
        if (batch is not null && copy is not null)
        {
            var ratio = batch.EventsPerSecond / copy.EventsPerSecond;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"- (b) dual_write {batch.EventsPerSecond:N0} events/s = {ratio:P0} of (c) COPY {copy.EventsPerSecond:N0} events/s (rows into both tables); target ≥ 50 %: {Verdict(ratio >= 0.5)}");
        }
        if (memory is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"- app memory, the worker's resident set (the process that runs our code): peak {Mb(memory.WorkerPeak)} MB, at the end {Mb(memory.WorkerFinal)} MB; target < 300 MB: {Verdict(memory.WorkerPeak < 300L * 1048576)}");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"- dev host's resident set, not the app's (in Azure the host is the platform's): peak {Mb(memory.HostPeak)} MB, at the end {Mb(memory.HostFinal)} MB");
        }
        foreach (var note in notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }
        text.AppendLine();
        text.AppendLine("- cores: worker = the app's worker, for (d) the bare endpoint, for (c) none (the COPY loader is the load generator); host = the dev host, which invokes the function over gRPC and forwards the request to the worker.");
        text.AppendLine("- µs CPU per event: worker / host / PostgreSQL (for (c), the first figure is the COPY loader). Bare: the bare endpoint's µs per event at the same body size in this run, and in brackets the worker's excess over it, what the worker pipeline costs per event beyond HTTP.");
        text.AppendLine(CultureInfo.InvariantCulture, $"- load average at the end {ProcFs.LoadAverage():N2}; \"other\" (processes outside the benchmark) above ~0.05 cores means the machine was shared during that row and its figures are low.");
        return text.ToString();
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("N0", Inv);

    private static string Verdict(bool met) => met ? "met" : "NOT met";

    private static Process StartProcess(string file, IEnumerable<string> args, string log, IDictionary<string, string> env)
    {
        // exec under bash only to send the output to a file: the pid is the process itself.
        var start = new ProcessStartInfo("bash") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec \"$0\" \"$@\" > '{log}' 2>&1");
        start.ArgumentList.Add(file);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }
        return Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// SIGTERM, as ./run.sh stops it: the dev host stops taking requests, the worker drains what it
    /// accepted, both exit. The host gives the worker 30 s; past 45 s both are killed.
    /// </summary>
    private static async Task StopDevHostAsync(Process devHost)
    {
        if (devHost.HasExited)
        {
            return;
        }
        using (var term = Process.Start("kill", ["-TERM", devHost.Id.ToString(Inv)]))
        {
            await term.WaitForExitAsync();
        }
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        try
        {
            await devHost.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            devHost.Kill(entireProcessTree: true);
            await devHost.WaitForExitAsync();
        }
    }

    /// <summary>Polls until the condition holds; fails at once, with the end of its log, if the process it waits for exits.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, Process? process = null, string? log = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            if (process is { HasExited: true })
            {
                var output = log is not null && File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(40)) : "";
                throw new InvalidOperationException($"{what} exited with code {process.ExitCode} before it was ready:\n{output}");
            }
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Waited {limit.TotalSeconds:0} s for {what}.");
    }
}
