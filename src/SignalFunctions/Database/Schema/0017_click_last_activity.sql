-- The ops console's click table and CSV export (click-tracking-events-plan.md, phase 3): filter by
-- event type and by the date of the most recent event, sort by last activity, page by keyset.

-- A click's last activity: the time of its newest chronology entry, or date_updated when it has
-- none (no chronology yet, or an empty one). Entries are appended in time order, but the rebuild
-- puts the ones it derives in front, so it is the newest, not the last. An entry whose timestamp is
-- not an ISO 8601 time with a zone, or names a time that does not exist (2025-02-30), does not
-- count: it must never fail the write that carries it. The common case is one statement; only a
-- chronology with an impossible time takes the slow path, entry by entry.
CREATE FUNCTION click_last_activity(events jsonb, fallback timestamptz) RETURNS timestamptz
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  latest timestamptz;
  stamp text;
BEGIN
  IF jsonb_typeof(events) = 'array' THEN
    BEGIN
      latest := (SELECT max((e ->> 'timestamp')::timestamptz) FROM jsonb_array_elements(events) AS e
                  WHERE e ->> 'timestamp' ~ '^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)$');
    EXCEPTION WHEN data_exception THEN
      FOR stamp IN SELECT e ->> 'timestamp' FROM jsonb_array_elements(events) AS e
                    WHERE e ->> 'timestamp' ~ '^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)$' LOOP
        BEGIN
          latest := greatest(latest, stamp::timestamptz);
        EXCEPTION WHEN data_exception THEN
          NULL;
        END;
      END LOOP;
    END;
  END IF;
  RETURN coalesce(latest, fallback);
END $$;

-- Stored, not computed per read: the export reads every row, and a sort key computed from JSON
-- would cost it more than the rows themselves. Kept by a trigger, so every writer keeps it right:
-- ingest, the click-events rebuild and repair, and a person with psql. The trigger reads the
-- chronology through to_jsonb(NEW), which has no events when the new side's column is gone (or
-- renamed): the legacy side's writes must go on then, as the stages promise.
ALTER TABLE cuft_click_tracking ADD COLUMN last_activity_at timestamptz;
UPDATE cuft_click_tracking SET last_activity_at = click_last_activity(events, date_updated);
ALTER TABLE cuft_click_tracking ALTER COLUMN last_activity_at SET NOT NULL;

CREATE FUNCTION cuft_click_tracking_last_activity() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.last_activity_at := click_last_activity(to_jsonb(NEW) -> 'events', NEW.date_updated);
  RETURN NEW;
END $$;
CREATE TRIGGER cuft_click_tracking_last_activity BEFORE INSERT OR UPDATE ON cuft_click_tracking
  FOR EACH ROW EXECUTE FUNCTION cuft_click_tracking_last_activity();

-- Keyset order (last_activity_at, id) in either direction: the first page and every next one
-- read a page's worth of index entries, within a date range too.
CREATE INDEX cuft_click_tracking_last_activity ON cuft_click_tracking (last_activity_at, id);

-- The same order per event type. A filter on a type the newest (or oldest) clicks seldom have
-- would walk the index above far past the page; the GIN on events finds the type but not the
-- order, so it sorts every match. With one index per type a page reads a page's worth of entries
-- per type asked for, however rare the type. The predicates are the queries' own literal
-- conditions (Clicks/ClickReads.cs), which is how the planner knows the index applies.
CREATE INDEX cuft_click_tracking_phone_click ON cuft_click_tracking (last_activity_at, id) WHERE events @> '[{"event": "phone_click"}]';
CREATE INDEX cuft_click_tracking_email_click ON cuft_click_tracking (last_activity_at, id) WHERE events @> '[{"event": "email_click"}]';
CREATE INDEX cuft_click_tracking_form_submit ON cuft_click_tracking (last_activity_at, id) WHERE events @> '[{"event": "form_submit"}]';
CREATE INDEX cuft_click_tracking_generate_lead ON cuft_click_tracking (last_activity_at, id) WHERE events @> '[{"event": "generate_lead"}]';
