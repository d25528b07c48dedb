using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SignalFunctions.Stages;

/// <summary>
/// One migration's flag: the newest stage and the share of entities rolled out to it. Entities
/// outside the share stay on the previous stage. Bucketing is sticky by the journey key, so one
/// journey never straddles two stages.
/// </summary>
public sealed record StageFlag(string Migration, Stage Stage, int Percent, long Version, DateTimeOffset UpdatedAt)
{
    public Stage StageFor(string journeyKey) =>
        Percent >= 100 || Bucket(journeyKey, Migration) < Percent ? Stage : Stage.Previous();

    public Stage StageFor(Guid journeyKey) => Percent >= 100 ? Stage : StageFor(journeyKey.ToString("D"));

    /// <summary>The stage every journey is at least on.</summary>
    public Stage Lowest => StageRules.Lowest(Stage, Percent);

    /// <summary>The stage some journey is on.</summary>
    public Stage Highest => StageRules.Highest(Stage, Percent);

    /// <summary>
    /// The Microsoft.Targeting bucket (AZURE.md): SHA-256 of "{key}\n{flag}", first four bytes
    /// little-endian, as a percentage of uint.MaxValue. Same answer as the portal's targeting filter,
    /// so moving the flag to App Configuration keeps every journey in its bucket.
    /// </summary>
    public static double Bucket(string journeyKey, string migration)
    {
        var text = $"{journeyKey}\n{FeatureName(migration)}";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(hash);
        return value / (double)uint.MaxValue * 100.0;
    }

    public static string FeatureName(string migration) => $"SignalFunctions.{migration}";
}

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
