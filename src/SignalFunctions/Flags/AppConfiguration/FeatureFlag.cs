using System.Text.Json;
using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// A feature flag's value in App Configuration (content type <see cref="FeatureFlagKeys.ContentType"/>),
/// as Microsoft's FeatureFlag v2.0.0 schema defines it: the JSON the portal's Feature manager edits
/// and Microsoft.FeatureManagement evaluates. Fields this model does not name (display_name,
/// telemetry, anything newer) are kept in <see cref="Extra"/> so a read-modify-write keeps them.
/// Azure.Data.AppConfiguration's FeatureFlagConfigurationSetting does the same; it is not available here.
/// </summary>
public sealed class FeatureFlag
{
    [JsonPropertyName("id"), JsonRequired]
    public string Id { get; set; } = "";

    [JsonPropertyName("description")]
    public string? Description { get; set; }

    [JsonPropertyName("enabled")]
    public bool Enabled { get; set; }

    [JsonPropertyName("conditions")]
    public FeatureConditions? Conditions { get; set; }

    [JsonPropertyName("variants")]
    public List<FeatureVariant>? Variants { get; set; }

    [JsonPropertyName("allocation")]
    public FeatureAllocation? Allocation { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class FeatureConditions
{
    /// <summary>"Any" (the default) or "All".</summary>
    [JsonPropertyName("requirement_type")]
    public string? RequirementType { get; set; }

    [JsonPropertyName("client_filters")]
    public List<FeatureClientFilter>? ClientFilters { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class FeatureClientFilter
{
    [JsonPropertyName("name"), JsonRequired]
    public string Name { get; set; } = "";

    [JsonPropertyName("parameters")]
    public JsonElement? Parameters { get; set; }
}

public sealed class FeatureVariant
{
    [JsonPropertyName("name"), JsonRequired]
    public string Name { get; set; } = "";

    [JsonPropertyName("configuration_value")]
    public JsonElement? ConfigurationValue { get; set; }

    /// <summary>"None", "Enabled" or "Disabled": changes the flag's enabled state, never its variant.</summary>
    [JsonPropertyName("status_override")]
    public string? StatusOverride { get; set; }
}

public sealed class FeatureAllocation
{
    [JsonPropertyName("default_when_disabled")]
    public string? DefaultWhenDisabled { get; set; }

    [JsonPropertyName("default_when_enabled")]
    public string? DefaultWhenEnabled { get; set; }

    [JsonPropertyName("user")]
    public List<JsonElement>? User { get; set; }

    [JsonPropertyName("group")]
    public List<JsonElement>? Group { get; set; }

    [JsonPropertyName("percentile")]
    public List<PercentileAllocation>? Percentile { get; set; }

    /// <summary>
    /// The hash input after the user id. Microsoft.FeatureManagement uses "allocation\n{id}" when it
    /// is absent; we always write the flag id (see <see cref="StageFeatureFlag"/>).
    /// </summary>
    [JsonPropertyName("seed")]
    public string? Seed { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class PercentileAllocation
{
    [JsonPropertyName("variant"), JsonRequired]
    public string Variant { get; set; } = "";

    [JsonPropertyName("from"), JsonRequired]
    public double From { get; set; }

    [JsonPropertyName("to"), JsonRequired]
    public double To { get; set; }
}

/// <summary>Where feature flags live among key-values, and how their values are read and written.</summary>
public static class FeatureFlagKeys
{
    public const string Prefix = ".appconfig.featureflag/";
    public const string ContentType = "application/vnd.microsoft.appconfig.ff+json;charset=utf-8";

    public static string Key(string flagId) => Prefix + flagId;

    /// <summary>Parses a flag's JSON value; anything that is not valid flag JSON throws <see cref="FeatureFlagFormatException"/>.</summary>
    public static FeatureFlag Parse(string key, string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new FeatureFlagFormatException(key, "the value is empty");
        }
        FeatureFlag flag;
        try
        {
            flag = JsonSerializer.Deserialize(json, FeatureFlagJson.Default.FeatureFlag)
                ?? throw new FeatureFlagFormatException(key, "the value is JSON null");
        }
        catch (JsonException ex)
        {
            throw new FeatureFlagFormatException(key, $"the value is not valid feature flag JSON (at {ex.Path ?? "$"}: {ex.Message})");
        }
        if (Key(flag.Id) != key)
        {
            throw new FeatureFlagFormatException(key, $"its id '{flag.Id}' does not match the key");
        }
        return flag;
    }

    public static string Serialize(FeatureFlag flag) => JsonSerializer.Serialize(flag, FeatureFlagJson.Default.FeatureFlag);
}

/// <summary>A flag whose JSON is invalid, or that says something a stage flag cannot mean. The flag is rejected whole.</summary>
public sealed class FeatureFlagFormatException(string key, string reason)
    : FormatException($"Feature flag '{key}' is rejected: {reason}.")
{
    public string Key { get; } = key;
    public string Reason { get; } = reason;
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FeatureFlag))]
internal sealed partial class FeatureFlagJson : JsonSerializerContext;
