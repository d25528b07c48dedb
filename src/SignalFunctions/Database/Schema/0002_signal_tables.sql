-- The new, content-agnostic tables (signal-platform-rename-plan.md). An event's id is the same
-- on both sides, so legacy and new rows match one for one.

CREATE TABLE signal_events (
  id               uuid PRIMARY KEY,
  signal_id        uuid NOT NULL,
  content_id       uuid NOT NULL,
  content_type     text NOT NULL DEFAULT 'article',
  user_id          uuid,
  session_id       text,
  target_type      text NOT NULL CHECK (target_type IN (
                     'article', 'tutor', 'listing', 'booking', 'referral', 'wiselist_item')),
  target_id        uuid NOT NULL,
  event_type       text NOT NULL CHECK (event_type IN (
                     'impression', 'click', 'save', 'refer', 'convert')),
  source_component text NOT NULL CHECK (source_component IN (
                     'listing_grid', 'tutor_embed', 'tutor_carousel', 'cta_button',
                     'inline_link', 'floating_save', 'article_header', 'distribution')),
  metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- When the row was written here, as opposed to when the event happened: parity fences on it.
  recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signal_events_signal ON signal_events (signal_id, created_at);
CREATE INDEX signal_events_content ON signal_events (content_id, created_at);
CREATE INDEX signal_events_content_type ON signal_events (content_type);

CREATE TABLE signal_metrics (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  content_id          uuid NOT NULL,
  content_type        text NOT NULL DEFAULT 'article',
  date                date NOT NULL,
  page_views          bigint DEFAULT 0,
  unique_visitors     bigint DEFAULT 0,
  avg_time_on_page    integer,
  bounce_rate         numeric(5,2),
  organic_search      bigint DEFAULT 0,
  direct_traffic      bigint DEFAULT 0,
  social_traffic      bigint DEFAULT 0,
  search_impressions  bigint DEFAULT 0,
  search_clicks       bigint DEFAULT 0,
  avg_search_position numeric(5,2),
  created_at          timestamptz DEFAULT now(),
  updated_at          timestamptz DEFAULT now(),
  UNIQUE (content_id, content_type, date)
);

CREATE TABLE signal_content_embeds (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  content_id          uuid NOT NULL,
  content_type        text NOT NULL DEFAULT 'article',
  listing_id          uuid,
  position_in_content integer,
  embed_instance_id   text,
  metadata            jsonb DEFAULT '{}'::jsonb,
  created_at          timestamptz DEFAULT now(),
  UNIQUE (content_id, listing_id, position_in_content)
);

CREATE TABLE signal_content_saves (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  content_id   uuid NOT NULL,
  content_type text NOT NULL DEFAULT 'article',
  user_id      uuid NOT NULL,
  wiselist_id  uuid NOT NULL,
  visibility   text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'inherit_wiselist')),
  created_at   timestamptz DEFAULT now(),
  UNIQUE (content_id, user_id, wiselist_id)
);

-- click-tracking-events-plan.md phase 1: the event chronology beside the legacy columns.
-- NULL means "never written by the new side" (the backfill fills it), '[]' means "no events yet".
ALTER TABLE cuft_click_tracking
  ADD COLUMN events jsonb,
  ADD COLUMN events_dropped integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT cuft_click_tracking_events_is_array
    CHECK (events IS NULL OR jsonb_typeof(events) = 'array');
CREATE INDEX cuft_click_tracking_date_updated ON cuft_click_tracking (date_updated);
CREATE INDEX cuft_click_tracking_events ON cuft_click_tracking USING gin (events jsonb_path_ops);
