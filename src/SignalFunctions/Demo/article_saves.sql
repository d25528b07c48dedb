-- The saves behind this run's save events by signed-in users (blog_article_saves is unique per
-- article, user and wiselist; a user has up to three wiselists). Parameters: @prefix (this run's sessions).
WITH saved AS (
  INSERT INTO blog_article_saves (article_id, user_id, wiselist_id, visibility, created_at)
  SELECT blog_article_id, user_id,
         md5(user_id::text || '-wiselist-' || abs(hashtext(blog_article_id::text || user_id::text)) % 3)::uuid,
         CASE WHEN abs(hashtext(user_id::text || blog_article_id::text)) % 4 = 0 THEN 'inherit_wiselist' ELSE 'private' END,
         min(created_at)
    FROM blog_attribution_events
   WHERE session_id LIKE @prefix AND event_type = 'save' AND user_id IS NOT NULL
   GROUP BY 1, 2, 3, 4
  ON CONFLICT (article_id, user_id, wiselist_id) DO NOTHING
  RETURNING 1
)
SELECT count(*) FROM saved
