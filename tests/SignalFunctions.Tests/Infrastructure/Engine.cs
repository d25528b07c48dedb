using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalFunctions.Migrations;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>The migration engine's jobs on a test database, as the timers would run them.</summary>
public sealed class Engine(TestDatabase db, MigrationOptions? settings = null)
{
    private readonly IOptions<MigrationOptions> _options = Options.Create(settings ?? new MigrationOptions { ParityFenceSeconds = 0 });

    public Backfill Backfill => new(db.DataSource, _options, NullLogger<Backfill>.Instance);

    public Parity Parity => new(db.DataSource, _options, NullLogger<Parity>.Instance);

    public Task<BackfillRun> BackfillAsync(DataMigration m) => Backfill.RunAsync(m, TimeSpan.FromMinutes(5), null, CancellationToken.None);

    public async Task<ParityReport> ParityAsync(DataMigration m) => (await Parity.RunAsync(m, CancellationToken.None))!;

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
