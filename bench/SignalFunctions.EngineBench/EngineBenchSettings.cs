using System.Globalization;

namespace SignalFunctions.EngineBench;

/// <summary>The benchmark's command line; every option has the issue's value as its default.</summary>
internal sealed record EngineBenchSettings(
    string ServerConnectionString, string AppDll, string DevHostDll, string? SettingsFile, string WorkDirectory, string? ResultsFile,
    int Rows, int SampleRows, int IngestRate, int WarmupSeconds, int IdleSeconds, IReadOnlySet<string> Only, TimeSpan Deadline)
{
    public static readonly string[] Sections = ["backfill", "parity", "ingest"];

    public const string OptionsHelp =
        "--app DLL the worker as built (ops verbs run it; the dev host serves its folder); --devhost DLL SignalFunctions.DevHost.dll, which serves the app for the ingest section; " +
        "--settings FILE the dev host's app settings file (engine.sh passes local.settings.sample.json, as ./run.sh does; the environment wins); " +
        "--rows N (1000000) legacy rows; --sample N (50000) rows for the seed's method; --rate N (1000) ingest events/s; " +
        "--warmup S (10) seconds of ingest before the idle window; --idle S (60) seconds of the idle window; " +
        "--only backfill,parity,ingest (all) sections to run, for tuning; --minutes M (30) hard limit for the whole run; --results FILE (markdown copy of the table)";

    public static bool TryParse(string[] args, out EngineBenchSettings settings, out string? error)
    {
        settings = null!;
        error = null;
        string? problem = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                error = args[i] is "--help" or "-h" ? null : $"'{args[i]}' is not an option with a value";
                return false;
            }
            values[args[i][2..]] = args[++i];
        }

        string? Text(string name) => values.Remove(name, out var v) ? v : null;
        int Number(string name, int fallback, int min)
        {
            var text = Text(name);
            if (text is null)
            {
                return fallback;
            }
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min)
            {
                problem ??= $"--{name} takes a whole number of at least {min}, not '{text}'";
            }
            return n;
        }

        var pg = Text("pg");
        var app = Text("app");
        var devHost = Text("devhost");
        var settingsFile = Text("settings");
        var work = Text("work");
        var results = Text("results");
        var rows = Number("rows", 1_000_000, 1000);
        var sample = Number("sample", 50_000, 500);
        var rate = Number("rate", 1000, 1);
        var warmup = Number("warmup", 10, 0);
        var idle = Number("idle", 60, 5);
        var minutes = Number("minutes", 30, 1);
        var only = (Text("only") ?? string.Join(',', Sections)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        if (only.Except(Sections).FirstOrDefault() is { } unknown)
        {
            problem ??= $"--only takes sections among {string.Join(", ", Sections)}, not '{unknown}'";
        }
        error = problem;
        if (values.Count > 0)
        {
            error ??= $"unknown option --{values.Keys.First()}";
        }
        if (pg is null || app is null || devHost is null || work is null)
        {
            error ??= "--pg, --app, --devhost and --work are required";
        }
        if (error is not null)
        {
            return false;
        }
        settings = new EngineBenchSettings(pg!, app!, devHost!, settingsFile, work!, results, rows, Math.Min(sample, rows), rate, warmup, idle, only, TimeSpan.FromMinutes(minutes));
        return true;
    }
}
