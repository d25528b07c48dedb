using System.Net;
using System.Text.Json;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

/// <summary>Where signal events land in each stage, through the real app and database.</summary>
public sealed class StagedWritesTests : IClassFixture<AppFixture>
{
    private readonly TestDatabase _db;
    private readonly AppProcess _app;

    public StagedWritesTests(AppFixture fixture)
    {
        _db = fixture.Db;
        _app = fixture.App;
    }

    private async Task<(bool Legacy, bool New)> SidesOf(Guid id) => (
        await _db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM blog_attribution_events WHERE id = @id)", new { id }),
        await _db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM signal_events WHERE id = @id)", new { id }));

    private async Task<JsonElement> PostAsync(object body)
    {
        using var response = await _app.PostJsonAsync("/api/signal/events", Events.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private Task StageAsync(string stage, int percent = 100) => _db.SetStageAndWaitAsync(_app, KnownMigrations.SignalEvents, stage, percent);

    [Theory]
    [InlineData("off", true, false)]
    [InlineData("dual_write", true, true)]
    [InlineData("shadow", true, true)]
    [InlineData("live", true, true)]
    [InlineData("rampdown", true, true)]
    [InlineData("complete", false, true)]
    public async Task Article_events_land_on_the_sides_the_stage_writes(string stage, bool legacy, bool @new)
    {
        await StageAsync(stage);
        var e = Events.Signal();
        await PostAsync(e);
        Assert.Equal((legacy, @new), await SidesOf((Guid)e["id"]!));
    }

    [Theory]
    [InlineData("off")]
    [InlineData("dual_write")]
    public async Task Events_with_no_legacy_home_go_to_signal_events_only_whatever_the_stage(string stage)
    {
        await StageAsync(stage);
        var podcast = Events.Signal(contentType: "podcast");
        var distribution = Events.Signal();
        distribution["source_component"] = "distribution";
        await PostAsync(new[] { podcast, distribution });

        Assert.Equal((false, true), await SidesOf((Guid)podcast["id"]!));
        Assert.Equal((false, true), await SidesOf((Guid)distribution["id"]!));
    }

    [Fact]
    public async Task Both_sides_hold_the_same_row_with_the_journey_in_legacy_metadata()
    {
        await StageAsync("dual_write");
        var e = Events.Signal();
        await PostAsync(e);

        var row = (await _db.QueryAsync<(Guid Content, string Metadata, DateTime Created)>("""
            SELECT n.content_id, l.metadata::text, l.created_at
              FROM signal_events n JOIN blog_attribution_events l USING (id)
             WHERE id = @id AND n.content_id = l.blog_article_id AND n.created_at = l.created_at
               AND n.target_id = l.target_id AND n.event_type = l.event_type AND n.session_id = l.session_id
               AND l.metadata = n.metadata || jsonb_build_object('signal_id', n.signal_id)
            """, new { id = (Guid)e["id"]! })).Single();
        Assert.Equal((Guid)e["content_id"]!, row.Content);
    }

    [Fact]
    public async Task A_partial_rollout_dual_writes_exactly_the_journeys_in_its_bucket()
    {
        await StageAsync("dual_write", 40);
        var flag = new StageFlag(KnownMigrations.SignalEvents, Stage.DualWrite, 40, 0, DateTimeOffset.UtcNow);
        var events = Enumerable.Range(0, 60).Select(_ => Events.Signal()).ToList();
        await PostAsync(new { events });

        foreach (var e in events)
        {
            var inRollout = flag.StageFor((Guid)e["signal_id"]!) == Stage.DualWrite;
            Assert.Equal((true, inRollout), await SidesOf((Guid)e["id"]!));
        }
        // One journey never straddles: a second event of a journey follows the first.
        var journey = (Guid)events[0]["signal_id"]!;
        var again = Events.Signal(journey, "click");
        await PostAsync(again);
        Assert.Equal((await SidesOf((Guid)events[0]["id"]!)).New, (await SidesOf((Guid)again["id"]!)).New);
    }

    [Fact]
    public async Task The_same_id_sent_twice_is_stored_once_and_reported_as_a_duplicate()
    {
        await StageAsync("dual_write");
        var e = Events.Signal();
        var first = await PostAsync(e);
        var second = await PostAsync(new[] { e, Events.Signal() });

        Assert.Equal(1, first.GetProperty("accepted").GetInt32());
        Assert.Equal(1, second.GetProperty("accepted").GetInt32());
        Assert.Equal(1, second.GetProperty("duplicates").GetInt32());
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @id", new { id = (Guid)e["id"]! }));
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = @id", new { id = (Guid)e["id"]! }));
    }

    [Fact]
    public async Task The_legacy_endpoint_accepts_the_old_payload_into_the_same_pipeline()
    {
        await StageAsync("dual_write");
        var article = Guid.NewGuid();
        var id = Guid.NewGuid();
        using var response = await _app.PostJsonAsync("/api/blog/attribution/events", Events.Json(new
        {
            id,
            blog_article_id = article,
            session_id = "legacy-session-7",
            target_type = "listing",
            target_id = Guid.NewGuid(),
            event_type = "click",
            source_component = "listing_grid",
            metadata = new { position = 3 },
        }));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var journey = SignalFunctions.Ingest.JourneyKeys.FromSession("legacy-session-7");
        Assert.Equal(journey, await _db.ScalarAsync<Guid>(
            "SELECT signal_id FROM signal_events WHERE id = @id AND content_id = @article AND content_type = 'article'", new { id, article }));
        Assert.Equal(journey.ToString(), await _db.ScalarAsync<string>(
            "SELECT metadata->>'signal_id' FROM blog_attribution_events WHERE id = @id AND blog_article_id = @article", new { id, article }));
    }

    [Theory]
    [InlineData("off", "legacy")]
    [InlineData("shadow", "legacy")]
    [InlineData("live", "new")]
    [InlineData("complete", "new")]
    public async Task A_journey_path_is_read_in_time_order_from_the_side_the_stage_reads(string stage, string side)
    {
        await StageAsync(stage);
        var journey = Guid.NewGuid();
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var steps = new[] { "impression", "click", "save" }.Select((type, i) =>
        {
            var e = Events.Signal(journey, type);
            e["occurred_at"] = start.AddMinutes(i);
            return e;
        }).Reverse().ToList();
        var podcast = Events.Signal(journey, "convert", contentType: "podcast");
        podcast["occurred_at"] = start.AddMinutes(5);
        await PostAsync(steps.Append(podcast).ToList());

        var path = JsonDocument.Parse(await _app.Client.GetStringAsync($"/api/signal/{journey}/path")).RootElement;

        Assert.Equal(side, path.GetProperty("read_from").GetString());
        Assert.Equal(["impression", "click", "save", "convert"],
            path.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_type").GetString()!).ToList());
    }

    [Fact]
    public async Task A_path_for_something_that_is_not_a_uuid_is_a_400_naming_the_field()
    {
        using var response = await _app.Client.GetAsync("/api/signal/not-a-uuid/path");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("signal_id", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
