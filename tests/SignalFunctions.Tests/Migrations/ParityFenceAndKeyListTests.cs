using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>The parity fence (in-flight writes are no false alarm) and the capped key lists (counts stay exact).</summary>
public sealed class ParityFenceAndKeyListTests : IAsyncLifetime
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    /// <summary>Legacy rows backfilled a minute ago: everything on the new side is outside any fence of a few seconds.</summary>
    private async Task<List<Guid>> BackfilledAsync(int rows)
    {
        var engine = new Engine(_db);
        await engine.SeedLegacyEventsAsync(rows);
        await engine.BackfillAsync(SignalEvents);
        await _db.AgeRecordedAsync();
        return (await _db.QueryAsync<Guid>("SELECT id FROM signal_events ORDER BY id")).ToList();
    }

    /// <summary>A target row that is not on the legacy side, recorded now (an article, so it has a legacy home and counts as extra).</summary>
    private Task<Guid> InsertTargetOnlyAsync() => _db.ScalarAsync<Guid>("""
        INSERT INTO signal_events (id, signal_id, content_id, content_type, target_type, target_id, event_type, source_component)
        VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'article', 'tutor', gen_random_uuid(), 'click', 'tutor_embed')
        RETURNING id
        """);

    private static string[] Keys(params Guid[] ids) => [.. ids.Select(i => i.ToString()).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Rows_written_within_the_default_fence_are_left_out_and_reported_once_the_fence_has_passed()
    {
        var ids = await BackfilledAsync(200);
        // Default settings: the fence is a few seconds.
        var defaults = new MigrationOptions();
        Assert.InRange(defaults.ParityFenceSeconds, 1, 10);
        var engine = new Engine(_db, defaults);

        // In flight: a row the new side has just received, and a row it has just rewritten.
        var extra = await InsertTargetOnlyAsync();
        var changed = ids[17];
        await _db.ExecuteAsync("UPDATE signal_events SET event_type = CASE event_type WHEN 'convert' THEN 'click' ELSE 'convert' END, recorded_at = now() WHERE id = @changed", new { changed });

        var within = await engine.ParityAsync(SignalEvents);
        Assert.True(within.Equal, $"{within.MissingCount} missing, {within.ExtraCount} extra, {within.DifferentCount} different");
        Assert.True(within.Clean);
        // The fenced key is left out on both sides, so nothing else stops being compared.
        Assert.Equal(199, within.RowsCompared);

        // The fence passes: the same two rows, a minute older.
        await _db.ExecuteAsync("UPDATE signal_events SET recorded_at = recorded_at - interval '1 minute' WHERE id = ANY(@ids)", new { ids = new[] { extra, changed } });
        var after = await engine.ParityAsync(SignalEvents);

        Assert.False(after.Clean);
        Assert.Equal(200, after.RowsCompared);
        Assert.Equal((0L, 1L, 1L), (after.MissingCount, after.ExtraCount, after.DifferentCount));
        Assert.Equal(Keys(extra), after.ExtraKeys);
        Assert.Equal(Keys(changed), after.DifferentKeys);
    }

    [Fact]
    public async Task The_fence_is_a_setting_a_longer_one_holds_rows_back_longer_and_zero_compares_everything()
    {
        await BackfilledAsync(100);
        var extra = await InsertTargetOnlyAsync();
        // Recorded 30 s ago: past the default fence, inside a 5-minute one.
        await _db.ExecuteAsync("UPDATE signal_events SET recorded_at = now() - interval '30 seconds' WHERE id = @extra", new { extra });

        var fiveMinutes = await new Engine(_db, new MigrationOptions { ParityFenceSeconds = 300 }).ParityAsync(SignalEvents);
        var byDefault = await new Engine(_db, new MigrationOptions()).ParityAsync(SignalEvents);
        var none = await new Engine(_db, new MigrationOptions { ParityFenceSeconds = 0 }).ParityAsync(SignalEvents);

        Assert.True(fiveMinutes.Equal, $"{fiveMinutes.ExtraCount} extra within a 5-minute fence");
        Assert.Equal(Keys(extra), byDefault.ExtraKeys);
        Assert.Equal(Keys(extra), none.ExtraKeys);
    }

    [Fact]
    public async Task With_more_differing_keys_than_the_cap_each_list_holds_exactly_the_cap_and_the_counts_are_complete()
    {
        var ids = await BackfilledAsync(1000);
        const int cap = 3;
        var engine = new Engine(_db, new MigrationOptions { ParityFenceSeconds = 0, ParityKeyListLimit = cap });
        var missing = ids.Take(7).ToArray();
        var extra = ids.Skip(7).Take(5).ToArray();
        var different = ids.Skip(12).Take(4).ToArray();
        await _db.ExecuteAsync("DELETE FROM signal_events WHERE id = ANY(@missing)", new { missing });
        await _db.ExecuteAsync("DELETE FROM blog_attribution_events WHERE id = ANY(@extra)", new { extra });
        await _db.ExecuteAsync("UPDATE signal_events SET event_type = 'convert', metadata = metadata || '{\"x\":1}' WHERE id = ANY(@changed)",
            new { changed = different });

        var report = await engine.ParityAsync(SignalEvents);

        Assert.Equal((7L, 5L, 4L), (report.MissingCount, report.ExtraCount, report.DifferentCount));
        Assert.Equal(cap, report.MissingKeys.Count);
        Assert.Equal(cap, report.ExtraKeys.Count);
        Assert.Equal(cap, report.DifferentKeys.Count);
        // The first keys in key order: each one really differs, none is listed twice.
        Assert.Equal(Keys(missing).Take(cap), report.MissingKeys);
        Assert.Equal(Keys(extra).Take(cap), report.ExtraKeys);
        Assert.Equal(Keys(different).Take(cap), report.DifferentKeys);
    }

    [Fact]
    public async Task The_parity_verb_prints_the_capped_keys_and_how_many_more_there_are()
    {
        var ids = await BackfilledAsync(300);
        var missing = ids.Take(6).ToArray();
        await _db.ExecuteAsync("DELETE FROM signal_events WHERE id = ANY(@missing)", new { missing });

        var (exit, output, error) = await OpsCommand.RunAsync(_db.ConnectionString,
            new Dictionary<string, string> { ["Migrations__ParityKeyListLimit"] = "2", ["Migrations__ParityFenceSeconds"] = "0" },
            "parity", SignalEvents.Name);

        Assert.True(exit == 1, $"exit {exit}: {output}{error}");
        Assert.Contains("missing in signal_events: 6", output, StringComparison.Ordinal);
        Assert.Contains("… and 4 more", output, StringComparison.Ordinal);
        var listed = Keys(missing).Where(k => output.Contains(k, StringComparison.Ordinal)).ToList();
        Assert.Equal(Keys(missing).Take(2), listed);
        Assert.Contains("NOT clean", output, StringComparison.Ordinal);
    }
}
