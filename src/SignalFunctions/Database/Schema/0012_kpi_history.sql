-- backfill-and-validation-plan.md step 3: KPI snapshots → KPIHistory (migration kpi-history).
-- A snapshot is a tenant's metric for a period, not a campaign's, so it cannot ride on the
-- campaign-keyed intelligence-events: it is its own migration, keyed by the snapshot's id, which
-- the kpi_history row keeps. Copied rows say so in metadata; rows Phase 5 writes itself do not,
-- and parity, reset and the sync leave those alone.

INSERT INTO stage_flags (migration, stage) VALUES ('kpi-history', 'off') ON CONFLICT DO NOTHING;

CREATE INDEX kpi_snapshots_captured ON kpi_snapshots (captured_at);

-- Makes the kpi_history rows of the snapshots ids what the snapshots say now (inserting, updating
-- only what changed, deleting the copies of snapshots that are gone); returns the snapshots that exist.
CREATE FUNCTION sync_kpi_history(ids uuid[]) RETURNS SETOF uuid LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM kpi_history t WHERE t.id = ANY(ids) AND t.metadata @> '{"source": "kpi_snapshots"}'
     AND NOT EXISTS (SELECT 1 FROM kpi_snapshots s WHERE s.id = t.id);
  INSERT INTO kpi_history AS t (id, metric_name, metric_value, period, department, metadata, created_at, tenant_id)
  SELECT s.id, s.metric_name, s.metric_value, s.period, s.department, '{"source": "kpi_snapshots"}'::jsonb, s.captured_at, s.tenant_id
    FROM kpi_snapshots s WHERE s.id = ANY(ids)
  ON CONFLICT (id) DO UPDATE SET metric_name = EXCLUDED.metric_name, metric_value = EXCLUDED.metric_value, period = EXCLUDED.period,
    department = EXCLUDED.department, metadata = EXCLUDED.metadata, created_at = EXCLUDED.created_at, tenant_id = EXCLUDED.tenant_id
   WHERE t IS DISTINCT FROM EXCLUDED;
  RETURN QUERY SELECT s.id FROM kpi_snapshots s WHERE s.id = ANY(ids);
END
$$;
