-- Two to six listings embedded in each demo article, from the same listing pool the journeys
-- target. Deterministic: a second run adds nothing (UNIQUE (article_id, listing_id, position_in_article)).
WITH linked AS (
  INSERT INTO blog_listing_links (article_id, listing_id, position_in_article, embed_instance_id, metadata, created_at)
  SELECT md5('demo-article-' || r)::uuid,
         md5('demo-listing-' || (1 + (r * 37 + p * 101) % 2000))::uuid,
         p,
         substr(md5('demo-embed-' || r || '-' || p), 1, 16),
         jsonb_build_object('layout', (ARRAY['inline', 'carousel', 'grid'])[1 + (r + p) % 3]),
         now() - make_interval(days => @days) + make_interval(hours => p)
    FROM generate_series(1, @articles) r
   CROSS JOIN LATERAL generate_series(1, 2 + abs(hashint4(r)) % 5) p
  ON CONFLICT (article_id, listing_id, position_in_article) DO NOTHING
  RETURNING 1
)
SELECT count(*) FROM linked
