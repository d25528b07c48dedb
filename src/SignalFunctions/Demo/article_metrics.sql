-- Daily metrics per demo article over the last @days days, scaled to the traffic of @rows events
-- with the same popularity curve. A second run tops the counters up (UNIQUE (article_id, date)).
WITH days AS (
  SELECT r, (now() AT TIME ZONE 'UTC')::date - k AS date,
         -- The article's share of the events (Zipf, s = 1), spread over the days, with page views
         -- above tracked impressions and day-to-day noise.
         greatest(1, round(@rows::float8 * ln((r + 1.0) / r) / ln(@articles + 1.0) / @days * 1.4
                           * (0.6 + 0.8 * pg_temp.demo_u(r * 10000 + k, @seed * 100 + 20))))::bigint AS views,
         pg_temp.demo_u(r * 10000 + k, @seed * 100 + 21) AS u1,
         pg_temp.demo_u(r * 10000 + k, @seed * 100 + 22) AS u2,
         pg_temp.demo_u(r * 10000 + k, @seed * 100 + 23) AS u3
    FROM generate_series(1, @articles) r, generate_series(0, @days - 1) k
), written AS (
  INSERT INTO blog_article_metrics AS m (article_id, date, page_views, unique_visitors, avg_time_on_page, bounce_rate,
                                         organic_search, direct_traffic, social_traffic, search_impressions,
                                         search_clicks, avg_search_position)
  SELECT md5('demo-article-' || r)::uuid, date, views,
         round(views * (0.55 + 0.3 * u1))::bigint,
         (40 + u2 * 360)::int,
         round((25 + u3 * 50)::numeric, 2),
         round(views * 0.55)::bigint, round(views * 0.3)::bigint, views - round(views * 0.55)::bigint - round(views * 0.3)::bigint,
         round(views * (6 + 10 * u1))::bigint, round(views * 0.55)::bigint,
         round((1 + u2 * 29)::numeric, 2)
    FROM days
  ON CONFLICT (article_id, date) DO UPDATE
    SET page_views = m.page_views + EXCLUDED.page_views,
        unique_visitors = m.unique_visitors + EXCLUDED.unique_visitors,
        organic_search = m.organic_search + EXCLUDED.organic_search,
        direct_traffic = m.direct_traffic + EXCLUDED.direct_traffic,
        social_traffic = m.social_traffic + EXCLUDED.social_traffic,
        search_impressions = m.search_impressions + EXCLUDED.search_impressions,
        search_clicks = m.search_clicks + EXCLUDED.search_clicks,
        updated_at = now()
  RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS Inserted, count(*) FILTER (WHERE NOT inserted) AS Updated FROM written
