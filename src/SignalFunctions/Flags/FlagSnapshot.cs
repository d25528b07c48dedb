using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

/// <summary>
/// All flags as one immutable value: a request reads one snapshot from start to end. Besides the
/// stage flags it carries the plain settings loaded with them (App Configuration's
/// <c>SignalFunctions:</c> key-values), the label and ETag they were read at, and the flags that
/// were rejected (each keeps its previous value in <see cref="Flags"/> when there was one).
/// </summary>
public sealed class FlagSnapshot(
    IReadOnlyDictionary<string, StageFlag> flags, string source, DateTimeOffset loadedAt,
    IReadOnlyDictionary<string, string>? settings = null, string? label = null, string? etag = null,
    IReadOnlyDictionary<string, string>? rejected = null)
{
    public IReadOnlyDictionary<string, StageFlag> Flags { get; } = flags;
    public string Source { get; } = source;

    /// <summary>When this set of flags was last known to be what the source holds.</summary>
    public DateTimeOffset LoadedAt { get; } = loadedAt;

    public IReadOnlyDictionary<string, string> Settings { get; } = settings ?? new Dictionary<string, string>();
    public string? Label { get; } = label;
    public string? ETag { get; } = etag;

    /// <summary>Flag key → why it was rejected.</summary>
    public IReadOnlyDictionary<string, string> Rejected { get; } = rejected ?? new Dictionary<string, string>();

    public StageFlag this[string migration] =>
        Flags.TryGetValue(migration, out var flag)
            ? flag
            : throw new KeyNotFoundException($"No stage flag for migration '{migration}'.");

    /// <summary>The same flags, confirmed unchanged at <paramref name="at"/> (an unchanged poll).</summary>
    public FlagSnapshot ConfirmedAt(DateTimeOffset at) => new(Flags, Source, at, Settings, Label, ETag, Rejected);

    /// <summary>The same flags, served from somewhere else (the last-known-good copy).</summary>
    public FlagSnapshot From(string source) => new(Flags, source, LoadedAt, Settings, Label, ETag, Rejected);
}
