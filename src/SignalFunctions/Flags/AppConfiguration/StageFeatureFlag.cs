using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SignalFunctions.Stages;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// A migration's stage flag as an App Configuration feature flag, in its own format so the portal shows and edits it: flag
/// <c>SignalFunctions.{migration}</c>, one variant per stage (off … complete), the stage is the
/// variant. A partial rollout is a percentile allocation: the new stage holds [0, percent), the
/// previous stage [percent, 100], seeded with the flag id. With that seed Microsoft.FeatureManagement
/// hashes "{journey key}\n{flag id}", exactly <see cref="StageFlag.Bucket"/> (and Microsoft.Targeting),
/// so App Configuration, the embedded store and FeatureManagement put every journey on the same stage.
/// </summary>
public static class StageFeatureFlag
{
    public static string Key(string migration) => FeatureFlagKeys.Key(StageFlag.FeatureName(migration));

    /// <summary>The migration a flag key belongs to, or null for any other key.</summary>
    public static string? Migration(string key)
    {
        var prefix = FeatureFlagKeys.Key(StageFlag.FeatureName(""));
        return key.StartsWith(prefix, StringComparison.Ordinal) && key.Length > prefix.Length ? key[prefix.Length..] : null;
    }

    /// <summary>
    /// The flag for (stage, percent). An existing flag's description and fields this code does not
    /// own (display_name, telemetry) are kept.
    /// </summary>
    public static FeatureFlag Create(string migration, Stage stage, int percent, FeatureFlag? existing = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        var id = StageFlag.FeatureName(migration);
        var previous = stage.Previous();
        var name = stage.Name();
        return new FeatureFlag
        {
            Id = id,
            Description = existing?.Description ?? $"Stage of the {migration} migration. The variant is the stage; " +
                "a percentile allocation moves that share of journeys to it, the rest stay on the previous stage.",
            Enabled = true,
            Conditions = new FeatureConditions { ClientFilters = [] },
            Variants = StageRules.Names.Select(stageName => new FeatureVariant { Name = stageName }).ToList(),
            Allocation = new FeatureAllocation
            {
                Percentile = percent >= 100 || stage == previous
                    ? [new PercentileAllocation { Variant = name, From = 0, To = 100 }]
                    :
                    [
                        new PercentileAllocation { Variant = name, From = 0, To = percent },
                        new PercentileAllocation { Variant = previous.Name(), From = percent, To = 100 },
                    ],
                DefaultWhenEnabled = percent >= 100 ? name : previous.Name(),
                // Switching the flag off in the portal steps every journey back one stage, as the
                // guard would; never further (a migration past live must not jump back to off).
                DefaultWhenDisabled = previous.Name(),
                Seed = id,
            },
            Extra = existing?.Extra,
        };
    }

    /// <summary>
    /// The stage flag a key-value holds. Anything that is not exactly a stage and a share (invalid
    /// JSON, an unknown stage, filters, per-user allocation, a split FeatureManagement would bucket
    /// differently) throws <see cref="FeatureFlagFormatException"/>: the caller keeps the previous value.
    /// Version: see <see cref="VersionOf"/>.
    /// </summary>
    public static StageFlag Read(KeyValue keyValue)
    {
        var migration = Migration(keyValue.Key) ?? throw new FeatureFlagFormatException(keyValue.Key, "it is not a SignalFunctions stage flag");
        var flag = FeatureFlagKeys.Parse(keyValue.Key, keyValue.Value);
        var (stage, percent) = StageOf(keyValue.Key, flag);
        return new StageFlag(migration, stage, percent, VersionOf(keyValue), keyValue.LastModified ?? DateTimeOffset.UnixEpoch);
    }

    /// <summary>
    /// A flag's version, which changes with every write: App Configuration has no counter, and its
    /// last-modified time may be whole seconds, so two writes within one second would look alike
    /// (and the guard would judge, or step back, the new stage by the old one's measures). The ETag
    /// changes with every write; its hash is the version. Only ever compared for equality.
    /// </summary>
    public static long VersionOf(KeyValue keyValue)
    {
        if (string.IsNullOrEmpty(keyValue.ETag))
        {
            return (keyValue.LastModified ?? DateTimeOffset.UnixEpoch).ToUnixTimeMilliseconds();
        }
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(keyValue.ETag), hash);
        return BinaryPrimitives.ReadInt64LittleEndian(hash) & long.MaxValue;
    }

    /// <summary>(stage, percent) exactly as Microsoft.FeatureManagement would assign the flag's variants.</summary>
    public static (Stage Stage, int Percent) StageOf(string key, FeatureFlag flag)
    {
        var variants = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (variant, index) in (flag.Variants ?? []).Select((v, i) => (v, i)))
        {
            StageNamed(key, variant.Name, $"variants[{index}].name");
            if (!variants.Add(variant.Name))
            {
                throw new FeatureFlagFormatException(key, $"variants[{index}].name '{variant.Name}' is listed twice");
            }
        }
        if (flag.Conditions?.ClientFilters is { Count: > 0 } filters)
        {
            // A filter makes "enabled" depend on the caller, so the stage would too.
            throw new FeatureFlagFormatException(key,
                $"conditions.client_filters has '{filters[0].Name}'; a stage flag takes no filters (the rollout is the allocation)");
        }
        var allocation = flag.Allocation ?? throw new FeatureFlagFormatException(key, "it has no allocation, so it names no stage");
        if (allocation.User is { Count: > 0 } || allocation.Group is { Count: > 0 })
        {
            throw new FeatureFlagFormatException(key, "allocation.user / allocation.group assign stages per user; a stage flag allocates by percentile only");
        }
        if (!flag.Enabled)
        {
            // Disabled: FeatureManagement gives everyone default_when_disabled.
            return (Listed(key, variants, allocation.DefaultWhenDisabled, "allocation.default_when_disabled"), 100);
        }

        var ranges = (allocation.Percentile ?? []).Select((range, index) => Checked(key, variants, range, index)).ToList();
        var segments = Segments(key, variants, ranges, allocation.DefaultWhenEnabled);
        if (segments is [var whole])
        {
            // "stage X at 0 %" is written as an empty first range [0, 0) for X before its previous stage's [0, 100].
            return ranges is [{ From: 0, To: 0 } first, ..] && first.Stage != whole.Stage && first.Stage.Previous() == whole.Stage
                ? (first.Stage, 0)
                : (whole.Stage, 100);
        }
        if (segments is [var rolled, var rest] && rolled.Stage != Stage.Off && rest.Stage == rolled.Stage.Previous())
        {
            var percent = (int)rolled.To;
            if (allocation.Seed != flag.Id)
            {
                throw new FeatureFlagFormatException(key,
                    $"allocation.seed is '{allocation.Seed}', not '{flag.Id}': FeatureManagement would bucket journeys " +
                    "differently from Microsoft.Targeting and the embedded store");
            }
            return (rolled.Stage, percent);
        }
        throw new FeatureFlagFormatException(key,
            $"its allocation splits journeys as {string.Join(", ", segments.Select(s => $"{s.Stage.Name()} {s.From}-{s.To}"))}; " +
            "a stage flag is one stage from 0 to a share and the stage before it from there to 100");
    }

    private sealed record Range(Stage Stage, double From, double To);

    private static Range Checked(string key, HashSet<string> variants, PercentileAllocation range, int index)
    {
        var at = $"allocation.percentile[{index}]";
        var stage = Listed(key, variants, range.Variant, $"{at}.variant");
        if (range.From < 0 || range.To > 100 || range.From > range.To)
        {
            throw new FeatureFlagFormatException(key, $"{at} runs from {range.From} to {range.To}; a range lies within 0-100, from <= to");
        }
        if (range.From != Math.Floor(range.From) || range.To != Math.Floor(range.To))
        {
            throw new FeatureFlagFormatException(key, $"{at} runs from {range.From} to {range.To}; a stage share is a whole percent");
        }
        return new Range(stage, range.From, range.To);
    }

    /// <summary>The whole 0-100 line in order, gaps given to default_when_enabled, neighbours of one stage merged.</summary>
    private static List<Range> Segments(string key, HashSet<string> variants, List<Range> ranges, string? defaultWhenEnabled)
    {
        var line = new List<Range>();
        var at = 0.0;
        foreach (var range in ranges.Where(r => r.To > r.From).OrderBy(r => r.From))
        {
            if (range.From < at)
            {
                // FeatureManagement takes the first match in list order; overlaps are never what was meant.
                throw new FeatureFlagFormatException(key, $"allocation.percentile ranges overlap at {range.From}");
            }
            if (range.From > at)
            {
                line.Add(new Range(Listed(key, variants, defaultWhenEnabled, "allocation.default_when_enabled"), at, range.From));
            }
            line.Add(range);
            at = range.To;
        }
        if (at < 100)
        {
            line.Add(new Range(Listed(key, variants, defaultWhenEnabled, "allocation.default_when_enabled"), at, 100));
        }
        var merged = new List<Range>();
        foreach (var segment in line)
        {
            if (merged.Count > 0 && merged[^1].Stage == segment.Stage)
            {
                merged[^1] = merged[^1] with { To = segment.To };
            }
            else
            {
                merged.Add(segment);
            }
        }
        return merged;
    }

    /// <summary>A variant name that is a stage and is listed in variants (else FeatureManagement assigns nothing).</summary>
    private static Stage Listed(string key, HashSet<string> variants, string? name, string at)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new FeatureFlagFormatException(key, $"{at} is not set, so some journeys would get no stage");
        }
        var stage = StageNamed(key, name, at);
        return variants.Contains(name)
            ? stage
            : throw new FeatureFlagFormatException(key, $"{at} '{name}' is not one of the flag's variants");
    }

    private static Stage StageNamed(string key, string name, string at) =>
        StageRules.TryParse(name, out var stage)
            ? stage
            : throw new FeatureFlagFormatException(key,
                $"{at} '{name}' names an unknown stage (stages: {string.Join(", ", StageRules.Names)})");
}
