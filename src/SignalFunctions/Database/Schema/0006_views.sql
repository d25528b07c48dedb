-- Issue 3 §6: the daily signal rollup, and what its incremental refresh needs to know.
--
-- A table rather than a MATERIALIZED VIEW: PostgreSQL can only refresh a matview whole, and the
-- incremental refresh rewrites single (content, day) buckets. The full refresh does what
-- REFRESH MATERIALIZED VIEW CONCURRENTLY does (compute everything aside, then apply only the
-- difference in one transaction), so readers are never blocked by either kind (Views/DailyRollup.cs).

-- One row per content, UTC day of the event (created_at) and event type, plus one row with
-- event_type 'all' for the whole bucket, because distinct journeys do not add up across types.
CREATE TABLE signal_daily_rollup (
  content_id  uuid   NOT NULL,
  day         date   NOT NULL,
  event_type  text   NOT NULL CHECK (event_type IN ('impression', 'click', 'save', 'refer', 'convert', 'all')),
  events      bigint NOT NULL,
  signals     bigint NOT NULL,
  conversions bigint NOT NULL
);
CREATE UNIQUE INDEX signal_daily_rollup_key ON signal_daily_rollup (content_id, day, event_type);
-- The funnel reads every content over a range of days; the refresh counts the buckets (type 'all').
CREATE INDEX signal_daily_rollup_type_day ON signal_daily_rollup (event_type, day);
COMMENT ON COLUMN signal_daily_rollup.signals IS
  'Distinct signal_id (journeys) with an event of this type on this content that day.';
COMMENT ON COLUMN signal_daily_rollup.conversions IS
  'Of those journeys, how many also have a convert event on this content the same day.';

-- The durable state of each refreshed view, written in the refresh's own transaction.
CREATE TABLE view_refreshes (
  view_name    text PRIMARY KEY,
  -- The next incremental run reads signal_events rows recorded at or after this (less the overlap).
  -- Never later than the start of the oldest transaction open when the last run read its snapshot.
  watermark    timestamptz,
  -- Set when the change log cannot describe what happened (TRUNCATE): the next run is a full one.
  needs_full   boolean NOT NULL DEFAULT true,
  last_full_at timestamptz,
  refreshed_at timestamptz,
  last_summary text
);
INSERT INTO view_refreshes (view_name) VALUES ('signal_daily_rollup');

-- Buckets touched by UPDATE and DELETE, which recorded_at cannot show (a deleted row is gone; an
-- updated one keeps its recorded_at). No key and no index: writers never wait on each other here,
-- and the refresh consumes the whole log with DELETE … RETURNING, so a row of a transaction that
-- commits late is simply still there for the next run. Inserts, the hot path, are not logged: the
-- refresh finds them by recorded_at (index signal_events_recorded).
CREATE TABLE signal_rollup_changes (
  content_id uuid NOT NULL,
  day        date NOT NULL
);

CREATE FUNCTION signal_rollup_log_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO signal_rollup_changes (content_id, day)
  SELECT DISTINCT content_id, (created_at AT TIME ZONE 'UTC')::date FROM old_rows;
  RETURN NULL;
END $$;

CREATE FUNCTION signal_rollup_log_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Both sides: an update may move an event to another content or day.
  INSERT INTO signal_rollup_changes (content_id, day)
  SELECT content_id, (created_at AT TIME ZONE 'UTC')::date FROM old_rows
  UNION
  SELECT content_id, (created_at AT TIME ZONE 'UTC')::date FROM new_rows;
  RETURN NULL;
END $$;

CREATE FUNCTION signal_rollup_log_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE view_refreshes SET needs_full = true WHERE view_name = 'signal_daily_rollup';
  RETURN NULL;
END $$;

-- Statement-level with transition tables: one INSERT per statement, however many rows it changed.
CREATE TRIGGER signal_events_rollup_deleted AFTER DELETE ON signal_events
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signal_rollup_log_deleted();
CREATE TRIGGER signal_events_rollup_updated AFTER UPDATE ON signal_events
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signal_rollup_log_updated();
CREATE TRIGGER signal_events_rollup_truncated AFTER TRUNCATE ON signal_events
  FOR EACH STATEMENT EXECUTE FUNCTION signal_rollup_log_truncated();
