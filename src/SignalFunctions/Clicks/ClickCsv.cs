using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;

namespace SignalFunctions.Clicks;

/// <summary>
/// The click export the plan asks for: the click's columns; <c>events</c>, its chronology as one
/// pipe-separated list of event and time, pair after pair
/// (<c>phone_click|2025-01-01 12:00:00|form_submit|2025-01-02 09:30:00</c>); and per event type
/// the time of its latest event (<c>phone_click_at</c>, …; empty when it has none). Times are UTC,
/// <c>yyyy-MM-dd HH:mm:ss</c>. RFC 4180 as CsvHelper writes it; a text cell a spreadsheet would
/// run as a formula (one starting with = + - @, tab or CR) is written with a ' in front.
/// </summary>
public static class ClickCsv
{
    public const string ContentType = "text/csv; charset=utf-8";

    private const string TimeFormat = "yyyy-MM-dd HH:mm:ss";

    /// <summary>A chronology timestamp as ingest and the rebuild write it (UTC), or with an offset; without a zone it is no time.</summary>
    private static readonly string[] StampFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz"];

    public static readonly IReadOnlyList<string> Header =
    [
        "click_id", "utm_medium", "utm_campaign", "utm_term", "utm_content", "qualified", "score",
        "date_created", "date_updated", "last_activity", "events_dropped", "events",
        .. ClickQuery.AllEventTypes.Select(t => $"{t}_at"),
    ];

    /// <summary>Event type → its column among the per-type ones.</summary>
    private static readonly Dictionary<string, int> TypeColumn =
        ClickQuery.AllEventTypes.Select((type, i) => (type, i)).ToDictionary(t => t.type, t => t.i, StringComparer.Ordinal);

    private static readonly CsvWriterOptions Options = CsvWriterOptions.Default with
    {
        Injection = CsvInjection.Escape,
        TrueValue = "true",
        FalseValue = "false",
    };

    /// <summary>
    /// Writes the header and then each row as it comes: a buffer's worth (64 KiB) at a
    /// time goes out, so memory stays the same whatever the number of rows.
    /// </summary>
    public static async Task WriteAsync(IAsyncEnumerable<ClickRow> rows, Stream body, CancellationToken ct)
    {
        await using var csv = CsvWriter.Create(body, Options, leaveOpen: true);
        csv.WriteHeader([.. Header]);
        var latest = new DateTimeOffset?[ClickQuery.AllEventTypes.Count];
        var events = new StringBuilder();
        await foreach (var row in rows.WithCancellation(ct))
        {
            Chronology(row.Events, events, latest);
            csv.WriteField(row.ClickId);
            csv.WriteField(row.UtmMedium);
            csv.WriteField(row.UtmCampaign);
            csv.WriteField(row.UtmTerm);
            csv.WriteField(row.UtmContent);
            csv.WriteField(row.Qualified);
            csv.WriteField(row.Score);
            csv.WriteField(row.DateCreated, TimeFormat);
            csv.WriteField(row.DateUpdated, TimeFormat);
            csv.WriteField(row.LastActivity, TimeFormat);
            csv.WriteField(row.EventsDropped);
            csv.WriteField(events.ToString());
            foreach (var at in latest)
            {
                csv.WriteField(at?.UtcDateTime, TimeFormat);
            }
            await csv.EndRecordAsync(ct);
        }
        await csv.FlushAsync(ct);
    }

    /// <summary>
    /// The events cell into <paramref name="events"/>, and each type's latest time into
    /// <paramref name="latest"/>. A timestamp that is not an ISO 8601 time with a zone is shown as
    /// it is stored and is no type's latest, as it is no click's last activity.
    /// </summary>
    private static void Chronology(string? json, StringBuilder events, DateTimeOffset?[] latest)
    {
        events.Clear();
        Array.Clear(latest);
        if (json is null)
        {
            return;
        }
        using var document = JsonDocument.Parse(json);
        foreach (var entry in document.RootElement.EnumerateArray())
        {
            var name = Text(entry, "event");
            var stamp = Text(entry, "timestamp");
            var at = DateTimeOffset.TryParseExact(stamp, StampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var parsed)
                ? parsed : (DateTimeOffset?)null;
            if (events.Length > 0)
            {
                events.Append('|');
            }
            events.Append(name).Append('|');
            if (at is { } time)
            {
                events.Append(time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture));
            }
            else
            {
                events.Append(stamp);
            }
            if (name is not null && TypeColumn.TryGetValue(name, out var type) && at is not null && (latest[type] is null || at > latest[type]))
            {
                latest[type] = at;
            }
        }
    }

    /// <summary>A property of an entry as text: a string's value, anything else as its JSON; null when absent.</summary>
    private static string? Text(JsonElement entry, string property) =>
        entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty(property, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;
}
