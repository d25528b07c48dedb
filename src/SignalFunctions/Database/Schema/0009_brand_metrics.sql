-- Issue 5 §1: brand-metrics, the monolith extracted_positions → the star schema
-- (star-schema-dual-write-plan.md). Legacy tables as the plan implies them, then the plan's new
-- tables, indexes and materialized view as written, except where noted.

-- Legacy: the dimensions extracted_positions points at.
CREATE TABLE customers (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE brands (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id uuid NOT NULL REFERENCES customers(id),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE brand_competitors (
  id              serial PRIMARY KEY,
  brand_id        uuid NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
  competitor_name text NOT NULL,
  UNIQUE (brand_id, competitor_name)
);

CREATE TABLE generated_queries (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  brand_id   uuid NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
  query_text text NOT NULL,
  topic      text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One AI answer to one generated query, from one collector (chatgpt, perplexity, …).
CREATE TABLE collector_results (
  id             bigserial PRIMARY KEY,
  query_id       uuid NOT NULL REFERENCES generated_queries(id) ON DELETE CASCADE,
  collector_type text NOT NULL,
  raw_answer     text,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- The monolith: per collector result one brand row (competitor_name NULL) and one row per
-- competitor mentioned, each repeating the result's dimensions and the brand's numbers.
CREATE TABLE extracted_positions (
  id                                      bigserial PRIMARY KEY,
  collector_result_id                     bigint NOT NULL REFERENCES collector_results(id) ON DELETE CASCADE,
  brand_id                                uuid NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
  customer_id                             uuid NOT NULL REFERENCES customers(id),
  query_id                                uuid NOT NULL REFERENCES generated_queries(id),
  collector_type                          text NOT NULL,
  topic                                   text,
  competitor_name                         text,
  visibility_index                        numeric(5,2),
  share_of_answers_brand                  numeric(5,2),
  has_brand_presence                      boolean NOT NULL DEFAULT false,
  brand_first_position                    integer,
  brand_positions                         integer[],
  total_brand_mentions                    integer NOT NULL DEFAULT 0,
  total_word_count                        integer NOT NULL DEFAULT 0,
  sentiment_label                         text,
  sentiment_score                         numeric(5,2),
  sentiment_positive_sentences            jsonb,
  sentiment_negative_sentences            jsonb,
  visibility_index_competitor             numeric(5,2),
  share_of_answers_competitor             numeric(5,2),
  competitor_positions                    integer[],
  competitor_mentions                     integer NOT NULL DEFAULT 0,
  sentiment_label_competitor              text,
  sentiment_score_competitor              numeric(5,2),
  sentiment_positive_sentences_competitor jsonb,
  sentiment_negative_sentences_competitor jsonb,
  processed_at                            timestamptz NOT NULL,
  created_at                              timestamptz NOT NULL DEFAULT now()
);
-- One brand row per collector result, one row per competitor: the shape the migration relies on,
-- and the keyset index of its backfill (collector_result_id first).
CREATE UNIQUE INDEX idx_extracted_positions_collector_result_id ON extracted_positions (collector_result_id, competitor_name);
CREATE UNIQUE INDEX idx_extracted_positions_brand_row ON extracted_positions (collector_result_id) WHERE competitor_name IS NULL;
-- The dashboard's query: brand rows of one brand over a range of days.
CREATE INDEX idx_extracted_positions_brand_id ON extracted_positions (brand_id, processed_at);

-- New: the plan's star schema (phase 1.1), verbatim.
CREATE TABLE metric_facts (
  id BIGSERIAL PRIMARY KEY,
  collector_result_id BIGINT NOT NULL UNIQUE REFERENCES collector_results(id) ON DELETE CASCADE,
  brand_id UUID NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
  customer_id UUID NOT NULL REFERENCES customers(id),
  query_id UUID NOT NULL REFERENCES generated_queries(id),
  collector_type TEXT NOT NULL,
  topic TEXT,
  processed_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_metric_facts_collector_result ON metric_facts(collector_result_id);
CREATE INDEX idx_metric_facts_brand_processed ON metric_facts(brand_id, processed_at DESC);
CREATE INDEX idx_metric_facts_brand_collector ON metric_facts(brand_id, collector_type, processed_at DESC);
CREATE INDEX idx_metric_facts_topic ON metric_facts(topic) WHERE topic IS NOT NULL;

CREATE TABLE brand_metrics (
  id BIGSERIAL PRIMARY KEY,
  metric_fact_id BIGINT NOT NULL UNIQUE REFERENCES metric_facts(id) ON DELETE CASCADE,
  visibility_index NUMERIC(5,2),
  share_of_answers NUMERIC(5,2),
  has_brand_presence BOOLEAN NOT NULL DEFAULT false,
  brand_first_position INTEGER,
  brand_positions INTEGER[],
  total_brand_mentions INTEGER NOT NULL DEFAULT 0,
  total_word_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_brand_metrics_fact ON brand_metrics(metric_fact_id);
CREATE INDEX idx_brand_metrics_visibility ON brand_metrics(visibility_index) WHERE visibility_index IS NOT NULL;

CREATE TABLE competitor_metrics (
  id BIGSERIAL PRIMARY KEY,
  metric_fact_id BIGINT NOT NULL REFERENCES metric_facts(id) ON DELETE CASCADE,
  competitor_id INTEGER NOT NULL REFERENCES brand_competitors(id) ON DELETE CASCADE,
  visibility_index NUMERIC(5,2),
  share_of_answers NUMERIC(5,2),
  competitor_positions INTEGER[],
  competitor_mentions INTEGER NOT NULL DEFAULT 0,
  UNIQUE(metric_fact_id, competitor_id)
);
CREATE INDEX idx_competitor_metrics_fact_comp ON competitor_metrics(metric_fact_id, competitor_id);
CREATE INDEX idx_competitor_metrics_comp ON competitor_metrics(competitor_id);
CREATE INDEX idx_competitor_metrics_visibility ON competitor_metrics(competitor_id, visibility_index) WHERE visibility_index IS NOT NULL;

CREATE TABLE brand_sentiment (
  id BIGSERIAL PRIMARY KEY,
  metric_fact_id BIGINT NOT NULL UNIQUE REFERENCES metric_facts(id) ON DELETE CASCADE,
  sentiment_label TEXT CHECK (sentiment_label IN ('POSITIVE', 'NEGATIVE', 'NEUTRAL')),
  sentiment_score NUMERIC(5,2),
  positive_sentences JSONB DEFAULT '[]'::jsonb,
  negative_sentences JSONB DEFAULT '[]'::jsonb
);
CREATE INDEX idx_brand_sentiment_fact ON brand_sentiment(metric_fact_id);
CREATE INDEX idx_brand_sentiment_label ON brand_sentiment(sentiment_label) WHERE sentiment_label IS NOT NULL;

CREATE TABLE competitor_sentiment (
  id BIGSERIAL PRIMARY KEY,
  metric_fact_id BIGINT NOT NULL REFERENCES metric_facts(id) ON DELETE CASCADE,
  competitor_id INTEGER NOT NULL REFERENCES brand_competitors(id) ON DELETE CASCADE,
  sentiment_label TEXT CHECK (sentiment_label IN ('POSITIVE', 'NEGATIVE', 'NEUTRAL')),
  sentiment_score NUMERIC(5,2),
  positive_sentences JSONB DEFAULT '[]'::jsonb,
  negative_sentences JSONB DEFAULT '[]'::jsonb,
  UNIQUE(metric_fact_id, competitor_id)
);
CREATE INDEX idx_competitor_sentiment_fact_comp ON competitor_sentiment(metric_fact_id, competitor_id);
CREATE INDEX idx_competitor_sentiment_comp ON competitor_sentiment(competitor_id);

-- The plan's daily view (phase 1.2), with one change: the day is the UTC day. DATE(processed_at)
-- would take the time zone of whichever session refreshes the view, and the legacy read computes
-- the same day from extracted_positions: both must cut days at the same instant to agree.
CREATE MATERIALIZED VIEW mv_brand_daily_metrics AS
SELECT
  mf.brand_id,
  mf.customer_id,
  mf.collector_type,
  (mf.processed_at AT TIME ZONE 'UTC')::date AS metric_date,
  AVG(bm.visibility_index) AS avg_visibility,
  AVG(bm.share_of_answers) AS avg_share,
  COUNT(*) FILTER (WHERE bm.has_brand_presence) AS presence_count,
  COUNT(*) AS total_responses,
  AVG(bs.sentiment_score) AS avg_sentiment,
  COUNT(*) FILTER (WHERE bs.sentiment_label = 'POSITIVE') AS positive_count,
  COUNT(*) FILTER (WHERE bs.sentiment_label = 'NEGATIVE') AS negative_count,
  COUNT(*) FILTER (WHERE bs.sentiment_label = 'NEUTRAL') AS neutral_count,
  MIN(mf.processed_at) AS first_response,
  MAX(mf.processed_at) AS last_response
FROM metric_facts mf
LEFT JOIN brand_metrics bm ON bm.metric_fact_id = mf.id
LEFT JOIN brand_sentiment bs ON bs.metric_fact_id = mf.id
GROUP BY mf.brand_id, mf.customer_id, mf.collector_type, (mf.processed_at AT TIME ZONE 'UTC')::date;

-- Unique, so it refreshes CONCURRENTLY (readers never blocked). customer_id is in the GROUP BY but
-- follows from brand_id (a brand has one customer), so the plan's key is still unique.
CREATE UNIQUE INDEX idx_mv_brand_daily_metrics_lookup ON mv_brand_daily_metrics (brand_id, collector_type, metric_date);
CREATE INDEX idx_mv_brand_daily_metrics_date_range ON mv_brand_daily_metrics (brand_id, metric_date DESC);

COMMENT ON TABLE metric_facts IS 'Core fact table linking collector results to metrics';
COMMENT ON TABLE brand_metrics IS 'Brand-specific visibility and position metrics';
COMMENT ON TABLE competitor_metrics IS 'Competitor-specific visibility and position metrics';
COMMENT ON TABLE brand_sentiment IS 'Brand sentiment analysis results';
COMMENT ON TABLE competitor_sentiment IS 'Competitor sentiment analysis results';
COMMENT ON MATERIALIZED VIEW mv_brand_daily_metrics IS 'Pre-aggregated daily metrics for fast dashboard queries';

-- The refresh time of the view, for the report's "as of" and the shadow comparison's horizon.
INSERT INTO view_refreshes (view_name, needs_full) VALUES ('mv_brand_daily_metrics', false);

-- Phase 5's archive: once a migration's old table is archived, its rollback is gone for good.
CREATE TABLE migration_archives (
  migration     text PRIMARY KEY,
  archived_as   text NOT NULL,
  bytes_before  bigint NOT NULL,
  bytes_after   bigint NOT NULL,
  actor         text NOT NULL,
  archived_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO stage_flags (migration, stage) VALUES ('brand-metrics', 'off') ON CONFLICT DO NOTHING;
