-- partition_in_place as `./run.sh partitions convert` needs it on a database that already holds
-- events (0018's version only ever ran on an empty table). Differences from 0018:
--   * privileges: PUBLIC and WITH GRANT OPTION are kept, column privileges too, and a role name
--     that needs quotes works (regrole is already quoted);
--   * the new parent gets the old table's owner, and a view keeps its options (security_barrier,
--     check_option);
--   * a CHECK tbl_history_range left NOT VALID is validated before the ATTACH, which would
--     otherwise scan the table under the lock (the verb validates it first, without blocking writes);
--   * ahead < 0 makes no month: the verb makes them afterwards in Events__PartitionMonths units,
--     each in its own short transaction, so the swap holds its lock only for catalog work;
--   * a materialized view over tbl stops the conversion: it would stay bound to the history.
CREATE OR REPLACE FUNCTION partition_in_place(tbl text, col text, cutoff timestamptz, ahead int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  hist text := tbl || '_history';
  owner regrole;
  triggers text[];
  views text[];
  indexes text[];
  grants text[];
  s text;
  r record;
BEGIN
  EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', tbl);
  IF (SELECT relkind FROM pg_class WHERE oid = tbl::regclass) = 'p' THEN
    RETURN;
  END IF;

  SELECT v.ev_class::regclass::text INTO s
    FROM pg_rewrite v JOIN pg_depend d ON d.objid = v.oid JOIN pg_class c ON c.oid = v.ev_class
   WHERE d.refobjid = tbl::regclass AND c.relkind = 'm' LIMIT 1;
  IF s IS NOT NULL THEN
    RAISE EXCEPTION 'materialized view % reads %: it would stay bound to the history partition', s, tbl
      USING HINT = 'Drop it, convert, then create it again.';
  END IF;

  -- Read everything bound to the old table while its definitions still name tbl.
  SELECT relowner::regrole INTO owner FROM pg_class WHERE oid = tbl::regclass;
  SELECT array_agg(pg_get_triggerdef(oid)) INTO triggers
    FROM pg_trigger WHERE tgrelid = tbl::regclass AND NOT tgisinternal;
  SELECT array_agg(format('CREATE OR REPLACE VIEW %s%s AS %s', c.oid::regclass,
                          CASE WHEN c.reloptions IS NOT NULL THEN format(' WITH (%s)', array_to_string(c.reloptions, ', ')) END,
                          pg_get_viewdef(c.oid)))
    INTO views
    FROM pg_class c
   WHERE c.oid IN (SELECT rw.ev_class FROM pg_rewrite rw JOIN pg_depend d ON d.objid = rw.oid
                    WHERE d.refobjid = tbl::regclass AND rw.ev_class <> tbl::regclass);
  SELECT array_agg(pg_get_indexdef(i.indexrelid)) INTO indexes
    FROM pg_index i
   WHERE i.indrelid = tbl::regclass AND NOT i.indisprimary
     AND i.indexrelid IS DISTINCT FROM to_regclass(tbl || '_id_created');
  -- LIKE copies no privileges: each grant of the table and of its columns, as GRANT statements.
  SELECT array_agg(format('GRANT %s%s ON %I TO %s%s', a.privilege_type, g.columns, tbl,
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                          CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END))
    INTO grants
    FROM (SELECT c.relacl AS acl, '' AS columns FROM pg_class c WHERE c.oid = tbl::regclass
          UNION ALL
          SELECT t.attacl, format(' (%I)', t.attname) FROM pg_attribute t
           WHERE t.attrelid = tbl::regclass AND t.attacl IS NOT NULL AND NOT t.attisdropped) g,
         aclexplode(g.acl) a;

  FOR r IN SELECT tgname FROM pg_trigger WHERE tgrelid = tbl::regclass AND NOT tgisinternal LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', r.tgname, tbl);
  END LOOP;
  IF to_regclass(tbl || '_id_created') IS NULL THEN
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I (id, %I)', tbl || '_id_created', tbl, col);
  END IF;
  IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = tbl::regclass AND conname = hist || '_range') THEN
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I < %L)', tbl, hist || '_range', col, cutoff);
  ELSIF NOT (SELECT convalidated FROM pg_constraint WHERE conrelid = tbl::regclass AND conname = hist || '_range') THEN
    EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', tbl, hist || '_range');
  END IF;

  EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, hist);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', hist, tbl || '_pkey');
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I', hist, hist || '_pkey', tbl || '_id_created');
  -- Index names are unique per schema: the parent takes the old names.
  FOR r IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = hist::regclass AND NOT i.indisprimary LOOP
    EXECUTE format('ALTER INDEX %I RENAME TO %I', r.relname, hist || substr(r.relname, length(tbl) + 1));
  END LOOP;

  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE (%I)',
                 tbl, hist, col);
  EXECUTE format('ALTER TABLE %I OWNER TO %s', tbl, owner);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, hist || '_range');
  EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id, %I)', tbl, col);
  FOREACH s IN ARRAY coalesce(indexes, '{}') LOOP
    EXECUTE s;
  END LOOP;
  -- No scan (the validated CHECK implies the bound), and the history's indexes of the same
  -- definitions are adopted, not built.
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', tbl, hist, cutoff);
  IF ahead >= 0 THEN
    PERFORM ensure_month_partitions(tbl, cutoff, ahead);
  END IF;

  FOREACH s IN ARRAY coalesce(triggers, '{}') || coalesce(views, '{}') || coalesce(grants, '{}') LOOP
    EXECUTE s;
  END LOOP;
END $$;
