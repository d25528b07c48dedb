using System.Globalization;
using Microsoft.Extensions.Primitives;
using SignalFunctions.Ingest;

namespace SignalFunctions.Clicks;

/// <summary>
/// Which clicks the click table and the CSV export select, in which order, from the query string:
/// <c>event_type</c> (any of them), <c>last_activity_from</c> (inclusive) and <c>last_activity_to</c>
/// (exclusive), <c>sort</c>; for a page also <c>after</c> (the previous page's cursor) and <c>limit</c>.
/// Every invalid or unknown parameter is reported by name; <c>code</c>, the function key, is the host's.
/// </summary>
public sealed record ClickQuery(IReadOnlyList<string> EventTypes, DateTime? From, DateTime? To, bool Ascending, ClickCursor? After, int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;
    public const string NewestFirst = "last_activity_desc";
    public const string OldestFirst = "last_activity_asc";

    /// <summary>The types a click's chronology records (and the filter offers), in the CSV's column order.</summary>
    public static readonly IReadOnlyList<string> AllEventTypes = ["phone_click", "email_click", "form_submit", "generate_lead"];

    private static readonly string[] Filters = ["event_type", "last_activity_from", "last_activity_to", "sort"];
    private static readonly string[] Paging = ["after", "limit"];

    private static readonly string[] TimeFormats = ["yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    /// <summary>The query, or null with every problem in <paramref name="errors"/>.</summary>
    /// <param name="paged">Whether <c>after</c> and <c>limit</c> are parameters here (the table) or not (the export: every row).</param>
    public static ClickQuery? Parse(IQueryCollection query, bool paged, ValidationErrors errors)
    {
        string[] known = paged ? [.. Filters, .. Paging] : Filters;
        foreach (var name in query.Keys.Where(k => k != "code" && !known.Contains(k)).Order(StringComparer.Ordinal))
        {
            errors.Add(ValidationErrors.Shown(name), $"is not a parameter here; use {string.Join(", ", known)}");
        }

        var types = ReadTypes(query["event_type"], errors);
        var from = ReadTime(query, "last_activity_from", errors);
        var to = ReadTime(query, "last_activity_to", errors);
        if (from is not null && to is not null && to <= from)
        {
            errors.Add("last_activity_to", "must be after last_activity_from: the range includes its start and excludes its end");
        }
        var sort = Single(query, "sort", errors) ?? NewestFirst;
        if (sort is not (NewestFirst or OldestFirst))
        {
            errors.Add("sort", $"must be {NewestFirst} (the default) or {OldestFirst}; got '{ValidationErrors.Shown(sort)}'");
        }
        var ascending = sort == OldestFirst;

        ClickCursor? after = null;
        if (paged && Single(query, "after", errors) is { } cursor)
        {
            after = ClickCursor.Decode(cursor);
            if (after is null)
            {
                errors.Add("after", "is not a cursor this API gave: pass the 'next' of the previous page as it is");
            }
            else if (after.Value.Ascending != ascending)
            {
                errors.Add("after", $"continues a page sorted {(after.Value.Ascending ? OldestFirst : NewestFirst)}: keep the sort while paging, or start again without 'after'");
            }
        }
        var limit = DefaultLimit;
        if (paged && Single(query, "limit", errors) is { } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors.Add("limit", $"must be a whole number from 1 to {MaxLimit} (default {DefaultLimit}); got '{ValidationErrors.Shown(text)}'");
        }
        return errors.IsEmpty ? new ClickQuery(types, from, to, ascending, after, limit) : null;
    }

    /// <summary>Repeated or comma-separated; each once, in the CSV's order.</summary>
    private static List<string> ReadTypes(StringValues values, ValidationErrors errors)
    {
        var given = values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries)).ToList();
        foreach (var unknown in given.Where(t => !AllEventTypes.Contains(t)).Distinct())
        {
            errors.Add("event_type", $"must be one of {string.Join(", ", AllEventTypes)} (repeat it, or separate them with commas, for any of several); got '{ValidationErrors.Shown(unknown)}'");
        }
        return [.. AllEventTypes.Where(given.Contains)];
    }

    /// <summary>A UTC day (yyyy-MM-dd, from its midnight) or an ISO 8601 date-time (UTC unless it gives an offset).</summary>
    private static DateTime? ReadTime(IQueryCollection query, string name, ValidationErrors errors)
    {
        if (Single(query, name, errors) is not { } text)
        {
            return null;
        }
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        }
        if (DateTimeOffset.TryParseExact(text, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.UtcDateTime;
        }
        // An offset's '+' arrives as a space unless the URL encodes it.
        var hint = text.Contains(' ', StringComparison.Ordinal) ? " (send a '+' in a URL as %2B)" : "";
        errors.Add(name, $"must be a day (2025-03-01) or an ISO 8601 date-time (2025-03-01T14:30:00Z, 2025-03-01T14:30:00+02:00){hint}; got '{ValidationErrors.Shown(text)}'");
        return null;
    }

    /// <summary>The parameter's one value; null when absent, with an error when given more than once or empty.</summary>
    private static string? Single(IQueryCollection query, string name, ValidationErrors errors)
    {
        var values = query[name];
        if (values.Count == 0)
        {
            return null;
        }
        if (values.Count > 1)
        {
            errors.Add(name, "is given more than once; give it once");
            return null;
        }
        if (string.IsNullOrEmpty(values[0]))
        {
            errors.Add(name, "is empty; leave it out for the default");
            return null;
        }
        return values[0];
    }
}
