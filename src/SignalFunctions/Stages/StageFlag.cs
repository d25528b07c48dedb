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
