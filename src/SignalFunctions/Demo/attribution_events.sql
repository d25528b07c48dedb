-- One chunk of demo journeys in blog_attribution_events (Demo/DemoData.cs). Parameters: @run (the
-- run's nonce), @seed, @articles, @days, @first and @journeys (this chunk's journey numbers), @quota
-- (rows to insert, at most). pg_temp.demo_u(key, salt) is a uniform [0, 1) number, the same for the
-- same seed: the shape repeats with --seed, the ids and journeys are new on every run.
WITH pools AS MATERIALIZED (
  SELECT ARRAY(SELECT md5('demo-article-' || r)::uuid FROM generate_series(1, @articles) r) AS articles,
         ARRAY(SELECT md5('demo-listing-' || r)::uuid FROM generate_series(0, 1999) r) AS listings,
         ARRAY(SELECT md5('demo-tutor-' || r)::uuid FROM generate_series(0, 1999) r) AS tutors,
         ARRAY(SELECT md5('demo-wiselist-item-' || r)::uuid FROM generate_series(0, 1999) r) AS items,
         ARRAY(SELECT md5('demo-user-' || r)::uuid FROM generate_series(0, 19999) r) AS users
), journeys AS MATERIALIZED (
  SELECT j,
         -- Zipf-like popularity (s = 1): rank = floor((A + 1)^u), so rank 1 gets ln 2 / ln(A + 1) of all journeys.
         least(@articles, floor(power(@articles + 1, pg_temp.demo_u(j, @seed * 100 + 1)))::int) AS rank,
         now() - make_interval(secs => pg_temp.demo_u(j, @seed * 100 + 2) * @days * 86400) AS started,
         -- 1 to 12 events, about 3.6 on average.
         1 + least(11, floor(-ln(1 - pg_temp.demo_u(j, @seed * 100 + 3)) * 3.2)::int) AS steps,
         -- Most journeys carry a signal_id in metadata; the rest only a session (as older clients did).
         CASE WHEN pg_temp.demo_u(j, @seed * 100 + 4) < 0.85 THEN gen_random_uuid() END AS signal_id,
         CASE WHEN pg_temp.demo_u(j, @seed * 100 + 5) < 0.3 THEN 1 + floor(pg_temp.demo_u(j, @seed * 100 + 6) * 20000)::int END AS user_no,
         1 + floor(pg_temp.demo_u(j, @seed * 100 + 7) * 2000)::int AS listing_no,
         pg_temp.demo_u(j, @seed * 100 + 8) < 0.5 AS tutor_target,
         30 + pg_temp.demo_u(j, @seed * 100 + 9) * 600 AS gap_seconds,
         'demo-' || @run || '-' || j AS session_id
    FROM generate_series(@first::bigint, @first::bigint + @journeys - 1) AS j
), events AS (
  SELECT j.*, s, r.uc,
         -- The funnel: every journey opens with an impression; later steps thin out towards convert.
         CASE WHEN s = 1 OR r.ut < 0.40 THEN 'impression' WHEN r.ut < 0.72 THEN 'click' WHEN r.ut < 0.86 THEN 'save'
              WHEN r.ut < 0.94 THEN 'refer' ELSE 'convert' END AS event_type
    FROM journeys j
   CROSS JOIN LATERAL generate_series(1, j.steps) AS s
   CROSS JOIN LATERAL (SELECT pg_temp.demo_u(j.j * 16 + s, @seed * 100 + 10) AS ut,
                              pg_temp.demo_u(j.j * 16 + s, @seed * 100 + 11) AS uc) r
)
INSERT INTO blog_attribution_events (blog_article_id, user_id, session_id, target_type, target_id, event_type,
                                     source_component, metadata, created_at)
SELECT p.articles[rank],
       p.users[user_no],
       session_id,
       CASE event_type WHEN 'impression' THEN CASE WHEN tutor_target THEN 'tutor' ELSE 'listing' END
                       WHEN 'click' THEN CASE WHEN tutor_target THEN 'tutor' ELSE 'listing' END
                       WHEN 'save' THEN CASE WHEN uc < 0.3 THEN 'article' ELSE 'wiselist_item' END
                       WHEN 'refer' THEN 'referral' ELSE 'booking' END,
       CASE WHEN event_type IN ('impression', 'click') THEN CASE WHEN tutor_target THEN p.tutors[listing_no] ELSE p.listings[listing_no] END
            WHEN event_type = 'save' THEN CASE WHEN uc < 0.3 THEN p.articles[rank] ELSE p.items[listing_no] END
            ELSE gen_random_uuid() END,
       event_type,
       -- Every legacy component; 'distribution' never existed on the legacy side.
       CASE event_type
         WHEN 'impression' THEN (ARRAY['listing_grid', 'tutor_embed', 'tutor_carousel'])[1 + floor(uc * 3)::int]
         WHEN 'click' THEN (ARRAY['cta_button', 'inline_link', 'tutor_embed', 'listing_grid', 'tutor_carousel'])[1 + floor(uc * 5)::int]
         WHEN 'save' THEN (ARRAY['floating_save', 'article_header'])[1 + floor(uc * 2)::int]
         WHEN 'refer' THEN (ARRAY['cta_button', 'inline_link'])[1 + floor(uc * 2)::int]
         ELSE (ARRAY['cta_button', 'tutor_embed'])[1 + floor(uc * 2)::int] END,
       CASE WHEN signal_id IS NOT NULL
            THEN jsonb_build_object('signal_id', signal_id, 'position', s, 'page', '/blog/article-' || rank, 'demo_run', @run)
            ELSE jsonb_build_object('position', s, 'page', '/blog/article-' || rank, 'demo_run', @run) END,
       least(now(), started + make_interval(secs => (s - 1) * gap_seconds + uc * 20))
  FROM events, pools p
 LIMIT @quota
