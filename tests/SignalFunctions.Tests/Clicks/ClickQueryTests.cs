using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using SignalFunctions.Clicks;
using SignalFunctions.Ingest;

namespace SignalFunctions.Tests.Clicks;

public sealed class ClickQueryTests
{
    private static ClickQuery? Parse(string query, bool paged, out ValidationErrors errors)
    {
        errors = new ValidationErrors();
        return ClickQuery.Parse(new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)), paged, errors);
    }

    [Fact]
    public void The_filter_offers_the_types_ingest_records()
    {
        Assert.Equal(ClickRequests.ClickEventTypes.Order(StringComparer.Ordinal), ClickQuery.AllEventTypes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_cursor_comes_back_as_it_was_given_and_nothing_else_is_one()
    {
        var cursor = new ClickCursor(new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc).AddTicks(1_234_560), 4_321, Ascending: false);
        Assert.Equal(cursor, ClickCursor.Decode(cursor.Encode()));
        Assert.Equal(cursor with { Ascending = true, Id = long.MaxValue }, ClickCursor.Decode((cursor with { Ascending = true, Id = long.MaxValue }).Encode()));
        foreach (var text in new[] { "", "x", "ZA", cursor.Encode() + "A", "ZDE3OTY1OTg5OTEyNTEwMDAu", Convert.ToBase64String("d1.-2"u8.ToArray()), new string('A', 80) })
        {
            Assert.Null(ClickCursor.Decode(text));
        }
    }

    [Fact]
    public void Types_may_repeat_or_be_comma_separated_and_come_each_once_the_function_key_is_no_parameter_of_ours()
    {
        var query = Parse("event_type=generate_lead,phone_click&event_type=phone_click&code=key&last_activity_from=2026-03-01T10:00:00%2B02:00", paged: true, out var errors);

        Assert.True(errors.IsEmpty, string.Join("; ", errors.ByField.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        Assert.Equal(["phone_click", "generate_lead"], query!.EventTypes);
        Assert.Equal(new DateTime(2026, 3, 1, 8, 0, 0, DateTimeKind.Utc), query.From);
        Assert.Equal((false, ClickQuery.DefaultLimit, (ClickCursor?)null, (DateTime?)null), (query.Ascending, query.Limit, query.After, query.To));
    }
}
