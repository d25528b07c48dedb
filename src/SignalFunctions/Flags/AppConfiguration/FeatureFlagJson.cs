using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FeatureFlag))]
internal sealed partial class FeatureFlagJson : JsonSerializerContext;
