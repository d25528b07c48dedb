using System.Collections;
using System.Text.Json;

namespace SignalFunctions.DevHost.Settings;

/// <summary>
/// The Function App's settings as the worker sees them: the "Values" of local.settings.json files
/// (later files win), under the process environment, which wins as it does for Core Tools. The host
/// passes them to the worker as environment variables and resolves %Name% in binding expressions.
/// </summary>
public sealed class AppSettings
{
    private readonly Dictionary<string, string> _values;

    private AppSettings(Dictionary<string, string> values) => _values = values;

    public IReadOnlyDictionary<string, string> Values => _values;

    public string? this[string name] => _values.TryGetValue(name, out var value) ? value : null;

    public static AppSettings Load(IEnumerable<string> settingsFiles, IDictionary? environment = null)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in settingsFiles)
        {
            foreach (var (name, value) in ReadValues(file))
            {
                values[name] = value;
            }
        }
        foreach (DictionaryEntry entry in environment ?? Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && entry.Value is string value)
            {
                values[name] = value;
            }
        }
        return new AppSettings(values);
    }

    private static IEnumerable<(string Name, string Value)> ReadValues(string file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new DevHostException($"Cannot read settings file {file}: {ex.Message}");
        }
        using (document)
        {
            if (!document.RootElement.TryGetProperty("Values", out var settings) || settings.ValueKind != JsonValueKind.Object)
            {
                throw new DevHostException($"Settings file {file} has no \"Values\" object (the local.settings.json format).");
            }
            return settings.EnumerateObject()
                .Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))
                .ToList();
        }
    }

    /// <summary>
    /// Resolves a binding expression the way the host does: a value wrapped in % is the name of an
    /// app setting, and a missing setting is an error that names it.
    /// </summary>
    public string Resolve(string expression, string functionName)
    {
        if (expression.Length > 2 && expression[0] == '%' && expression[^1] == '%')
        {
            var name = expression[1..^1];
            return this[name] ?? throw new DevHostException(
                $"Function '{functionName}': '{expression}' does not resolve to a value. Set the app setting {name} (local.settings.json Values, or the environment).");
        }
        return expression;
    }
}
