using System.Text.Json;

namespace SignalFunctions.Ingest;

/// <summary>
/// Reads one event, an array of events, or {"events":[…]} and validates every field, naming each
/// problem by its path (events[3].event_type). A batch is all or nothing: one invalid event and
/// nothing is written.
/// </summary>
public static class SignalEventParser
{
    public const int MaxEvents = 100;
    public const int MaxMetadataDepth = 8;
    public const int MaxTextLength = 256;
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(30);

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private static readonly HashSet<string> SignalFields = new(StringComparer.Ordinal)
    {
        "id", "signal_id", "content_id", "content_type", "target_type", "target_id", "event_type",
        "source_component", "session_id", "user_id", "metadata", "occurred_at",
    };

    private static readonly HashSet<string> LegacyFields = new(StringComparer.Ordinal)
    {
        "id", "blog_article_id", "signal_id", "target_type", "target_id", "event_type",
        "source_component", "session_id", "user_id", "metadata", "occurred_at",
    };

    public static EventParseResult Parse(ReadOnlyMemory<byte> body, PayloadShape shape, DateTimeOffset now)
    {
        var result = new EventParseResult();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            result.Errors.Add("body", $"not valid JSON: {ex.Message}");
            return result;
        }

        using (document)
        {
            var root = document.RootElement;
            switch (root.ValueKind)
            {
                case JsonValueKind.Array:
                    ParseMany(root, "", shape, now, result);
                    break;
                case JsonValueKind.Object when IsWrapper(root):
                    ParseMany(root.GetProperty("events"), "events", shape, now, result);
                    break;
                case JsonValueKind.Object:
                    ParseOne(new FieldReader(root, "", result.Errors), root, shape, now, result);
                    break;
                default:
                    result.Errors.Add("body", "must be an event object, an array of events, or {\"events\":[…]}");
                    break;
            }
        }
        if (!result.IsValid)
        {
            result.Events.Clear();
        }
        return result;
    }

    private static bool IsWrapper(JsonElement root)
    {
        var count = 0;
        var hasEvents = false;
        foreach (var property in root.EnumerateObject())
        {
            count++;
            try
            {
                hasEvents |= property.NameEquals("events");
            }
            catch (InvalidOperationException)
            {
                // A name that is not valid Unicode (a lone surrogate escape): not the wrapper; ParseOne names the field.
                return false;
            }
        }
        return hasEvents && count == 1;
    }

    private static void ParseMany(JsonElement array, string prefix, PayloadShape shape, DateTimeOffset now, EventParseResult result)
    {
        var field = prefix.Length == 0 ? "body" : prefix;
        if (array.ValueKind != JsonValueKind.Array)
        {
            result.Errors.Add(field, "must be an array of events");
            return;
        }
        var length = array.GetArrayLength();
        if (length == 0)
        {
            result.Errors.Add(field, "contains no events");
            return;
        }
        if (length > MaxEvents)
        {
            result.Errors.Add(field, $"contains {length} events; at most {MaxEvents} are accepted per request");
            return;
        }
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            ParseOne(new FieldReader(item, prefix, index, result.Errors), item, shape, now, result);
            index++;
        }
    }

    private static void ParseOne(FieldReader fields, JsonElement element, PayloadShape shape, DateTimeOffset now, EventParseResult result)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            fields.Error(null, "must be an event object");
            return;
        }
        fields.RejectUnknown(shape == PayloadShape.Signal ? SignalFields : LegacyFields);

        var clientId = fields.Uuid("id", required: false);
        var id = clientId ?? Guid.CreateVersion7(now);
        var contentId = fields.Uuid(shape == PayloadShape.Signal ? "content_id" : "blog_article_id", required: true);
        var contentType = shape == PayloadShape.Signal
            ? fields.Identifier("content_type", required: false) ?? "article"
            : "article";
        var targetType = fields.OneOf("target_type", SignalVocabulary.TargetTypes);
        var targetId = fields.Uuid("target_id", required: true);
        var eventType = fields.OneOf("event_type", SignalVocabulary.EventTypes);
        var sourceComponent = fields.OneOf("source_component", SignalVocabulary.SourceComponents);
        var sessionId = fields.Text("session_id", MaxTextLength);
        var userId = fields.Uuid("user_id", required: false);
        var (metadataJson, metadataSignalId) = fields.Metadata("metadata", MaxMetadataDepth);
        var clientTime = fields.Timestamp("occurred_at", now - MaxAge, now + MaxFutureSkew);
        var occurredAt = clientTime ?? now;
        var signalId = shape == PayloadShape.Signal
            ? fields.Uuid("signal_id", required: true)
            : fields.Uuid("signal_id", required: false)
              ?? metadataSignalId
              ?? (sessionId is not null ? JourneyKeys.FromSession(sessionId) : id);

        if (fields.Valid)
        {
            result.Events.Add(new SignalEvent(
                id, signalId!.Value, contentId!.Value, contentType, userId, sessionId, targetType!,
                targetId!.Value, eventType!, sourceComponent!, metadataJson!, occurredAt.ToUniversalTime())
            {
                NeedsFirstSeen = clientId is not null && clientTime is null,
            });
        }
    }
}
