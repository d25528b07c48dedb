using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace SignalFunctions.Bench;

/// <summary>
/// The whole benchmark: the bare endpoint (d), the app under single events (a) and 100-event
/// batches (b) in stage off and dual_write, then binary COPY (c); one table, checked row counts,
/// the app's memory, who used the CPU, and the targets. The app is served as
/// ./run.sh serves it: the dev host starts the worker and forwards every request to it.
/// </summary>
public static class BenchRun
{
    private const string Migration = "signal-events";
    public const int JitWarmupSeconds = 6;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// One line of the table: the best of the scenario's windows, and the slowest window beside it.
    /// RssMb is the worker's; BareUsPerEvent the bare endpoint's CPU per event at the same body size, this run;
    /// WalBytesPerEvent the WAL PostgreSQL wrote in the best window over the events it took; Load the
    /// machine's load average (1 min) when the scenario ended.
    /// </summary>
    public sealed record Row(
        string Scenario, string Stage, string Connections, double EventsPerSecond, double MinEventsPerSecond, double? RequestsPerSecond,
        double? P50Ms, double? P99Ms, string Check, double? RssMb, Cpu? Cpu, double? BareUsPerEvent = null,
        double? WalBytesPerEvent = null, double? Load = null);

    /// <summary>
    /// Cores used during a window, by whom. Worker is the process that runs the handlers: the app's
    /// worker, or the bare endpoint for (d), or nothing for (c), where the COPY loader is the load
    /// generator. Host is the dev host in front of the worker (null without one). Kernel is
    /// interrupt time (the loopback network stack); Other is every other process on the machine:
    /// anything much above zero means the run was disturbed.
    /// </summary>
    public sealed record Cpu(double Worker, double? Host, double Postgres, double LoadGenerator, double Kernel, double Other, double Machine);

    /// <summary>The processes serving a scenario: the app's worker and its dev host, or the bare endpoint alone (Host null).</summary>
    public sealed record Served(int Worker, int? Host);

    private sealed record Window(WrkResult Result, Cpu Cpu, long WorkerRss, long HostRss, long WalBytes);

    /// <summary>Resident memory in bytes: peak (VmHWM, start-up included) and at the end of the last scenario.</summary>
    public sealed record Memory(long WorkerPeak, long WorkerFinal, long HostPeak, long HostFinal);

    public static async Task<int> RunAsync(BenchSettings s)
    {
        var rows = new List<Row>();
        var notes = new List<string>();
        var sections = new List<string>();
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
        // The bench's own statements include index builds over tens of millions of rows (e): no timeout.
        await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(appConnectionString) { CommandTimeout = 0 }.ConnectionString);
        // The schema before anything else, so COPY (c) and the header see the tables the app writes.
        await MigrateAsync(s, appConnectionString);
        var postmaster = await PostmasterPid(db);

        await PrintHeaderAsync(db, s);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        // The bare endpoint's CPU per event, by events per request: what HTTP alone costs, beside the worker's.
        var bareUsPerEvent = new Dictionary<int, double>();
        if (s.Only.Contains("d"))
        {
            var url = $"http://127.0.0.1:{s.BarePort}";
            var log = Path.Combine(s.WorkDir, "bare.log");
            using var bare = BenchProcess.Start("dotnet", [typeof(BenchRun).Assembly.Location, "bare", "--urls", url], log, new Dictionary<string, string>());
            try
            {
                await BenchProcess.WaitUntilAsync(async () => (await http.PostAsync($"{url}/api/signal/events", new StringContent("{}"))).IsSuccessStatusCode,
                    "the bare endpoint", bare, log, TimeSpan.FromSeconds(60));
                var served = new Served(bare.Id, Host: null);
                await Wrk.RunAsync(s.WrkScript, $"{url}/api/signal/events", s.Connections, 1, JitWarmupSeconds, s.OccurredAt);
                foreach (var (name, batch, connections) in new[] { ("(d) bare endpoint, 1-event bodies", 1, s.Connections), ("(d) bare endpoint, 100-event bodies", s.BatchSize, s.BatchConnections) })
                {
                    await Wrk.RunAsync(s.WrkScript, $"{url}/api/signal/events", connections, batch, s.WarmupSeconds, s.OccurredAt);
                    var windows = await MeasureAsync(s, db, $"{url}/api/signal/events", connections, batch, served, postmaster, sampleMemory: false);
                    var (result, cpu, _, _, _) = windows.MaxBy(w => w.Result.Answered / w.Result.ElapsedS)!;
                    var requests = result.Answered / result.ElapsedS;
                    var notAccepted = windows.Sum(w => w.Result.NotAccepted);
                    var check = notAccepted == 0 ? "no DB (discards)" : $"FAIL: {notAccepted} non-202";
                    rows.Add(new Row(name, "-", $"{connections} conns", requests * batch, windows.Min(w => w.Result.Answered / w.Result.ElapsedS) * batch,
                        requests, result.P50Us / 1000.0, result.P99Us / 1000.0, check, null, cpu, Load: ProcFs.LoadAverage()));
                    bareUsPerEvent[batch] = WorkerUsPerEvent(rows[^1]);
                    PrintRow(rows[^1]);
                }
            }
            finally
            {
                BenchProcess.Stop(bare);
            }
        }

        Memory? memory = null;
        if (s.Only.Contains("a") || s.Only.Contains("b"))
        {
            await using var app = await ServedApp.StartAsync(s, appConnectionString, http);
            // A fresh process runs unoptimised code for its first seconds (tiered JIT): let it
            // reach steady state before the first measurement, as a long-running app has.
            await Wrk.RunAsync(s.WrkScript, app.EventsUrl, s.Connections, 1, JitWarmupSeconds, s.OccurredAt);
            await Wrk.RunAsync(s.WrkScript, app.EventsUrl, s.BatchConnections, s.BatchSize, s.WarmupSeconds, s.OccurredAt);
            long workerRss = 0, hostRss = 0;
            foreach (var stage in new[] { "off", "dual_write" })
            {
                await SetStageAsync(db, http, app.Url, stage);
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
                    var measured = await MeasureScenarioAsync(s, db, app, postmaster, new Scenario(name, stage, batch, connections), [], since: null,
                        bareUsPerEvent.TryGetValue(batch, out var bareUs) ? bareUs : null);
                    workerRss = Math.Max(workerRss, measured.WorkerRss);
                    hostRss = Math.Max(hostRss, measured.HostRss);
                    if (measured.Row.Check.StartsWith("FAIL", StringComparison.Ordinal))
                    {
                        failures.Add($"{name}, {stage}: {measured.Row.Check}");
                    }
                    rows.Add(measured.Row);
                    PrintRow(rows[^1]);
                }
            }
            memory = app.Memory(workerRss, hostRss);
        }

        if (s.Only.Contains("c"))
        {
            foreach (var stage in new[] { "off", "dual_write" })
            {
                await ResetTablesAsync(db);
                var windows = new List<(CopyLoad.Result Copied, Cpu Cpu, long WalBytes)>();
                for (var i = 0; i < s.Windows; i++)
                {
                    var before = CpuNow(null, postmaster);
                    var walBefore = await WalPositionAsync(db);
                    var copied = await CopyLoad.RunAsync(db, stage == "dual_write", s.Seconds, s.CopyStreams);
                    windows.Add((copied, CpuSince(before, CpuNow(null, postmaster), wrkCpuSeconds: null), await WalPositionAsync(db) - walBefore));
                }
                var (best, cpu, wal) = windows.MaxBy(w => w.Copied.Events / w.Copied.ElapsedS);
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
                    $"{s.CopyStreams} streams", best.Events / best.ElapsedS, windows.Min(w => w.Copied.Events / w.Copied.ElapsedS), null, null, null, check, null, cpu,
                    WalBytesPerEvent: (double)wal / best.Events, Load: ProcFs.LoadAverage()));
                PrintRow(rows[^1]);
            }
        }

        if (s.Only.Contains("e"))
        {
            // Last: it fills the database and changes the cluster's settings for the fill.
            var depth = await DepthRun.RunAsync(s, db, appConnectionString, http, postmaster);
            rows.AddRange(depth.Rows);
            failures.AddRange(depth.Failures);
            sections.Add(depth.Report);
        }

        var report = Report(rows, memory, notes) + string.Concat(sections.Select(section => Environment.NewLine + section));
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

    /// <summary>`db migrate` with the app as built: the schema the app would make at start-up.</summary>
    private static async Task MigrateAsync(BenchSettings s, string connectionString)
    {
        var log = Path.Combine(s.WorkDir, "migrate.log");
        using var migrate = BenchProcess.Start("dotnet", [s.AppDll, "db", "migrate"], log,
            new Dictionary<string, string> { ["ConnectionStrings__Signal"] = connectionString });
        await migrate.WaitForExitAsync();
        if (migrate.ExitCode != 0)
        {
            throw new InvalidOperationException($"db migrate exited with {migrate.ExitCode}:\n{await File.ReadAllTextAsync(log)}");
        }
    }

    /// <summary>What one app scenario sends: events per request and connections, at a stage.</summary>
    public sealed record Scenario(string Name, string Stage, int Batch, int Connections);

    /// <summary>A scenario's row, and the largest resident sets sampled while it ran.</summary>
    public sealed record Measured(Row Row, long WorkerRss, long HostRss);

    /// <summary>
    /// A warm-up, then the measured windows; the row is the best window. The rows are checked against
    /// every run in <paramref name="counted"/> (this scenario's are added), counting signal_events rows
    /// recorded since <paramref name="since"/> when given (tables that hold rows of their own), else all.
    /// </summary>
    public static async Task<Measured> MeasureScenarioAsync(
        BenchSettings s, NpgsqlDataSource db, ServedApp app, int postmaster, Scenario scenario, List<WrkResult> counted, DateTime? since,
        double? bareUsPerEvent = null)
    {
        counted.Add(await Wrk.RunAsync(s.WrkScript, app.EventsUrl, scenario.Connections, scenario.Batch, s.WarmupSeconds, s.OccurredAt));
        var windows = await MeasureAsync(s, db, app.EventsUrl, scenario.Connections, scenario.Batch, app.Processes, postmaster, sampleMemory: true);
        var (result, cpu, _, _, wal) = windows.MaxBy(w => w.Result.Accepted / w.Result.ElapsedS)!;
        counted.AddRange(windows.Select(w => w.Result));
        var check = await CheckRowsAsync(db, scenario.Stage, counted, since);
        var row = new Row(scenario.Name, scenario.Stage, $"{scenario.Connections} conns", result.Accepted / result.ElapsedS,
            windows.Min(w => w.Result.Accepted / w.Result.ElapsedS), result.Answered / result.ElapsedS,
            result.P50Us / 1000.0, result.P99Us / 1000.0, check, windows.Max(w => w.WorkerRss) / 1048576.0, cpu, bareUsPerEvent,
            (double)wal / Math.Max(1, result.Accepted), ProcFs.LoadAverage());
        return new Measured(row, windows.Max(w => w.WorkerRss), windows.Max(w => w.HostRss));
    }

    /// <summary>
    /// Runs the scenario's measured windows back to back. Another process on the machine slows a
    /// window down, never speeds it up: the best window is the figure, the slowest shows the spread.
    /// </summary>
    private static async Task<List<Window>> MeasureAsync(
        BenchSettings s, NpgsqlDataSource db, string url, int connections, int batch, Served served, int postmaster, bool sampleMemory)
    {
        var windows = new List<Window>();
        for (var i = 0; i < s.Windows; i++)
        {
            windows.Add(await MeasureWindowAsync(s, db, url, connections, batch, served, postmaster, sampleMemory));
        }
        return windows;
    }

    private static async Task<Window> MeasureWindowAsync(
        BenchSettings s, NpgsqlDataSource db, string url, int connections, int batch, Served served, int postmaster, bool sampleMemory)
    {
        var walBefore = await WalPositionAsync(db);
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
        var result = await Wrk.RunAsync(s.WrkScript, url, connections, batch, s.Seconds, s.OccurredAt);
        var after = CpuNow(served, postmaster);
        await sampling.CancelAsync();
        await sampler;
        return new Window(result, CpuSince(before, after, result.CpuS), workerRss, hostRss, await WalPositionAsync(db) - walBefore);
    }

    /// <summary>The WAL insert position in bytes: two of them apart are the WAL written between.</summary>
    public static async Task<long> WalPositionAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint");
        return (long)(await command.ExecuteScalarAsync())!;
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

    /// <summary>
    /// Every event answered 202 is in the table(s) the stage writes, once; nothing else is. With
    /// <paramref name="since"/>, only signal_events rows recorded since then count (a table that holds rows of its own).
    /// </summary>
    public static async Task<string> CheckRowsAsync(NpgsqlDataSource db, string stage, List<WrkResult> runs, DateTime? since)
    {
        var accepted = runs.Sum(r => r.Accepted);
        var sent = runs.Sum(r => r.EventsSent);
        var notAccepted = runs.Sum(r => r.NotAccepted);
        var duplicates = runs.Sum(r => r.Duplicates);
        var legacy = await Count(db, "blog_attribution_events");
        var fresh = await Count(db, "signal_events", since);
        var repairs = await Count(db, "repair_entries");
        // off writes the legacy table, complete the new one, the stages between both.
        var expectedLegacy = stage == "complete" ? 0 : accepted;
        var expectedNew = stage == "off" ? 0 : accepted;
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
        if (legacy != expectedLegacy)
        {
            problems.Add($"legacy table has {legacy:N0} rows, expected {expectedLegacy:N0}");
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
            ? $"{legacy + fresh:N0} rows = 202s{(expectedLegacy > 0 && expectedNew > 0 ? " ×2" : "")} ✓"
            : "FAIL: " + string.Join("; ", problems);
    }

    private static string Statuses(WrkResult r) => string.Join(", ", r.Statuses.Select(kv => $"{kv.Key}: {kv.Value}"));

    public static async Task SetStageAsync(NpgsqlDataSource db, HttpClient http, string url, string stage)
    {
        await using (var command = db.CreateCommand(
            "UPDATE stage_flags SET stage = $1, percent = 100, version = version + 1, updated_at = now(), updated_by = 'bench' WHERE migration = $2"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = stage });
            command.Parameters.Add(new NpgsqlParameter { Value = Migration });
            await command.ExecuteNonQueryAsync();
        }
        // The app hears the change over LISTEN/NOTIFY; wait until its health report shows it.
        await BenchProcess.WaitUntilAsync(async () =>
        {
            var health = await http.GetFromJsonAsync<JsonElement>($"{url}/api/health/details");
            return health.GetProperty("flags").GetProperty("stages").GetProperty(Migration).GetProperty("stage").GetString() == stage;
        }, $"the app to take stage {stage}");
    }

    public static async Task ResetTablesAsync(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        // The first-seen times of ids sent without occurred_at (absent in a build before partitioning).
        var firstSeen = await Scalar<bool>(db, "SELECT to_regclass('signal_event_first_seen') IS NOT NULL") ? ", signal_event_first_seen" : "";
        await Exec(connection, $"TRUNCATE blog_attribution_events, signal_events, repair_entries{firstSeen}");
        // Start each scenario from the same point: no checkpoint owed from the previous one.
        await Exec(connection, "CHECKPOINT");
    }

    /// <summary>Rows of the table; with <paramref name="since"/>, those recorded since then (by its recorded_at index).</summary>
    private static async Task<long> Count(NpgsqlDataSource db, string table, DateTime? since = null)
    {
        await using var command = db.CreateCommand(since is null ? $"SELECT count(*) FROM {table}" : $"SELECT count(*) FROM {table} WHERE recorded_at >= $1");
        if (since is { } from)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = from });
        }
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static async Task<T> Scalar<T>(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static async Task Exec(NpgsqlConnection connection, string sql)
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
        Console.WriteLine($"{await TableShapeAsync(db)}; the COPY limit (c) loads this same table");
        Console.WriteLine($"Events {(s.OccurredAt ? "carry occurred_at (UTC now), as the snippet sends them" : "carry no occurred_at: each id's time comes from signal_event_first_seen")}");
        Console.WriteLine($"Each scenario: {s.WarmupSeconds} s warm-up, then {s.Windows} measured windows of {s.Seconds} s, the best one shown (min = the slowest);");
        Console.WriteLine("wrk -t1 over loopback; tables truncated before each scenario; rows counted after it and compared with the events answered 202.");
        Console.WriteLine("The app as ./run.sh serves it: the dev host (host) starts the worker (wkr, our code) and forwards each request to it; each counted on its own.");
        Console.WriteLine();
        Console.WriteLine(Header());
    }

    /// <summary>"signal_events: partitioned, N partitions, PRIMARY KEY (…)" or "…: plain table, …".</summary>
    public static async Task<string> TableShapeAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("""
            SELECT c.relkind = 'p', (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid),
                   (SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')
              FROM pg_class c WHERE c.oid = 'signal_events'::regclass
            """);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var layout = reader.GetBoolean(0) ? $"partitioned, {reader.GetInt64(1)} partitions" : "plain table";
        return $"signal_events: {layout}, {reader.GetString(2)}";
    }

    private static string Header() =>
        $"{"scenario",-36} {"stage",-10} {"load",-10} {"events/s",9} {"(min)",9} {"req/s",8} {"p50 ms",7} {"p99 ms",7} {"wkr RSS",7}  {"cores wkr/host/pg/gen/net/other",-32} {"µs CPU/event wkr/host/pg",-25} {"bare µs/event",-14} {"WAL B/ev",8} {"load",5} check";

    public static void PrintRow(Row r) => Console.WriteLine(
        $"{r.Scenario,-36} {r.Stage,-10} {r.Connections,-10} {r.EventsPerSecond,9:N0} {r.MinEventsPerSecond,9:N0} {Opt(r.RequestsPerSecond, "N0"),8} {Opt(r.P50Ms, "N1"),7} {Opt(r.P99Ms, "N1"),7} {Opt(r.RssMb, "N0"),7}  {CpuText(r.Cpu),-32} {PerEvent(r),-25} {BareText(r),-14} {Opt(r.WalBytesPerEvent, "N0"),8} {Opt(r.Load, "N2"),5} {r.Check}");

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
        text.AppendLine("| scenario | stage | load | events/s | slowest window | requests/s | p50 ms | p99 ms | worker RSS MB | cores worker / host / pg / load gen / net / other | µs CPU per event worker / host / pg | bare endpoint µs CPU per event (worker − bare) | WAL bytes per event | load avg | rows checked |");
        text.AppendLine("|---|---|---|--:|--:|--:|--:|--:|--:|---|---|---|--:|--:|---|");
        foreach (var r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Stage} | {r.Connections} | {r.EventsPerSecond:N0} | {r.MinEventsPerSecond:N0} | {Opt(r.RequestsPerSecond, "N0")} | {Opt(r.P50Ms, "N1")} | {Opt(r.P99Ms, "N1")} | {Opt(r.RssMb, "N0")} | {CpuText(r.Cpu)} | {PerEvent(r)} | {BareText(r)} | {Opt(r.WalBytesPerEvent, "N0")} | {Opt(r.Load, "N2")} | {r.Check} |");
        }
        text.AppendLine();
        text.AppendLine("Targets:");
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
}
