using System.Text.Json.Serialization;

namespace SignalFunctions.Flags;

[JsonSerializable(typeof(Dictionary<string, SavedFlag>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class SavedJson : JsonSerializerContext;
