using System.Globalization;

namespace SignalFunctions.Bench;

/// <summary>What one benchmark run does; bench/run.sh passes the paths, the rest has defaults.</summary>
public sealed record BenchSettings
{
    public const string OptionsHelp =
        "--app DLL (the worker as built; the dev host serves its folder) --devhost DLL (SignalFunctions.DevHost.dll, which starts the worker and forwards HTTP to it) " +
        "--settings FILE (the dev host's app settings file, as ./run.sh passes local.settings.sample.json; the environment and --app-env win) " +
        "--seconds N (one measured window, 5) --windows N (windows per scenario, the best is shown, 3) --warmup N (3) --connections N (64, single events) " +
        "--batch-connections N (16, 100-event batches) --copy-streams N (2) --app-port N (55480) --bare-port N (55481) " +
        "--results FILE (markdown copy of the table) --work DIR (logs of the app, i.e. dev host and worker, and of the bare endpoint) --app-env K=V (extra app setting, repeatable) --only a,b,c,d[,e] " +
        "--occurred-at send|omit (events carry occurred_at, as the snippet sends them, or not: the first-seen path; send) " +
        "--depth N,N… (e: signal_events rows filled into past months before each measurement, in this order; 1000000,50000000) " +
        "--plain-depth N (e: then once the same in a plain, unpartitioned table; 0 = not) --depth-months N (past months filled, 12) " +
        "--fill-sessions N (months filled at once, 2)";

    public required string PostgresConnectionString { get; init; }
    /// <summary>The worker's SignalFunctions.dll; its folder is the dev host's --script-root, as in ./run.sh.</summary>
    public required string AppDll { get; init; }

    /// <summary>The dev host, which serves the app as the Functions host does: ./run.sh's way of serving it.</summary>
    public required string DevHostDll { get; init; }

    /// <summary>The dev host's --settings file, if any.</summary>
    public string? SettingsFile { get; init; }
    public required string WrkScript { get; init; }
    public int Seconds { get; init; } = 5;
    public int Windows { get; init; } = 3;
    public int WarmupSeconds { get; init; } = 3;
    public int Connections { get; init; } = 64;
    public int BatchConnections { get; init; } = 16;
    public int BatchSize { get; init; } = 100;
    public int CopyStreams { get; init; } = 2;
    public int AppPort { get; init; } = 55480;
    public int BarePort { get; init; } = 55481;
    public string? ResultsFile { get; init; }
    public string WorkDir { get; init; } = Path.GetTempPath();
    public IReadOnlyDictionary<string, string> AppEnvironment { get; init; } = new Dictionary<string, string>();
    public IReadOnlySet<string> Only { get; init; } = new HashSet<string> { "a", "b", "c", "d" };

    /// <summary>False: events without occurred_at, so each id takes the app's first-seen path.</summary>
    public bool OccurredAt { get; init; } = true;

    /// <summary>
    /// (e) The depths measured, in this order: rows in past partitions of signal_events. A depth may come
    /// twice (1M, 50M, 1M), so a change in the machine's load between them shows.
    /// </summary>
    public IReadOnlyList<long> Depths { get; init; } = [1_000_000, 50_000_000];

    /// <summary>(e) Rows of the plain-table comparison; 0 leaves it out.</summary>
    public long PlainDepth { get; init; }

    public int DepthMonths { get; init; } = 12;
    public int FillSessions { get; init; } = 2;

    /// <summary>False only for an unknown option shape; a missing required option gives settings null and an error.</summary>
    public static bool TryParse(string[] args, out BenchSettings? settings, out string? error)
    {
        settings = null;
        error = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                error = $"expected --option value, got '{args[i]}'";
                return true;
            }
            var name = args[i][2..];
            var value = args[++i];
            if (name == "app-env")
            {
                var eq = value.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    error = $"--app-env wants KEY=VALUE, got '{value}'";
                    return true;
                }
                env[value[..eq]] = value[(eq + 1)..];
            }
            else
            {
                values[name] = value;
            }
        }

        string? Get(string name) => values.Remove(name, out var v) ? v : null;
        int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        long Long(string v) => long.Parse(v.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);

        var pg = Get("pg");
        var app = Get("app");
        var devHost = Get("devhost");
        var wrk = Get("wrk-script");
        if (pg is null || app is null || devHost is null || wrk is null)
        {
            error = "--pg, --app, --devhost and --wrk-script are required";
            return true;
        }
        var parsed = new BenchSettings
        {
            PostgresConnectionString = pg,
            AppDll = app,
            DevHostDll = devHost,
            SettingsFile = Get("settings"),
            WrkScript = wrk,
            Seconds = Int("seconds", 5),
            Windows = Int("windows", 3),
            WarmupSeconds = Int("warmup", 3),
            Connections = Int("connections", 64),
            BatchConnections = Int("batch-connections", 16),
            CopyStreams = Int("copy-streams", 2),
            AppPort = Int("app-port", 55480),
            BarePort = Int("bare-port", 55481),
            ResultsFile = Get("results"),
            WorkDir = Get("work") ?? Path.GetTempPath(),
            AppEnvironment = env,
            Only = Get("only") is { } only ? only.Split(',').ToHashSet() : new HashSet<string> { "a", "b", "c", "d" },
            OccurredAt = !values.TryGetValue("occurred-at", out var occurredAt) || occurredAt != "omit",
            Depths = Get("depth") is { } depths ? [.. depths.Split(',').Select(Long)] : [1_000_000, 50_000_000],
            PlainDepth = Get("plain-depth") is { } plain ? Long(plain) : 0,
            DepthMonths = Int("depth-months", 12),
            FillSessions = Int("fill-sessions", 2),
        };
        if (Get("occurred-at") is { } time && time is not ("send" or "omit"))
        {
            error = $"--occurred-at wants send or omit, got '{time}'";
            return true;
        }
        if (values.Count > 0)
        {
            error = $"unknown option --{values.Keys.First()}";
            return true;
        }
        settings = parsed;
        return true;
    }
}
