-- Issue 5: every cut-over that keeps the old tables as *_backup guards the new tables it copies
-- back from at rollback (Migrations/CutoverDeletes.cs): besides deletes (record_cutover_deletes,
-- 0014), a key moved by an UPDATE and a TRUNCATE would leave the old key in the backup, and the
-- rollback would bring the row back.

-- AFTER UPDATE OF key … FOR EACH ROW WHEN (OLD.key IS DISTINCT FROM NEW.key); arguments: migration,
-- key column. The old key is gone as a delete would have left it.
CREATE FUNCTION record_cutover_rekey() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('INSERT INTO cutover_deletes (migration, table_name, key) VALUES (%L, %L, ($1).%I::text) ON CONFLICT DO NOTHING',
                 TG_ARGV[0], TG_TABLE_NAME, TG_ARGV[1]) USING OLD;
  RETURN NULL;
END
$$;

-- BEFORE TRUNCATE … FOR EACH STATEMENT; argument: migration. A TRUNCATE fires no DELETE trigger,
-- so the rollback could not tell its rows from rows only the old side has: refused while cut over.
CREATE FUNCTION refuse_cutover_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% cannot be truncated while % is cut over (its rollback would not know the rows were deleted): DELETE the rows instead, or roll back first (./run.sh rollback %)',
                  TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[0]
    USING ERRCODE = 'object_not_in_prerequisite_state';
END
$$;
