namespace SignalFunctions.Ingest;

/// <summary>Problems found in a request, by field path; becomes the 400's "errors".</summary>
public sealed class ValidationErrors
{
    public Dictionary<string, string[]> ByField { get; } = new(StringComparer.Ordinal);

    public bool IsEmpty => ByField.Count == 0;

    public void Add(string field, string message) =>
        ByField[field] = ByField.TryGetValue(field, out var existing) ? [.. existing, message] : [message];

    /// <summary>A value the sender gave, as an error message quotes it: at most 40 characters.</summary>
    public static string Shown(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
