using System.Text.Json;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Valid event payloads to start tests from; each test changes only what it is about.</summary>
public static class Events
{
    public static Dictionary<string, object?> Signal(Guid? signalId = null, string eventType = "impression", string contentType = "article") => new()
    {
        ["id"] = Guid.NewGuid(),
        ["signal_id"] = signalId ?? Guid.NewGuid(),
        ["content_id"] = Guid.NewGuid(),
        ["content_type"] = contentType,
        ["target_type"] = "tutor",
        ["target_id"] = Guid.NewGuid(),
        ["event_type"] = eventType,
        ["source_component"] = "tutor_embed",
        ["session_id"] = "s-" + Guid.NewGuid().ToString("N")[..8],
        ["metadata"] = new Dictionary<string, object> { ["page"] = "/blog/a" },
    };

    public static string Json(object value) => JsonSerializer.Serialize(value);
}
