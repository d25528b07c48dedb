-- Helpers for migrations whose legacy rows the new schema may refuse, or whose units span tables.

-- Whether a text is a timestamp PostgreSQL can read (PostgreSQL 15 has no pg_input_is_valid):
-- validation rules count the legacy rows whose cast would fail the copy, and so stall the backfill.
CREATE FUNCTION is_timestamptz(value text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM value::timestamptz;
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END
$$;

-- content-queue's backfill walks the decisions of all three legacy tables (a post or an outcome
-- may have no content_metadata row), which the engine cannot lock in its batch query: this holds
-- them FOR KEY SHARE before sync_content_queue reads them, so an outside DELETE of one waits for
-- the batch (and its trigger then removes the copy) instead of slipping between read and commit.
CREATE FUNCTION hold_content_decisions(ids uuid[]) RETURNS uuid[] LANGUAGE plpgsql AS $$
BEGIN
  PERFORM FROM content_metadata WHERE decision_id = ANY(ids) FOR KEY SHARE;
  PERFORM FROM posted_decisions WHERE decision_id = ANY(ids) FOR KEY SHARE;
  PERFORM FROM outcomes WHERE decision_id = ANY(ids) FOR KEY SHARE;
  RETURN ids;
END
$$;

-- The keys deleted from a migration's new tables while it is cut over (a view-pattern cut-over
-- installs record_cutover_deletes on them), so that the rollback deletes from the old tables only
-- what was deleted since, and never a row that only the old side ever had. Cleanup (archive)
-- removes the triggers and the rows.
CREATE TABLE cutover_deletes (
  migration  text NOT NULL,
  table_name text NOT NULL,
  key        text NOT NULL,
  PRIMARY KEY (migration, table_name, key)
);

-- AFTER DELETE … REFERENCING OLD TABLE AS gone FOR EACH STATEMENT; arguments: migration, key column.
CREATE FUNCTION record_cutover_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('INSERT INTO cutover_deletes (migration, table_name, key) SELECT %L, %L, g.%I::text FROM gone g ON CONFLICT DO NOTHING',
                 TG_ARGV[0], TG_TABLE_NAME, TG_ARGV[1]);
  RETURN NULL;
END
$$;
