using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Clicks;

/// <summary>cuft_click_tracking.last_activity_at, which the click table sorts and filters on, kept by a trigger whoever writes.</summary>
public sealed class LastActivityTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private Task<DateTime> LastActivityAsync(string clickId) =>
        _db.ScalarAsync<DateTime>("SELECT last_activity_at FROM cuft_click_tracking WHERE click_id = @clickId", new { clickId });

    [Fact]
    public async Task It_is_the_newest_event_and_a_timestamp_that_is_no_time_counts_for_nothing_and_fails_no_write()
    {
        await _db.ExecuteAsync("""
            INSERT INTO cuft_click_tracking (click_id, date_updated, events) VALUES ('c1', '2026-01-01T00:00:00Z', '[
              {"event": "phone_click", "timestamp": "2026-01-02T10:00:00.000Z"},
              {"event": "form_submit", "timestamp": "2026-01-03T10:00:00+02:00"},
              {"event": "email_click", "timestamp": "2026-01-01T23:00:00.500Z"},
              {"event": "phone_click", "timestamp": "2026-02-30T10:00:00.000Z"},
              {"event": "phone_click", "timestamp": "2026-01-09T10:00:00+25:00"},
              {"event": "phone_click", "timestamp": "2026-01-09T10:00:00"},
              {"event": "phone_click", "timestamp": "next week"},
              {"event": "phone_click", "timestamp": 1767225600},
              {"event": "phone_click"},
              "not an entry"
            ]')
            """);

        // Written in front by the rebuild, the newest entry need not be the last.
        Assert.Equal(new DateTime(2026, 1, 3, 8, 0, 0, DateTimeKind.Utc), await LastActivityAsync("c1"));
    }

    [Fact]
    public async Task Without_events_it_is_date_updated_and_every_later_write_keeps_it_right()
    {
        await _db.ExecuteAsync("""
            INSERT INTO cuft_click_tracking (click_id, date_updated) VALUES ('legacy', '2026-01-01T00:00:00Z');
            INSERT INTO cuft_click_tracking (click_id, date_updated, events) VALUES ('empty', '2026-01-02T00:00:00Z', '[]');
            """);
        Assert.Equal(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), await LastActivityAsync("legacy"));
        Assert.Equal(new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc), await LastActivityAsync("empty"));

        // An event, as ingest appends it.
        await _db.ExecuteAsync("""
            UPDATE cuft_click_tracking SET events = events || '[{"event": "phone_click", "timestamp": "2026-01-05T09:30:00.000Z"}]', date_updated = '2026-01-05T09:30:01Z'
             WHERE click_id = 'empty'
            """);
        Assert.Equal(new DateTime(2026, 1, 5, 9, 30, 0, DateTimeKind.Utc), await LastActivityAsync("empty"));
        // The row touched without a new event (a re-recorded click): the newest event still decides.
        await _db.ExecuteAsync("UPDATE cuft_click_tracking SET date_updated = '2026-02-01T00:00:00Z', utm_campaign = 'again' WHERE click_id = 'empty'");
        Assert.Equal(new DateTime(2026, 1, 5, 9, 30, 0, DateTimeKind.Utc), await LastActivityAsync("empty"));
        // Touched without events at all: date_updated.
        await _db.ExecuteAsync("UPDATE cuft_click_tracking SET date_updated = '2026-02-01T00:00:00Z' WHERE click_id = 'legacy'");
        Assert.Equal(new DateTime(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc), await LastActivityAsync("legacy"));
        // Nobody can set it to anything else.
        await _db.ExecuteAsync("UPDATE cuft_click_tracking SET last_activity_at = '2000-01-01T00:00:00Z'");
        Assert.Equal(new DateTime(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc), await LastActivityAsync("legacy"));
    }

    [Fact]
    public async Task The_click_events_rebuild_gives_legacy_clicks_the_time_of_the_entries_it_derives()
    {
        await _db.ExecuteAsync("""
            INSERT INTO cuft_click_tracking (click_id, utm_source, qualified, score, date_created, date_updated)
            VALUES ('lead', 'google', true, 80, '2026-01-01T00:00:00Z', '2026-01-04T00:00:00Z')
            """);

        Assert.Equal("complete", (await new Engine(_db).BackfillAsync(SignalFunctions.Migrations.Declarations.ClickEventsMigration.Declaration)).Outcome);

        Assert.Equal(2L, await _db.ScalarAsync<long>("SELECT jsonb_array_length(events) FROM cuft_click_tracking WHERE click_id = 'lead'"));
        Assert.Equal(new DateTime(2026, 1, 4, 0, 0, 0, DateTimeKind.Utc), await LastActivityAsync("lead"));
    }
}
