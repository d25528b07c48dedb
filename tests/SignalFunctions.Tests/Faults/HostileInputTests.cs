using System.Net;
using System.Text;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Faults;

/// <summary>
/// Hostile and broken input against the real app: each request gets its precise answer, and the
/// database fingerprint (every row of every table ingest can touch) is unchanged afterwards. Both
/// migrations are in dual_write, so a leak to either side would show.
/// </summary>
public sealed class HostileInputTests(HostileInputTests.App fixture) : IClassFixture<HostileInputTests.App>
{
    public const string AllowedOrigin = "https://blog.example.com";
    public const string WebhookSecret = "hostile-input-webhook-secret";
    public const string KnownClick = "click-hostile-1";

    public sealed class App : IAsyncLifetime
    {
        public TestDatabase Db { get; private set; } = null!;
        public AppProcess Process { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Db = await TestDatabase.CreateAsync();
            await Db.SetStageAsync("signal-events", "dual_write");
            await Db.SetStageAsync("click-events", "dual_write");
            Process = await AppProcess.StartAsync(Db.ConnectionString, new Dictionary<string, string>
            {
                ["Ingest__AllowedOrigins__0"] = AllowedOrigin,
                ["Clicks__WebhookSecret"] = WebhookSecret,
                // Rate limiting has its own test; here every request must reach validation.
                ["Ingest__RateLimitPerSecond"] = "0",
            });
            using var click = await Process.PostJsonAsync("/api/clicks", $$"""{"click_id":"{{KnownClick}}","platform":"google"}""");
            Assert.Equal(HttpStatusCode.Accepted, click.StatusCode);
        }

        public async Task DisposeAsync()
        {
            await Process.DisposeAsync();
            await Db.DisposeAsync();
        }
    }

    private const string SignalEventsPath = "/api/signal/events";
    private TestDatabase Db => fixture.Db;
    private AppProcess Api => fixture.Process;

    /// <summary>A valid event as JSON with one field's value replaced by raw JSON text (which may be invalid on purpose).</summary>
    private static string EventWith(string field, string rawValue)
    {
        var e = Events.Signal();
        e[field] = "__RAW__";
        return Events.Json(e).Replace("\"__RAW__\"", rawValue, StringComparison.Ordinal);
    }

    private static string ValidEvent() => Events.Json(Events.Signal());

    private Task<HttpResponseMessage> Rejected(HttpStatusCode status, string body, string path = SignalEventsPath, string? contentType = "application/json", string? origin = null) =>
        Db.AssertWritesNothingAsync(status, () => Api.SendAsync(FaultKit.Post(path, body, contentType, origin)));

    private async Task AssertInvalid(string body, string[] fields, string path = SignalEventsPath)
    {
        using var response = await Rejected(HttpStatusCode.BadRequest, body, path);
        Assert.Equal(fields, await response.ErrorFieldsAsync());
    }

    [Theory]
    [InlineData("{\"id\":")]
    [InlineData("[{\"event_type\":\"click\"}")]
    [InlineData("{'event_type':'click'}")]
    [InlineData("{\"event_type\":\"click\",}")]
    [InlineData("{\"a\":1}}")]
    [InlineData("nul")]
    [InlineData("   ")]
    [InlineData("{\"session_id\":\"line\nbreak\"}")]
    public Task Malformed_json_is_400_on_body_and_writes_nothing(string body) => AssertInvalid(body, ["body"]);

    [Theory]
    [InlineData("\"an event\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("{\"events\":{}}")]
    public async Task Json_that_is_not_an_event_is_400_and_writes_nothing(string body)
    {
        using var response = await Rejected(HttpStatusCode.BadRequest, body);
        Assert.Single(await response.ErrorFieldsAsync());
    }

    [Theory]
    [InlineData("id", "123")]
    [InlineData("signal_id", "true")]
    [InlineData("content_id", "{}")]
    [InlineData("target_id", "[\"0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20\"]")]
    [InlineData("user_id", "false")]
    [InlineData("event_type", "5")]
    [InlineData("target_type", "[]")]
    [InlineData("source_component", "{\"a\":1}")]
    [InlineData("content_type", "7")]
    [InlineData("session_id", "12")]
    [InlineData("metadata", "\"page=/blog/a\"")]
    [InlineData("metadata", "[1,2]")]
    [InlineData("occurred_at", "1700000000")]
    public Task Wrong_type_is_400_naming_the_field(string field, string value) => AssertInvalid(EventWith(field, value), [field]);

    [Theory]
    [InlineData("event_type", "\"purchase\"")]
    [InlineData("event_type", "\"Click\"")]
    [InlineData("target_type", "\"tutor \"")]
    [InlineData("source_component", "\"footer\"")]
    [InlineData("content_type", "\"Article!\"")]
    [InlineData("event_type", "\"\"")]
    public Task Unknown_enum_value_is_400_naming_the_field(string field, string value) => AssertInvalid(EventWith(field, value), [field]);

    [Fact]
    public async Task Required_fields_missing_are_each_named()
    {
        await AssertInvalid("{}", ["content_id", "event_type", "signal_id", "source_component", "target_id", "target_type"]);
    }

    [Fact]
    public async Task Unknown_field_is_400_not_silently_dropped()
    {
        await AssertInvalid(EventWith("evnt_type", "\"click\""), ["evnt_type"]);
        // The legacy payload has its own field list: the new name is unknown there.
        var legacy = """{"blog_article_id":"0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20","content_id":"0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a21","target_type":"tutor","target_id":"0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a22","event_type":"click","source_component":"tutor_embed"}""";
        await AssertInvalid(legacy, ["content_id"], "/api/blog/attribution/events");
    }

    [Theory]
    [InlineData("id", "not-a-uuid")]
    [InlineData("signal_id", "0b6f2a4e5c1d4f0e9a573d9c8e7b1a20")]
    [InlineData("content_id", "{0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20}")]
    [InlineData("target_id", "0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a2g")]
    [InlineData("user_id", "")]
    [InlineData("id", "0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20' OR '1'='1")]
    public Task Invalid_uuid_is_400_naming_the_field(string field, string value) =>
        AssertInvalid(EventWith(field, Events.Json(value)), [field]);

    private static string MegabyteEvent()
    {
        // Valid in every way but its size: only the limit can refuse it.
        var e = Events.Signal();
        e["metadata"] = new Dictionary<string, object> { ["pad"] = new string('x', 1_000_000) };
        return Events.Json(e);
    }

    [Fact]
    public async Task One_megabyte_body_with_content_length_is_413()
    {
        var body = Encoding.UTF8.GetBytes(MegabyteEvent());
        using var response = await Db.AssertWritesNothingAsync(HttpStatusCode.RequestEntityTooLarge, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, SignalEventsPath) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            Assert.Equal(body.Length, request.Content.Headers.ContentLength);
            return Api.SendAsync(request);
        });
        await response.ProblemAsync();
    }

    /// <summary>No Content-Length: the body arrives chunked and is cut off one byte past the limit.</summary>
    private sealed class ChunkedContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += 8192)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(8192, body.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task One_megabyte_chunked_body_is_413()
    {
        var body = Encoding.UTF8.GetBytes(MegabyteEvent());
        using var response = await Db.AssertWritesNothingAsync(HttpStatusCode.RequestEntityTooLarge, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, SignalEventsPath) { Content = new ChunkedContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            return Api.SendAsync(request);
        });
        await response.ProblemAsync();
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("text/html")]
    [InlineData("application/xml")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("not a media type")]
    [InlineData(null)]
    public async Task Other_content_type_is_415(string? contentType)
    {
        using var response = await Rejected(HttpStatusCode.UnsupportedMediaType, ValidEvent(), contentType: contentType);
        await response.ProblemAsync();
    }

    [Fact]
    public async Task Metadata_nested_deeper_than_8_levels_is_400()
    {
        static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth - 1)) + "{}" + new string('}', depth - 1);

        await AssertInvalid(EventWith("metadata", Nested(9)), ["metadata"]);
        // Far past the parser's own depth limit: refused as JSON, without a stack overflow.
        await AssertInvalid(EventWith("metadata", Nested(5000)), ["body"]);
        await AssertInvalid(EventWith("metadata", "{\"a\":" + new string('[', 10_000) + new string(']', 10_000) + "}"), ["body"]);

        // Depth 8 is the limit, not past it.
        using var accepted = await Api.PostJsonAsync(SignalEventsPath, EventWith("metadata", Nested(8)));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [Fact]
    public async Task Sql_looking_strings_are_stored_verbatim_on_both_sides()
    {
        const string session = "'; DROP TABLE signal_events; --";
        var metadata = new Dictionary<string, object>
        {
            ["q"] = "1' OR '1'='1",
            ["'); DELETE FROM blog_attribution_events; --"] = "x\"; SELECT pg_sleep(10); --",
            ["$$"] = "$$ LANGUAGE plpgsql; \\x27 \\\\",
        };
        var e = Events.Signal();
        e["session_id"] = session;
        e["metadata"] = metadata;
        var id = (Guid)e["id"]!;

        using var response = await Api.PostJsonAsync(SignalEventsPath, Events.Json(e));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var expectedMetadata = Events.Json(metadata);
        Assert.Equal(session, await Db.ScalarAsync<string>("SELECT session_id FROM signal_events WHERE id = @id", new { id }));
        Assert.Equal(session, await Db.ScalarAsync<string>("SELECT session_id FROM blog_attribution_events WHERE id = @id", new { id }));
        Assert.True(await Db.ScalarAsync<bool>("SELECT metadata = @expectedMetadata::jsonb FROM signal_events WHERE id = @id", new { id, expectedMetadata }));
        Assert.True(await Db.ScalarAsync<bool>(
            "SELECT metadata - 'signal_id' = @expectedMetadata::jsonb FROM blog_attribution_events WHERE id = @id", new { id, expectedMetadata }));
        Assert.Equal(2L, await Db.ScalarAsync<long>(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('signal_events', 'blog_attribution_events')"));
    }

    [Theory]
    [InlineData("session_id", "\"a\\u0000b\"")]
    [InlineData("event_type", "\"click\\u0000\"")]
    [InlineData("id", "\"\\u0000\"")]
    [InlineData("metadata", "{\"page\":\"/blog\\u0000/a\"}")]
    [InlineData("metadata", "{\"pa\\u0000ge\":\"/blog/a\"}")]
    [InlineData("metadata", "{\"list\":[1,{\"deep\\u0000\":2}]}")]
    public Task Nul_character_in_a_string_or_key_is_400(string field, string value) => AssertInvalid(EventWith(field, value), [field]);

    [Theory]
    [InlineData("session_id", "\"\\ud800\"")]
    [InlineData("session_id", "\"a\\udc00b\"")]
    [InlineData("event_type", "\"\\ud83d\"")]
    [InlineData("id", "\"\\ud800\"")]
    [InlineData("occurred_at", "\"2026-01-01T00:00:00Z\\ud800\"")]
    [InlineData("metadata", "{\"page\":\"\\udfff\"}")]
    [InlineData("metadata", "{\"\\ud800\":\"/blog/a\"}")]
    [InlineData("metadata", "{\"a\":[\"\\ud800\\ud800\"]}")]
    public Task Lone_surrogate_escape_is_400(string field, string value) => AssertInvalid(EventWith(field, value), [field]);

    [Fact]
    public async Task Unknown_field_whose_name_is_invalid_unicode_is_400()
    {
        var body = ValidEvent()[..^1] + ",\"\\ud800\":1}";
        using var response = await Rejected(HttpStatusCode.BadRequest, body);
        Assert.Single(await response.ErrorFieldsAsync());
        var nul = ValidEvent()[..^1] + ",\"a\\u0000\":1}";
        using var second = await Rejected(HttpStatusCode.BadRequest, nul);
        Assert.Single(await second.ErrorFieldsAsync());
    }

    [Fact]
    public async Task Surrogate_pairs_are_valid_text_and_stored()
    {
        var e = Events.Signal();
        e["session_id"] = "s-\U0001F600";
        using var response = await Api.PostJsonAsync(SignalEventsPath, Events.Json(e));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("s-\U0001F600", await Db.ScalarAsync<string>("SELECT session_id FROM signal_events WHERE id = @id", new { id = (Guid)e["id"]! }));
    }

    [Theory]
    [InlineData("1e131072")]
    [InlineData("-1e131072")]
    [InlineData("1e-16384")]
    [InlineData("123e-999999")]
    [InlineData("0e-99999")]
    public Task Metadata_number_postgresql_cannot_store_is_400_not_500(string number) =>
        AssertInvalid(EventWith("metadata", $"{{\"n\":[1,{number}]}}"), ["metadata"]);

    [Fact]
    public async Task Metadata_number_with_more_decimals_than_postgresql_keeps_is_400_not_500()
    {
        await AssertInvalid(EventWith("metadata", "{\"n\":1." + new string('0', 20_000) + "}"), ["metadata"]);
    }

    [Fact]
    public async Task Metadata_numbers_javascript_can_produce_are_stored_exactly()
    {
        const string numbers = "[5e-324,-1.7976931348623157e+308,12345678901234567890,0.1,-0]";
        var body = EventWith("metadata", $"{{\"n\":{numbers}}}");
        using var response = await Api.PostJsonAsync(SignalEventsPath, body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
        Assert.True(await Db.ScalarAsync<bool>("SELECT metadata->'n' = @numbers::jsonb FROM signal_events WHERE id = @id", new { id, numbers }));
    }

    [Fact]
    public async Task More_than_100_events_is_400_and_100_are_accepted()
    {
        var many = Enumerable.Range(0, 101).Select(_ => Events.Signal()).ToList();
        var asArray = Events.Json(many);
        Assert.True(asArray.Length < 64 * 1024, "the batch must be refused for its count, not its size");
        await AssertInvalid(asArray, ["body"]);
        await AssertInvalid(Events.Json(new { events = many }), ["events"]);

        using var hundred = await Api.PostJsonAsync(SignalEventsPath, Events.Json(many.Take(100)));
        Assert.Equal(HttpStatusCode.Accepted, hundred.StatusCode);
        Assert.Equal(100, (await hundred.JsonAsync()).GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task Empty_body_and_empty_batches_are_400()
    {
        await AssertInvalid("", ["body"]);
        await AssertInvalid("[]", ["body"]);
        await AssertInvalid("{\"events\":[]}", ["events"]);

        // Chunked and empty: no Content-Length at all.
        using var response = await Db.AssertWritesNothingAsync(HttpStatusCode.BadRequest, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, SignalEventsPath) { Content = new ChunkedContent([]) };
            request.Content.Headers.ContentType = new("application/json");
            return Api.SendAsync(request);
        });
        Assert.Equal(["body"], await response.ErrorFieldsAsync());
    }

    [Fact]
    public async Task One_bad_event_in_a_batch_rejects_the_whole_batch()
    {
        var batch = Enumerable.Range(0, 5).Select(_ => Events.Signal()).ToList();
        batch[3]["event_type"] = "purchase";

        await AssertInvalid(Events.Json(batch), ["[3].event_type"]);
        await AssertInvalid(Events.Json(new { events = batch }), ["events[3].event_type"]);
        foreach (var e in batch)
        {
            Assert.Equal(0L, await Db.ScalarAsync<long>(
                "SELECT (SELECT count(*) FROM signal_events WHERE id = @id) + (SELECT count(*) FROM blog_attribution_events WHERE id = @id)",
                new { id = (Guid)e["id"]! }));
        }
    }

    [Fact]
    public async Task Occurred_at_far_in_the_future_or_past_or_without_zone_is_400()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var when in new[]
                 {
                     "2999-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
                     now.AddHours(1).ToString("O"), now.AddDays(-31).ToString("O"),
                     "2026-13-01T00:00:00Z", "yesterday", "",
                 })
        {
            await AssertInvalid(EventWith("occurred_at", Events.Json(when)), ["occurred_at"]);
        }
    }

    [Fact]
    public async Task Duplicate_id_is_stored_once_and_reported_as_duplicate()
    {
        var e = Events.Signal();
        var id = (Guid)e["id"]!;
        using var first = await Api.PostJsonAsync(SignalEventsPath, Events.Json(e));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal((1, 0), Receipt(await first.JsonAsync()));

        // Replayed (e.g. a retry after a lost answer), with other content: the first write stands.
        e["event_type"] = "save";
        using var second = await Db.AssertWritesNothingAsync(HttpStatusCode.Accepted, () => Api.PostJsonAsync(SignalEventsPath, Events.Json(e)));
        Assert.Equal((0, 1), Receipt(await second.JsonAsync()));
        Assert.Equal("impression", await Db.ScalarAsync<string>("SELECT string_agg(event_type, ',') FROM signal_events WHERE id = @id", new { id }));
        Assert.Equal("impression", await Db.ScalarAsync<string>("SELECT string_agg(event_type, ',') FROM blog_attribution_events WHERE id = @id", new { id }));

        // The same id twice in one batch.
        var twice = Events.Signal();
        using var batch = await Api.PostJsonAsync(SignalEventsPath, Events.Json(new[] { twice, twice }));
        Assert.Equal(HttpStatusCode.Accepted, batch.StatusCode);
        Assert.Equal((1, 1), Receipt(await batch.JsonAsync()));
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @id", new { id = (Guid)twice["id"]! }));
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = @id", new { id = (Guid)twice["id"]! }));

        static (int, int) Receipt(System.Text.Json.JsonElement receipt) =>
            (receipt.GetProperty("accepted").GetInt32(), receipt.GetProperty("duplicates").GetInt32());
    }

    private static HttpRequestMessage Webhook(string body, string? signature)
    {
        var request = FaultKit.Post("/api/clicks/webhook", body);
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Signature", signature);
        }
        return request;
    }

    private static string Sign(string body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    [Fact]
    public async Task Webhook_without_a_valid_signature_is_401_and_writes_nothing()
    {
        var body = $$"""{"click_id":"{{KnownClick}}","qualified":true,"score":90}""";
        var other = $$"""{"click_id":"{{KnownClick}}","qualified":true,"score":99}""";
        var forged = new[]
        {
            null,                                   // missing
            "",                                     // empty
            Sign(body, "not-the-secret"),           // forged with another key
            Sign(other, WebhookSecret),             // a real signature, of another body
            Sign(body, WebhookSecret)[7..],         // no "sha256=" prefix
            "sha1=" + Sign(body, WebhookSecret)[7..],
            Sign(body, WebhookSecret)[..^2],        // truncated
            "sha256=zz",
        };
        foreach (var signature in forged)
        {
            using var response = await Db.AssertWritesNothingAsync(HttpStatusCode.Unauthorized, () => Api.SendAsync(Webhook(body, signature)));
            await response.ProblemAsync();
        }
        // A tampered body under the signature of the original.
        using (var tampered = await Db.AssertWritesNothingAsync(HttpStatusCode.Unauthorized, () => Api.SendAsync(Webhook(other, Sign(body, WebhookSecret)))))
        {
            await tampered.ProblemAsync();
        }

        // The same request, correctly signed, is what writes: the 401s were the signature's doing.
        using var signed = await Api.SendAsync(Webhook(body, Sign(body, WebhookSecret)));
        Assert.Equal(HttpStatusCode.Accepted, signed.StatusCode);
        Assert.Equal(90, await Db.ScalarAsync<int>("SELECT score FROM cuft_click_tracking WHERE click_id = @KnownClick", new { KnownClick }));
    }

    [Fact]
    public async Task Hostile_click_input_is_refused_precisely()
    {
        await AssertInvalid("""{"event_type":"purchase"}""", ["event_type"], $"/api/clicks/{KnownClick}/events");
        await AssertInvalid("""{"event_type":"phone_click","extra":1}""", ["extra"], $"/api/clicks/{KnownClick}/events");
        await AssertInvalid("""{"event_type":"phone_click"}""", ["click_id"], "/api/clicks/bad%27id%3B/events");
        await AssertInvalid("""{"click_id":"a b"}""", ["click_id"], "/api/clicks");
        await AssertInvalid("""{"click_id":"\ud800"}""", ["click_id"], "/api/clicks");
        await AssertInvalid("""{"click_id":"ok","utm_source":"\u0000"}""", ["utm_source"], "/api/clicks");
        await AssertInvalid($$"""{"click_id":"ok","platform":"{{new string('p', 101)}}"}""", ["platform"], "/api/clicks");
        using var unknown = await Rejected(HttpStatusCode.NotFound, """{"event_type":"phone_click"}""", "/api/clicks/no-such-click/events");
        await unknown.ProblemAsync();
    }

    [Fact]
    public async Task Sql_looking_utm_values_are_stored_verbatim()
    {
        const string source = "' OR 1=1; UPDATE cuft_click_tracking SET score = 100; --";
        var body = Events.Json(new Dictionary<string, string> { ["click_id"] = "click-sql-1", ["utm_source"] = source, ["utm_campaign"] = "\"); DROP TABLE x; --" });
        using var response = await Api.PostJsonAsync("/api/clicks", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(source, await Db.ScalarAsync<string>("SELECT utm_source FROM cuft_click_tracking WHERE click_id = 'click-sql-1'"));
        Assert.Equal("\"); DROP TABLE x; --", await Db.ScalarAsync<string>("SELECT utm_campaign FROM cuft_click_tracking WHERE click_id = 'click-sql-1'"));
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking WHERE score = 100"));
    }

    [Theory]
    [InlineData("/api/signal/events")]
    [InlineData("/api/blog/attribution/events")]
    [InlineData("/api/clicks")]
    [InlineData("/api/clicks/" + KnownClick + "/events")]
    public async Task Disallowed_origin_is_403_and_writes_nothing(string path)
    {
        var body = path switch
        {
            "/api/signal/events" => ValidEvent(),
            "/api/blog/attribution/events" => """{"blog_article_id":"0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20","target_type":"tutor","target_id":"0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a22","event_type":"click","source_component":"tutor_embed"}""",
            "/api/clicks" => """{"click_id":"click-from-evil"}""",
            _ => """{"event_type":"generate_lead"}""",
        };
        foreach (var origin in new[] { "https://evil.example", "https://blog.example.com.evil.example", "http://blog.example.com", "null" })
        {
            using var response = await Rejected(HttpStatusCode.Forbidden, body, path, "text/plain", origin);
            await response.ProblemAsync();
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }
        // From the allowed origin the same request writes: the 403s were the origin's doing.
        using var allowed = await Api.SendAsync(FaultKit.Post(path, body, "text/plain", AllowedOrigin));
        Assert.Equal(HttpStatusCode.Accepted, allowed.StatusCode);
    }

    [Fact]
    public async Task Preflight_from_an_allowed_origin_is_answered_and_from_another_is_not()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, SignalEventsPath);
        preflight.Headers.Add("Origin", AllowedOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var response = await Api.Client.SendAsync(preflight);

        Assert.True(response.IsSuccessStatusCode, $"preflight answered {(int)response.StatusCode}");
        Assert.Equal(AllowedOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("POST", string.Join(',', response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Contains("content-type", string.Join(',', response.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);

        using var evil = new HttpRequestMessage(HttpMethod.Options, SignalEventsPath);
        evil.Headers.Add("Origin", "https://evil.example");
        evil.Headers.Add("Access-Control-Request-Method", "POST");
        using var refused = await Api.Client.SendAsync(evil);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task The_signal_path_grants_no_cors_not_even_to_an_allowed_origin()
    {
        // It returns user ids, session ids and metadata: a page on another origin must not read it.
        var path = $"/api/signal/{Guid.NewGuid()}/path";
        using var preflight = new HttpRequestMessage(HttpMethod.Options, path);
        preflight.Headers.Add("Origin", AllowedOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        using var refused = await Api.Client.SendAsync(preflight);
        Assert.False(refused.IsSuccessStatusCode, $"preflight answered {(int)refused.StatusCode}");
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));

        using var get = new HttpRequestMessage(HttpMethod.Get, path);
        get.Headers.Add("Origin", AllowedOrigin);
        using var answer = await Api.Client.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Error_answers_to_an_allowed_origin_carry_cors_headers()
    {
        // Without the header the page could not even read why its request failed.
        var cases = new (HttpStatusCode Status, string Body, string? ContentType)[]
        {
            (HttpStatusCode.BadRequest, "{\"id\":", "text/plain"),
            (HttpStatusCode.BadRequest, EventWith("event_type", "\"purchase\""), "text/plain"),
            (HttpStatusCode.UnsupportedMediaType, ValidEvent(), "application/xml"),
            (HttpStatusCode.RequestEntityTooLarge, MegabyteEvent(), "text/plain"),
        };
        foreach (var (status, body, contentType) in cases)
        {
            using var response = await Rejected(status, body, contentType: contentType, origin: AllowedOrigin);
            Assert.Equal(AllowedOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            await response.ProblemAsync();
        }
    }
}
