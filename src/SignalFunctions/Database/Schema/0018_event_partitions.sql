-- signal_events partitioned by month on created_at (event time, equal on both sides of a migration,
-- so parity and retention can slice both alike). The primary key must hold the partition key, so it
-- becomes (id, created_at); signal_event_first_seen keeps "a repeated id is stored once" for ids a
-- client sends without a time (Ingest/SignalEventWriter.cs). There is no default partition: PostgreSQL
-- refuses DETACH … CONCURRENTLY beside one, and attaching next to it locks and scans it. Months are
-- made ahead, on demand, and everything older than the conversion lies in one MINVALUE partition.

-- The bounds of each partition of tbl; NULL lower = MINVALUE, NULL upper = MAXVALUE.
CREATE FUNCTION partition_bounds(tbl text)
RETURNS TABLE (partition text, lower_bound timestamptz, upper_bound timestamptz, detach_pending boolean)
LANGUAGE sql STABLE AS $$
  SELECT c.relname::text,
         (regexp_match(pg_get_expr(c.relpartbound, c.oid), $r$FROM \('([^']+)'\)$r$))[1]::timestamptz,
         (regexp_match(pg_get_expr(c.relpartbound, c.oid), $r$TO \('([^']+)'\)$r$))[1]::timestamptz,
         i.inhdetachpending
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = tbl::regclass
$$;

-- Makes [lo, hi) a partition of tbl named by its lower bound. LIKE + ATTACH, not PARTITION OF: ATTACH
-- takes SHARE UPDATE EXCLUSIVE on the parent, so inserts and reads go on; PARTITION OF would take
-- ACCESS EXCLUSIVE. An empty table of that name left unattached by an earlier try is attached now;
-- one holding rows (a retired partition not yet archived) is never taken back silently.
CREATE FUNCTION attach_new_partition(tbl text, lo timestamptz, hi timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  name text := tbl || '_p' || CASE
    WHEN lo = date_trunc('month', lo, 'UTC') AND hi = date_trunc('month', hi, 'UTC')
      THEN to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM')
    ELSE to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD"t"HH24MISS') END;
  holds_rows boolean;
BEGIN
  IF to_regclass(name) IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT FROM %I)', name) INTO holds_rows;
    IF holds_rows THEN
      RAISE EXCEPTION 'table % exists outside the partitions of % and holds rows', name, tbl
        USING HINT = 'Archive or drop it (./run.sh partitions retire), or attach it by hand if its rows belong back.';
    END IF;
  END IF;
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)',
                 name, tbl);
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', tbl, name, lo, hi);
END $$;

-- Makes each part of [lo, hi) that no partition covers a partition of its own (a unit is only partly
-- covered after Events__PartitionMonths changed, or beside a test's split). Returns how many it made.
-- Callers making the same month at once (two instances' writers) queue on a lock held to their
-- commit, so the second finds it made instead of failing on the name.
CREATE FUNCTION ensure_partition(tbl text, lo timestamptz, hi timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  cur timestamptz := lo;
  made int := 0;
  b record;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('ensure_partition ' || tbl));
  FOR b IN SELECT lower_bound, upper_bound FROM partition_bounds(tbl)
            WHERE coalesce(lower_bound < hi, true) AND coalesce(upper_bound > lo, true)
            ORDER BY lower_bound NULLS FIRST LOOP
    IF b.lower_bound > cur THEN
      PERFORM attach_new_partition(tbl, cur, b.lower_bound);
      made := made + 1;
    END IF;
    cur := greatest(cur, coalesce(b.upper_bound, 'infinity'));
  END LOOP;
  IF cur < hi THEN
    PERFORM attach_new_partition(tbl, cur, hi);
    made := made + 1;
  END IF;
  RETURN made;
END $$;

-- The month holding from and the next `ahead` months, each made a partition when none covers it.
-- Returns how many were attached.
CREATE FUNCTION ensure_month_partitions(tbl text, from_time timestamptz, ahead int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  m timestamptz := date_trunc('month', from_time, 'UTC');
  made int := 0;
BEGIN
  FOR i IN 0..ahead LOOP
    made := made + ensure_partition(tbl, m + make_interval(months => i), m + make_interval(months => i + 1));
  END LOOP;
  RETURN made;
END $$;

-- Turns tbl, a plain table keyed by id, into a table partitioned by range on col in place: the old
-- table becomes tbl_history FOR VALUES FROM (MINVALUE) TO (cutoff), and months from cutoff on are made.
-- Nothing is copied. For a large table an operator first builds UNIQUE INDEX tbl_id_created (id, col)
-- CONCURRENTLY and a validated CHECK tbl_history_range (col < cutoff); when missing they are made here
-- (instant on an empty table). Triggers and views on tbl are moved to the new parent.
-- It keeps privileges (PUBLIC, WITH GRANT OPTION, column grants), the owner and views' options;
-- validates a CHECK tbl_history_range left NOT VALID before the ATTACH (which would otherwise scan
-- the table under the lock); with ahead < 0 makes no month (`partitions convert` makes them after,
-- each in its own short transaction, so the swap holds its lock for catalog work only); and refuses
-- a materialized view over tbl, which would stay bound to the history.
CREATE FUNCTION partition_in_place(tbl text, col text, cutoff timestamptz, ahead int) RETURNS void
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

-- A row trigger on a partitioned table is cloned to each partition, where TG_TABLE_NAME names the
-- partition; the rollback looks for the table the cut-over guards, which is the partition tree's root
-- (pg_partition_root is NULL for a plain table, which is its own).
CREATE OR REPLACE FUNCTION record_cutover_rekey() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('INSERT INTO cutover_deletes (migration, table_name, key) VALUES (%L, %L, ($1).%I::text) ON CONFLICT DO NOTHING',
                 TG_ARGV[0], (SELECT relname FROM pg_class WHERE oid = coalesce(pg_partition_root(TG_RELID), TG_RELID)), TG_ARGV[1]) USING OLD;
  RETURN NULL;
END
$$;

-- The first time the server saw each client id sent without occurred_at: a retry takes that time,
-- so it carries the same (id, created_at) and is a duplicate again. Rows go with their partition.
CREATE TABLE signal_event_first_seen (
  id         uuid PRIMARY KEY,
  created_at timestamptz NOT NULL
);
CREATE INDEX signal_event_first_seen_created ON signal_event_first_seen (created_at);

-- The stored time of each id, recording the given one for ids not seen before. DISTINCT ON: one group
-- may carry an id twice, and DO UPDATE may touch a row once per statement. ORDER BY id: concurrent
-- writers lock in the same order, so they cannot deadlock. The no-op DO UPDATE makes RETURNING yield
-- the stored row.
CREATE FUNCTION signal_event_times(ids uuid[], times timestamptz[])
RETURNS TABLE (id uuid, created_at timestamptz) LANGUAGE sql AS $$
  INSERT INTO signal_event_first_seen AS f (id, created_at)
  SELECT DISTINCT ON (u.id) u.id, u.t FROM unnest(ids, times) u(id, t) ORDER BY u.id, u.t
  ON CONFLICT (id) DO UPDATE SET id = f.id
  RETURNING f.id, f.created_at
$$;

-- A database that already holds events is converted online instead (./run.sh partitions convert).
DO $$
BEGIN
  LOCK TABLE signal_events IN ACCESS EXCLUSIVE MODE;
  IF NOT EXISTS (SELECT FROM signal_events) THEN
    PERFORM partition_in_place('signal_events', 'created_at', date_trunc('month', now(), 'UTC'), 3);
  END IF;
END $$;
