using System.Text.Json;
using System.Text.RegularExpressions;

namespace SignalFunctions.Ingest;

/// <summary>Validation of the three click payloads, with the same field-level errors as signal events.</summary>
public static partial class ClickRequests
{
    public static readonly IReadOnlySet<string> ClickEventTypes = new HashSet<string>(StringComparer.Ordinal)
        { "phone_click", "email_click", "form_submit", "generate_lead" };

    private static readonly HashSet<string> RecordFields = new(StringComparer.Ordinal)
        { "click_id", "platform", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content" };

    private static readonly HashSet<string> EventFields = new(StringComparer.Ordinal) { "event_type", "id" };

    private static readonly HashSet<string> StatusFields = new(StringComparer.Ordinal)
        { "click_id", "qualified", "score", "event_type" };

    public static bool IsValidClickId(string? clickId) => clickId is not null && ClickIdPattern().IsMatch(clickId);

    public static (ClickRecord? Value, ValidationErrors Errors) ParseRecord(ReadOnlyMemory<byte> body) =>
        ParseObject(body, RecordFields, fields =>
        {
            var clickId = ClickId(fields);
            var record = new ClickRecord(
                clickId!, fields.Text("platform", 100), fields.Text("utm_source", 255), fields.Text("utm_medium", 255),
                fields.Text("utm_campaign", 255), fields.Text("utm_term", 255), fields.Text("utm_content", 255));
            return record;
        });

    public static (ClickEvent? Value, ValidationErrors Errors) ParseEvent(ReadOnlyMemory<byte> body) =>
        ParseObject(body, EventFields, fields => new ClickEvent(fields.OneOf("event_type", ClickEventTypes)!, fields.Uuid("id", required: false)));

    public static (ClickStatus? Value, ValidationErrors Errors) ParseStatus(ReadOnlyMemory<byte> body) =>
        ParseObject(body, StatusFields, fields =>
        {
            var clickId = ClickId(fields);
            var qualified = fields.Boolean("qualified", required: true);
            var score = fields.Integer("score", 0, int.MaxValue, required: true);
            var eventType = fields.Identifier("event_type", required: false) ?? "status_update";
            return new ClickStatus(clickId!, qualified ?? false, score ?? 0, eventType);
        });

    private static string? ClickId(FieldReader fields)
    {
        var clickId = fields.Text("click_id", 255, required: true);
        if (clickId is not null && !IsValidClickId(clickId))
        {
            fields.Error("click_id", "may contain only letters, digits and . _ ~ -");
        }
        return clickId;
    }

    private static (T? Value, ValidationErrors Errors) ParseObject<T>(ReadOnlyMemory<byte> body, HashSet<string> known, Func<FieldReader, T> read)
    {
        var errors = new ValidationErrors();
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add("body", "must be a JSON object");
                return (default, errors);
            }
            var fields = new FieldReader(document.RootElement, "", errors);
            fields.RejectUnknown(known);
            var value = read(fields);
            return fields.Valid ? (value, errors) : (default, errors);
        }
        catch (JsonException ex)
        {
            errors.Add("body", $"not valid JSON: {ex.Message}");
            return (default, errors);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._~-]{1,255}$")]
    private static partial Regex ClickIdPattern();
}
