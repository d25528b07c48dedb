using System.Text;
using System.Text.Json;
using SignalFunctions.Ingest;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

public sealed class SignalEventParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static EventParseResult Parse(string json, PayloadShape shape = PayloadShape.Signal) =>
        SignalEventParser.Parse(Encoding.UTF8.GetBytes(json), shape, Now);

    private static string With(Dictionary<string, object?> e, string field, object? value)
    {
        e[field] = value;
        return Events.Json(e);
    }

    [Fact]
    public void One_event_an_array_and_an_events_wrapper_are_all_accepted()
    {
        Assert.Single(Parse(Events.Json(Events.Signal())).Events);
        Assert.Equal(3, Parse(Events.Json(new[] { Events.Signal(), Events.Signal(), Events.Signal() })).Events.Count);
        Assert.Equal(2, Parse(Events.Json(new { events = new[] { Events.Signal(), Events.Signal() } })).Events.Count);
    }

    [Fact]
    public void Fields_are_mapped_and_the_server_time_is_used_without_occurred_at()
    {
        var e = Events.Signal();
        var parsed = Assert.Single(Parse(Events.Json(e)).Events);

        Assert.Equal((Guid)e["id"]!, parsed.Id);
        Assert.Equal((Guid)e["signal_id"]!, parsed.SignalId);
        Assert.Equal((Guid)e["content_id"]!, parsed.ContentId);
        Assert.Equal("tutor", parsed.TargetType);
        Assert.Equal("""{"page":"/blog/a"}""", parsed.MetadataJson);
        Assert.Equal(Now, parsed.CreatedAt);
    }

    [Fact]
    public void Every_invalid_field_is_named_by_its_path_and_nothing_is_returned()
    {
        var good = Events.Signal();
        var bad = Events.Signal();
        bad["event_type"] = "purchase";
        bad["target_id"] = "not-a-uuid";
        bad["metadata"] = new[] { 1, 2 };
        bad["colour"] = "red";
        var result = Parse(Events.Json(new { events = new[] { good, bad } }));

        Assert.False(result.IsValid);
        Assert.Empty(result.Events);
        Assert.Equal(
            ["events[1].colour", "events[1].event_type", "events[1].metadata", "events[1].target_id"],
            result.Errors.ByField.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("impression", result.Errors.ByField["events[1].event_type"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{", "body")]
    [InlineData("42", "body")]
    [InlineData("[]", "body")]
    [InlineData("""{"events":[]}""", "events")]
    [InlineData("""{"events":{}}""", "events")]
    [InlineData("[1]", "[0]")]
    public void Malformed_or_empty_bodies_are_refused(string json, string field)
    {
        var result = Parse(json);
        Assert.False(result.IsValid);
        Assert.True(result.Errors.ByField.ContainsKey(field), string.Join(", ", result.Errors.ByField.Keys));
    }

    [Fact]
    public void More_than_a_hundred_events_are_refused_whole()
    {
        var result = Parse(Events.Json(Enumerable.Range(0, 101).Select(_ => Events.Signal())));
        Assert.Contains("at most 100", Assert.Single(result.Errors.ByField["body"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"session_id\":\"a\\u0000b\"", "session_id")]
    [InlineData("\"session_id\":\"\\ud800\"", "session_id")]
    [InlineData("\"metadata\":{\"k\\u0000\":1}", "metadata")]
    [InlineData("\"metadata\":{\"k\":\"\\udc00x\"}", "metadata")]
    [InlineData("\"session_id\":12", "session_id")]
    [InlineData("\"content_type\":\"Podcast!\"", "content_type")]
    [InlineData("\"occurred_at\":\"yesterday\"", "occurred_at")]
    [InlineData("\"occurred_at\":\"2027-01-01T00:00:00Z\"", "occurred_at")]
    [InlineData("\"occurred_at\":\"2020-01-01T00:00:00Z\"", "occurred_at")]
    public void Values_PostgreSQL_would_refuse_or_that_lie_about_time_are_400s(string replacement, string field)
    {
        var e = Events.Signal();
        e.Remove(field);
        var json = Events.Json(e);
        json = json[..^1] + "," + replacement + "}";

        var result = Parse(json);
        Assert.False(result.IsValid);
        Assert.True(result.Errors.ByField.ContainsKey(field), string.Join(", ", result.Errors.ByField.Keys));
    }

    [Fact]
    public void Metadata_deeper_than_eight_levels_is_refused_and_eight_is_accepted()
    {
        object Nest(int depth) => depth == 1 ? new Dictionary<string, object> { ["leaf"] = 1 } : new Dictionary<string, object> { ["n"] = Nest(depth - 1) };
        var ok = Events.Signal();
        ok["metadata"] = Nest(SignalEventParser.MaxMetadataDepth);
        var deep = Events.Signal();
        deep["metadata"] = Nest(SignalEventParser.MaxMetadataDepth + 1);

        Assert.True(Parse(Events.Json(ok)).IsValid);
        Assert.Contains("deeper", Parse(Events.Json(deep)).Errors.ByField["metadata"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Json_nested_past_the_parser_limit_is_a_400_not_a_crash()
    {
        var json = new string('[', 200) + new string(']', 200);
        Assert.True(Parse(json).Errors.ByField.ContainsKey("body"));
    }

    [Fact]
    public void Legacy_payload_maps_blog_article_id_and_derives_the_journey_from_the_session()
    {
        var legacy = Events.Signal();
        legacy.Remove("signal_id");
        legacy.Remove("content_type");
        legacy["blog_article_id"] = legacy["content_id"];
        legacy.Remove("content_id");
        legacy["session_id"] = "session-42";

        var parsed = Assert.Single(Parse(Events.Json(legacy), PayloadShape.LegacyAttribution).Events);

        Assert.Equal("article", parsed.ContentType);
        Assert.Equal((Guid)legacy["blog_article_id"]!, parsed.ContentId);
        Assert.Equal(JourneyKeys.FromSession("session-42"), parsed.SignalId);
    }

    [Fact]
    public void Legacy_payload_takes_the_journey_from_metadata_when_it_is_there()
    {
        var journey = Guid.NewGuid();
        var legacy = Events.Signal();
        legacy.Remove("signal_id");
        legacy.Remove("content_type");
        legacy["blog_article_id"] = legacy["content_id"];
        legacy.Remove("content_id");
        legacy["metadata"] = new Dictionary<string, object> { ["signal_id"] = journey.ToString() };

        Assert.Equal(journey, Assert.Single(Parse(Events.Json(legacy), PayloadShape.LegacyAttribution).Events).SignalId);
    }

    [Fact]
    public void The_new_payload_requires_a_signal_id_and_rejects_legacy_field_names()
    {
        var e = Events.Signal();
        e.Remove("signal_id");
        e["blog_article_id"] = Guid.NewGuid();
        var result = Parse(Events.Json(e));

        Assert.True(result.Errors.ByField.ContainsKey("signal_id"));
        Assert.True(result.Errors.ByField.ContainsKey("blog_article_id"));
    }

    [Fact]
    public void Sql_looking_text_is_just_text()
    {
        var text = "'; DROP TABLE signal_events; --";
        var parsed = Assert.Single(Parse(With(Events.Signal(), "session_id", text)).Events);
        Assert.Equal(text, parsed.SessionId);
    }

    [Fact]
    public void A_missing_id_gets_a_fresh_one_and_events_without_a_legacy_home_are_flagged()
    {
        var e = Events.Signal(contentType: "podcast");
        e.Remove("id");
        var parsed = Assert.Single(Parse(Events.Json(e)).Events);

        Assert.NotEqual(Guid.Empty, parsed.Id);
        Assert.False(parsed.HasLegacyHome);
        Assert.False(Assert.Single(Parse(With(Events.Signal(), "source_component", "distribution")).Events).HasLegacyHome);
        Assert.True(Assert.Single(Parse(Events.Json(Events.Signal())).Events).HasLegacyHome);
    }

    [Fact]
    public void Only_a_client_id_without_a_client_time_needs_the_first_seen_time()
    {
        var untimed = Events.Signal();
        var timed = Events.Signal();
        timed["occurred_at"] = Now.AddMinutes(-1).ToString("O");
        var serverId = Events.Signal();
        serverId.Remove("id");

        Assert.True(Assert.Single(Parse(Events.Json(untimed)).Events).NeedsFirstSeen);
        Assert.False(Assert.Single(Parse(Events.Json(timed)).Events).NeedsFirstSeen);
        Assert.False(Assert.Single(Parse(Events.Json(serverId)).Events).NeedsFirstSeen);
    }

    [Fact]
    public void Metadata_is_stored_as_checked_even_with_unusual_unicode()
    {
        var e = Events.Signal();
        e["metadata"] = new Dictionary<string, object> { ["emoji"] = "🎉", ["quote"] = "\"" };
        var parsed = Assert.Single(Parse(Events.Json(e)).Events);
        var roundTrip = JsonDocument.Parse(parsed.MetadataJson).RootElement;
        Assert.Equal("🎉", roundTrip.GetProperty("emoji").GetString());
    }
}
