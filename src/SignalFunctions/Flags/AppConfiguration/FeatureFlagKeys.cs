using System.Text.Json;

namespace SignalFunctions.Flags.AppConfiguration;

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
