using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Ingest;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Partitions;
using SignalFunctions.Stages;
using SignalFunctions.Views;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>The migration engine's jobs on a test database, as the timers would run them.</summary>
public sealed class Engine(TestDatabase db, MigrationOptions? settings = null)
{
    private readonly IOptions<MigrationOptions> _options = Options.Create(settings ?? new MigrationOptions { ParityFenceSeconds = 0 });

    public Backfill Backfill => new(db.DataSource, _options, Options.Create(new GuardOptions()), Partitions, NullLogger<Backfill>.Instance);

    public EventPartitions Partitions => new(db.DataSource, Options.Create(new EventsOptions()), NullLogger<EventPartitions>.Instance);

    public Parity Parity => new(db.DataSource, _options, NullLogger<Parity>.Instance);

    public Task<BackfillRun> BackfillAsync(DataMigration m) => Backfill.RunAsync(m, TimeSpan.FromMinutes(5), null, CancellationToken.None);

    /// <summary>Parity of the whole table, or of one partition of the target.</summary>
    public async Task<ParityReport> ParityAsync(DataMigration m, string? partition = null) => (await Parity.RunAsync(m, CancellationToken.None, partition))!;

    public async Task<BackfillProgress> BackfillProgressAsync(DataMigration m)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        return await Backfill.ReadAsync(connection, m, CancellationToken.None);
    }

    public EmbeddedFlagStore Flags => new(db.DataSource, TimeProvider.System);

    /// <summary>The stage verb's path: gates, history, and the capture trigger kept in step.</summary>
    public StageControl Stages => new(db.DataSource, Flags, NullLogger<StageControl>.Instance);

    public RepairJob Repair => new(
        db.DataSource, Flags,
        Options.Create(new ClickOptions { MaxEventsPerClick = (int)_options.Value.SqlArguments[MigrationOptions.MaxEventsPerClickArgument] }),
        _options, NullLogger<RepairJob>.Instance);

    public Cutover Cutover => new(db.DataSource, Flags);

    /// <summary>What the RefreshViews timer runs: every declared view, the daily rollup incremental.</summary>
    public DeclaredViews Views => new(db.DataSource,
        [new DailyRollup(db.DataSource, Options.Create(new ViewOptions()), NullLogger<DailyRollup>.Instance)], NullLogger<DeclaredViews>.Instance);

    public Task<IReadOnlyList<ViewRefreshResult>> RefreshViewsAsync() => Views.RefreshAllAsync(full: false, CancellationToken.None);

    /// <summary>Moves the stage through its gates, unforced; the refusal, if any, is in the result.</summary>
    public Task<StageChangeResult> StageAsync(DataMigration m, Stage stage) =>
        Stages.ChangeAsync(m.Name, stage, 100, "test", force: false, reason: null, CancellationToken.None);

    /// <summary>Moves the stage through its gates; a refusal fails the test, naming the gates.</summary>
    public async Task MoveAsync(DataMigration m, Stage stage)
    {
        var result = await StageAsync(m, stage);
        Assert.False(result.Refused, string.Join("; ", result.FailedGates));
    }

    /// <summary>Runs parity; anything but a clean report fails the test, naming what differs.</summary>
    public async Task AssertCleanAsync(DataMigration m)
    {
        var report = await ParityAsync(m);
        Assert.True(report.Clean, $"{m.Name}: {report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different " +
                                  $"({string.Join(", ", report.MissingKeys.Concat(report.ExtraKeys).Concat(report.DifferentKeys).Take(5))}); " +
                                  string.Join(", ", report.Validation.Where(r => r.Violations > 0).Select(r => $"{r.Name}={r.Violations}")));
    }

    /// <summary>From dual_write to complete through every gate: backfill, then a clean parity and refreshed views before each step.</summary>
    public async Task WalkToCompleteAsync(DataMigration m)
    {
        await MoveAsync(m, Stage.DualWrite);
        await BackfillAsync(m);
        foreach (var stage in new[] { Stage.Shadow, Stage.Live, Stage.Rampdown, Stage.Complete })
        {
            await AssertCleanAsync(m);
            await RefreshViewsAsync();
            await MoveAsync(m, stage);
        }
    }

    public Task<RepairResult> RepairAsync(DataMigration m) => Repair.RunAsync(m.Name, TimeSpan.FromMinutes(1), CancellationToken.None);

    /// <summary>
    /// signal-events seeded and backfilled, then <paramref name="lost"/> rows (the first by id) gone
    /// from the new side, and a parity report that lists them as missing: work for repair.
    /// </summary>
    public async Task<(IReadOnlyList<Guid> Lost, ParityReport Report)> BackfillThenLoseAsync(int rows, int lost)
    {
        await SeedLegacyEventsAsync(rows);
        await BackfillAsync(SignalEventsMigration.Declaration);
        var gone = (await db.QueryAsync<Guid>("DELETE FROM signal_events WHERE id IN (SELECT id FROM signal_events ORDER BY id LIMIT @lost) RETURNING id", new { lost })).ToList();
        var report = await ParityAsync(SignalEventsMigration.Declaration);
        Assert.Equal(lost, report.MissingCount);
        return (gone, report);
    }

    /// <summary>Legacy attribution rows made in SQL, the way an old system left them.</summary>
    public Task SeedLegacyEventsAsync(int rows, int sessions = 50) => db.ExecuteAsync("""
        INSERT INTO blog_attribution_events (blog_article_id, user_id, session_id, target_type, target_id, event_type,
                                             source_component, metadata, created_at)
        SELECT md5('article' || (i % 20))::uuid,
               CASE WHEN i % 3 = 0 THEN gen_random_uuid() END,
               CASE WHEN i % 7 <> 0 THEN 'session-' || (i % @sessions) END,
               (ARRAY['article','tutor','listing','booking','referral','wiselist_item'])[1 + i % 6],
               gen_random_uuid(),
               (ARRAY['impression','click','save','refer','convert'])[1 + i % 5],
               (ARRAY['listing_grid','tutor_embed','tutor_carousel','cta_button','inline_link','floating_save','article_header'])[1 + i % 7],
               jsonb_build_object('position', i % 10, 'note', 'row ' || i),
               now() - make_interval(mins => i)
          FROM generate_series(1, @rows) AS i
        """, new { rows, sessions });
}
