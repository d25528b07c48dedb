using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(KeyValue))]
[JsonSerializable(typeof(KeyValueListBody))]
[JsonSerializable(typeof(KeyValueWriteBody))]
internal sealed partial class KeyValueJson : JsonSerializerContext;
