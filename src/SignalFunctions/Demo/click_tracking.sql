-- A chunk of clicks (cuft_click_tracking). Most carry utm fields that match their platform; some
-- are qualified by the webhook, with a score. Those of the older half of the days are legacy, from
-- before the events chronology (events stays NULL: the click-events backfill rebuilds it); those of
-- the newer half have the chronology ingest records: phone clicks, email clicks and form submits
-- from the click's creation on, then for a qualified click generate_lead and the webhook's
-- status_update, for a scored one the webhook's status_update, at date_updated.
-- Parameters: @run, @seed, @days, @first and @count (this chunk's click numbers).
WITH drawn AS (
  SELECT i,
         pg_temp.demo_u(i, @seed * 100 + 30) AS u1, pg_temp.demo_u(i, @seed * 100 + 31) AS u2,
         pg_temp.demo_u(i, @seed * 100 + 32) AS u3, pg_temp.demo_u(i, @seed * 100 + 33) AS u4,
         pg_temp.demo_u(i, @seed * 100 + 34) AS u5, pg_temp.demo_u(i, @seed * 100 + 35) AS u6,
         pg_temp.demo_u(i, @seed * 100 + 36) AS u7
    FROM generate_series(@first::bigint, @first::bigint + @count - 1) i
), sourced AS (
  SELECT d.*,
         CASE WHEN u1 < 0.45 THEN 'google' WHEN u1 < 0.63 THEN 'facebook' WHEN u1 < 0.75 THEN 'linkedin'
              WHEN u1 < 0.83 THEN 'bing' WHEN u1 < 0.91 THEN 'newsletter' ELSE 'direct' END AS source,
         u4 < 0.12 AS qualified,
         now() - make_interval(secs => u5 * @days * 86400) AS created
    FROM drawn d
), scored AS (
  SELECT s.*,
         CASE WHEN qualified THEN 60 + floor(u6 * 41)::int WHEN u6 < 0.5 THEN 0 ELSE 1 + floor(u3 * 59)::int END AS score,
         least(now(), created + CASE WHEN qualified THEN make_interval(secs => u6 * 3 * 86400) ELSE make_interval(secs => u6 * 3600) END) AS updated
    FROM sourced s
), chronicled AS (
  SELECT s.*,
         CASE WHEN u5 < 0.5 THEN (
           SELECT jsonb_agg(jsonb_build_object('event', e.event, 'timestamp', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                            || CASE WHEN e.event = 'status_update' THEN jsonb_build_object('qualified', s.qualified, 'score', s.score) ELSE '{}' END
                            ORDER BY e.n)
             FROM (SELECT k AS n,
                          (ARRAY['phone_click', 'phone_click', 'email_click', 'form_submit'])[1 + floor(pg_temp.demo_u(s.i * 8 + k, @seed * 100 + 37) * 4)::int] AS event,
                          s.created + (s.updated - s.created) * (k - 1) / (1 + floor(u7 * 4)) AS at
                     FROM generate_series(1, 1 + floor(u7 * 4)::int) k
                   UNION ALL SELECT 10, 'generate_lead', s.updated WHERE s.qualified
                   UNION ALL SELECT 11, 'status_update', s.updated WHERE s.score > 0) e) END AS events
    FROM scored s
), written AS (
  INSERT INTO cuft_click_tracking (click_id, platform, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
                                   qualified, score, date_created, date_updated, events)
  SELECT 'demo-' || @run || '-' || i,
         CASE source WHEN 'newsletter' THEN 'email' WHEN 'direct' THEN 'web' ELSE source END,
         -- Direct visits, and one tagged click in ten, arrive without utm parameters.
         CASE WHEN source <> 'direct' AND u2 >= 0.1 THEN source END,
         CASE WHEN source = 'direct' OR u2 < 0.1 THEN NULL
              WHEN source IN ('google', 'bing') THEN CASE WHEN u3 < 0.8 THEN 'cpc' ELSE 'organic' END
              WHEN source = 'newsletter' THEN 'email'
              ELSE CASE WHEN u3 < 0.6 THEN 'paid_social' ELSE 'social' END END,
         CASE WHEN source <> 'direct' AND u2 >= 0.1
              THEN (ARRAY['gcse_maths_spring', 'a_level_revision', 'tutor_match', 'summer_intensive', 'brand'])[1 + floor(u3 * 5)::int] END,
         CASE WHEN source IN ('google', 'bing') AND u2 >= 0.1 AND u3 < 0.8
              THEN (ARRAY['maths tutor', 'gcse physics tutor', 'online english tutor', 'a level chemistry help', '11 plus tutor'])[1 + floor(u6 * 5)::int] END,
         CASE WHEN source <> 'direct' AND u2 >= 0.1
              THEN (ARRAY['ad_a', 'ad_b', 'hero_banner', 'sidebar', 'footer_cta'])[1 + floor(u6 * 5)::int] END,
         qualified, score, created, updated, events
    FROM chronicled
  RETURNING qualified, events IS NOT NULL AS chronicled
)
SELECT count(*) AS Rows, count(*) FILTER (WHERE qualified) AS Qualified, count(*) FILTER (WHERE chronicled) AS Chronicled FROM written
