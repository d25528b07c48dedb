namespace SignalFunctions.EngineBench;

/// <summary>The legacy table as an old system left it, and the differences parity must find.</summary>
internal static class LegacyData
{
    /// <summary>
    /// Set-based legacy rows over 90 days: journeys of about 20 events per session, skewed
    /// article popularity, mostly impressions, a quarter written by the app (signal_id in
    /// metadata), one in ten without a session.
    /// </summary>
    public static Task SeedAsync(BenchDatabase db, int rows, CancellationToken ct) => db.ExecuteAsync("""
        INSERT INTO blog_attribution_events (blog_article_id, user_id, session_id, target_type, target_id, event_type,
                                             source_component, metadata, created_at)
        SELECT md5('article' || floor(2000 * power(((i::bigint * 7919) % 1000003) / 1000003.0, 2)))::uuid,
               CASE WHEN i % 3 = 0 THEN md5('user' || (i / 60))::uuid END,
               CASE WHEN i % 10 <> 0 THEN 'session-' || (i / 20) END,
               (ARRAY['tutor','listing','article','booking','referral','wiselist_item'])[1 + (i / 20) % 6],
               md5('target' || (i % 50000))::uuid,
               (ARRAY['impression','impression','impression','impression','impression','impression',
                      'click','click','save','refer','convert'])[1 + (i::bigint * 31) % 11],
               (ARRAY['listing_grid','tutor_embed','tutor_carousel','cta_button','inline_link','floating_save',
                      'article_header'])[1 + (i / 20) % 7],
               CASE WHEN i % 4 = 0
                    THEN jsonb_build_object('signal_id', md5('journey' || (i / 20))::uuid, 'position', i % 10)
                    ELSE jsonb_build_object('position', i % 10, 'referrer', 'https://example.com/p/' || (i % 500)) END,
               timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => i * (7776000.0 / $1))
          FROM generate_series(1, $1) AS i
        """, ct, rows);

    public sealed record Injected(IReadOnlyList<string> Missing, IReadOnlyList<string> Extra, IReadOnlyList<string> Different)
    {
        public int Count => Missing.Count + Extra.Count + Different.Count;
    }

    /// <summary>
    /// Ten differences on equal tables: 3 rows missing in the target, 3 extra target rows with no
    /// legacy counterpart, 2 target rows changed and 2 legacy rows changed. Extra rows are dated
    /// outside the parity fence: they stand for old damage, not for writes in flight.
    /// </summary>
    public static async Task<Injected> InjectDifferencesAsync(BenchDatabase db, CancellationToken ct)
    {
        var missing = await db.ColumnAsync<string>("""
            DELETE FROM signal_events t USING (SELECT id FROM signal_events ORDER BY md5(id::text || 'missing') LIMIT 3) k
             WHERE t.id = k.id RETURNING t.id::text
            """, ct);
        var extra = await db.ColumnAsync<string>("""
            INSERT INTO signal_events (id, signal_id, content_id, content_type, target_type, target_id, event_type,
                                       source_component, metadata, created_at, recorded_at)
            SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'article', 'tutor', gen_random_uuid(),
                   'click', 'tutor_embed', '{}', now() - interval '2 hours', now() - interval '1 hour'
              FROM generate_series(1, 3) RETURNING id::text
            """, ct);
        var changedTarget = await db.ColumnAsync<string>("""
            UPDATE signal_events t SET event_type = CASE WHEN t.event_type = 'click' THEN 'save' ELSE 'click' END
              FROM (SELECT id FROM signal_events ORDER BY md5(id::text || 'changed-new') LIMIT 2) k
             WHERE t.id = k.id RETURNING t.id::text
            """, ct);
        var changedSource = await db.ColumnAsync<string>("""
            UPDATE blog_attribution_events s SET metadata = s.metadata || '{"edited": true}'
              FROM (SELECT id FROM blog_attribution_events WHERE NOT (id::text = ANY($1))
                     ORDER BY md5(id::text || 'changed-old') LIMIT 2) k
             WHERE s.id = k.id RETURNING s.id::text
            """, ct, (object)missing.Concat(changedTarget).ToArray());
        return new Injected(missing, extra, [.. changedTarget, .. changedSource]);
    }
}
