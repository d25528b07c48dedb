using System.Text.Json;

namespace SignalFunctions.Flags;

/// <summary>
/// One Event Grid delivery (Event Grid schema: a JSON array of events) to the flags webhook:
/// either the subscription validation handshake, or App Configuration's key-value notifications.
/// Anything else in the array is ignored (Event Grid retries on any non-2xx, so an event type we do
/// not handle must not fail the delivery); a body that is not an Event Grid delivery is refused.
/// </summary>
public sealed record EventGridDelivery(string? ValidationCode, IReadOnlyList<KeyValueChange> Changes, int Ignored)
{
    public const string ValidationEventType = "Microsoft.EventGrid.SubscriptionValidationEvent";
    public const string KeyValueModified = "Microsoft.AppConfiguration.KeyValueModified";
    public const string KeyValueDeleted = "Microsoft.AppConfiguration.KeyValueDeleted";

    /// <summary>The header Event Grid sets on every delivery: SubscriptionValidation or Notification.</summary>
    public const string EventTypeHeader = "aeg-event-type";

    /// <summary>Parses a delivery; a malformed one throws <see cref="EventGridFormatException"/> naming the field.</summary>
    public static EventGridDelivery Parse(ReadOnlyMemory<byte> body, string? deliveryType)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new EventGridFormatException("body", $"is not JSON ({ex.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new EventGridFormatException("body", $"is a JSON {Kind(root)}; an Event Grid delivery is an array of events (Event Grid schema)");
            }
            if (root.GetArrayLength() == 0)
            {
                throw new EventGridFormatException("body", "is an empty array; a delivery has at least one event");
            }
            string? validationCode = null;
            var changes = new List<KeyValueChange>();
            var ignored = 0;
            var index = 0;
            foreach (var item in root.EnumerateArray())
            {
                var at = $"[{index++}]";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    throw new EventGridFormatException(at, $"is a JSON {Kind(item)}; each event is an object");
                }
                var eventType = RequiredString(item, "eventType", at);
                switch (eventType)
                {
                    case ValidationEventType:
                        validationCode = RequiredString(Data(item, at), "validationCode", $"{at}.data");
                        break;
                    case KeyValueModified or KeyValueDeleted:
                        var data = Data(item, at);
                        changes.Add(new KeyValueChange(
                            eventType == KeyValueDeleted, RequiredString(data, "key", $"{at}.data"),
                            OptionalString(data, "label", $"{at}.data"), OptionalString(data, "syncToken", $"{at}.data")));
                        break;
                    default:
                        ignored++;
                        break;
                }
            }
            if (validationCode is not null && changes.Count > 0)
            {
                throw new EventGridFormatException("body", "mixes a subscription validation event with notifications");
            }
            var expected = validationCode is null ? "Notification" : "SubscriptionValidation";
            if (deliveryType is not null && !string.Equals(deliveryType, expected, StringComparison.OrdinalIgnoreCase))
            {
                throw new EventGridFormatException(EventTypeHeader, $"is '{deliveryType}' but the body is a {expected} delivery");
            }
            return new EventGridDelivery(validationCode, changes, ignored);
        }
    }

    private static JsonElement Data(JsonElement item, string at) =>
        item.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            ? data
            : throw new EventGridFormatException($"{at}.data", "is missing or not an object");

    private static string RequiredString(JsonElement item, string name, string at) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new EventGridFormatException($"{at}.{name}", "is missing or not a non-empty string");

    private static string? OptionalString(JsonElement item, string name, string at)
    {
        if (!item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new EventGridFormatException($"{at}.{name}", "is not a string");
    }

    private static string Kind(JsonElement element) => element.ValueKind.ToString().ToLowerInvariant();
}
