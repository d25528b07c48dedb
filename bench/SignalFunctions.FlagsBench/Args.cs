using System.Globalization;

/// <summary>
/// --pg CONNSTRING; --app DLL, the worker as built, whose folder the dev host serves; --devhost DLL,
/// SignalFunctions.DevHost.dll; --settings FILE, the dev host's app settings (flags.sh passes
/// local.settings.sample.json, as ./run.sh does); --rounds N (10); --refresh S (5).
/// </summary>
internal sealed record Args(string AdminConnectionString, string AppDll, string DevHostDll, string? SettingsFile, int Rounds, int RefreshSeconds)
{
    public static Args Parse(string[] args)
    {
        string? Optional(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        string Value(string name, string? fallback = null) => Optional(name) ?? fallback ?? throw new ArgumentException($"{name} is required");
        return new Args(Value("--pg"), Value("--app"), Value("--devhost"), Optional("--settings"),
            int.Parse(Value("--rounds", "10"), CultureInfo.InvariantCulture), int.Parse(Value("--refresh", "5"), CultureInfo.InvariantCulture));
    }
}
