using System.Text.Json;
using SignalFunctions.DevHost.Rpc;

namespace SignalFunctions.DevHost.Worker;

/// <summary>One function the worker indexed, with the trigger the host serves it by.</summary>
public sealed record FunctionInfo(string Name, string FunctionId, string EntryPoint, HttpTriggerInfo? Http, TimerTriggerInfo? Timer)
{
    /// <summary>Reads the worker's metadata as the host does: the trigger from the raw bindings, %Setting% resolved.</summary>
    public static FunctionInfo From(RpcFunctionMetadata metadata, Func<string, string, string> resolve)
    {
        HttpTriggerInfo? http = null;
        TimerTriggerInfo? timer = null;
        foreach (var raw in metadata.RawBindings)
        {
            using var binding = JsonDocument.Parse(raw);
            var root = binding.RootElement;
            var type = Text(root, "type");
            var name = Text(root, "name") ?? "";
            if (string.Equals(type, "httpTrigger", StringComparison.OrdinalIgnoreCase))
            {
                var methods = root.TryGetProperty("methods", out var m) && m.ValueKind == JsonValueKind.Array
                    ? m.EnumerateArray().Select(v => v.GetString()!.ToUpperInvariant()).ToList()
                    : [];
                http = new HttpTriggerInfo(name, Text(root, "route") ?? metadata.Name, methods, Text(root, "authLevel") ?? "Function");
            }
            else if (string.Equals(type, "timerTrigger", StringComparison.OrdinalIgnoreCase))
            {
                var schedule = Text(root, "schedule") ?? throw new DevHostException($"Function '{metadata.Name}': its timerTrigger has no schedule.");
                timer = new TimerTriggerInfo(name, schedule, resolve(schedule, metadata.Name));
            }
        }
        return new FunctionInfo(metadata.Name, metadata.FunctionId, metadata.EntryPoint, http, timer);
    }

    private static string? Text(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
            {
                return property.Value.GetString();
            }
        }
        return null;
    }

    /// <summary>The load request's metadata: the worker's own, plus the bindings map the host derives from the raw bindings.</summary>
    public static RpcFunctionMetadata ForLoad(RpcFunctionMetadata metadata)
    {
        var load = metadata.Clone();
        load.Bindings.Clear();
        foreach (var raw in metadata.RawBindings)
        {
            using var binding = JsonDocument.Parse(raw);
            var root = binding.RootElement;
            var info = new BindingInfo
            {
                Type = Text(root, "type") ?? "",
                Direction = (Text(root, "direction") ?? "in").ToLowerInvariant() switch
                {
                    "out" => BindingInfo.Types.Direction.Out,
                    "inout" => BindingInfo.Types.Direction.Inout,
                    _ => BindingInfo.Types.Direction.In,
                },
            };
            if (Text(root, "dataType") is { } dataType && Enum.TryParse<BindingInfo.Types.DataType>(dataType, ignoreCase: true, out var parsed))
            {
                info.DataType = parsed;
            }
            load.Bindings[Text(root, "name") ?? ""] = info;
        }
        return load;
    }
}
