-- blue-green-dual-write-plan.md: the content pipeline's tables as the bot writes them (content
-- generation, the posting queue, the metrics scraper: all outside this app), and the clean tables
-- built in parallel (migration content-queue). One decision (a tweet, thread or reply the bot
-- decided to post) is one row in each; decision_id is the key on both sides.

CREATE TABLE content_metadata (
  decision_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  content        text NOT NULL,
  decision_type  text NOT NULL DEFAULT 'single',
  status         text NOT NULL DEFAULT 'queued',
  generator_name text,
  quality_score  numeric(4,3),
  scheduled_at   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX content_metadata_status_scheduled ON content_metadata (status, scheduled_at);

-- No foreign keys: the bot's writers insert in whatever order their jobs run.
CREATE TABLE posted_decisions (
  decision_id uuid PRIMARY KEY,
  tweet_id    text NOT NULL,
  content     text NOT NULL,
  posted_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outcomes (
  decision_id  uuid PRIMARY KEY,
  tweet_id     text,
  likes        integer,
  retweets     integer,
  replies      integer,
  impressions  integer,
  collected_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE content_queue (
  decision_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  content       text NOT NULL,
  content_type  text NOT NULL DEFAULT 'single' CHECK (content_type IN ('single', 'thread', 'reply')),
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'posted', 'failed', 'skipped')),
  generator     text,
  quality_score numeric(4,3),
  scheduled_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX content_queue_ready ON content_queue (status, scheduled_at);

CREATE TABLE posted_content (
  decision_id uuid PRIMARY KEY,
  tweet_id    text NOT NULL,
  content     text NOT NULL,
  posted_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX posted_content_tweet ON posted_content (tweet_id);

CREATE TABLE engagement_metrics (
  decision_id  uuid PRIMARY KEY,
  tweet_id     text,
  likes        integer NOT NULL DEFAULT 0,
  retweets     integer NOT NULL DEFAULT 0,
  replies      integer NOT NULL DEFAULT 0,
  impressions  integer NOT NULL DEFAULT 0,
  collected_at timestamptz NOT NULL DEFAULT now()
);

-- Makes the three new tables equal to the three legacy ones for the decisions ids: the backfill,
-- the capture trigger and repair all copy through it. Returns the decisions content_metadata has.
-- Missing counts become 0 (the new table's defaults): the scraper writes NULL for "not seen yet".
CREATE FUNCTION sync_content_queue(ids uuid[]) RETURNS SETOF uuid LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM content_queue t WHERE t.decision_id = ANY(ids)
     AND NOT EXISTS (SELECT 1 FROM content_metadata s WHERE s.decision_id = t.decision_id);
  INSERT INTO content_queue AS t (decision_id, content, content_type, status, generator, quality_score, scheduled_at, created_at, updated_at)
  SELECT s.decision_id, s.content, s.decision_type, s.status, s.generator_name, s.quality_score, s.scheduled_at, s.created_at, s.updated_at
    FROM content_metadata s WHERE s.decision_id = ANY(ids)
  ON CONFLICT (decision_id) DO UPDATE SET content = EXCLUDED.content, content_type = EXCLUDED.content_type, status = EXCLUDED.status,
    generator = EXCLUDED.generator, quality_score = EXCLUDED.quality_score, scheduled_at = EXCLUDED.scheduled_at,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
   WHERE t IS DISTINCT FROM EXCLUDED;

  DELETE FROM posted_content t WHERE t.decision_id = ANY(ids)
     AND NOT EXISTS (SELECT 1 FROM posted_decisions s WHERE s.decision_id = t.decision_id);
  INSERT INTO posted_content AS t (decision_id, tweet_id, content, posted_at)
  SELECT s.decision_id, s.tweet_id, s.content, s.posted_at FROM posted_decisions s WHERE s.decision_id = ANY(ids)
  ON CONFLICT (decision_id) DO UPDATE SET tweet_id = EXCLUDED.tweet_id, content = EXCLUDED.content, posted_at = EXCLUDED.posted_at
   WHERE t IS DISTINCT FROM EXCLUDED;

  DELETE FROM engagement_metrics t WHERE t.decision_id = ANY(ids)
     AND NOT EXISTS (SELECT 1 FROM outcomes s WHERE s.decision_id = t.decision_id);
  INSERT INTO engagement_metrics AS t (decision_id, tweet_id, likes, retweets, replies, impressions, collected_at)
  SELECT s.decision_id, s.tweet_id, coalesce(s.likes, 0), coalesce(s.retweets, 0), coalesce(s.replies, 0), coalesce(s.impressions, 0),
         s.collected_at
    FROM outcomes s WHERE s.decision_id = ANY(ids)
  ON CONFLICT (decision_id) DO UPDATE SET tweet_id = EXCLUDED.tweet_id, likes = EXCLUDED.likes, retweets = EXCLUDED.retweets,
    replies = EXCLUDED.replies, impressions = EXCLUDED.impressions, collected_at = EXCLUDED.collected_at
   WHERE t IS DISTINCT FROM EXCLUDED;

  RETURN QUERY SELECT s.decision_id FROM content_metadata s WHERE s.decision_id = ANY(ids);
END
$$;

INSERT INTO stage_flags (migration, stage) VALUES ('content-queue', 'off') ON CONFLICT DO NOTHING;

-- /api/health counts each side's recent write errors on every call.
CREATE INDEX repair_entries_created ON repair_entries (created_at);
