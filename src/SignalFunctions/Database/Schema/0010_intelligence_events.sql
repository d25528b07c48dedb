-- backfill-and-validation-plan.md: the Phase 4.5 tables as the app had them, and the Phase 5
-- Intelligence Core tables derived from them (migration intelligence-events).

-- Legacy. metadata holds the user's brief ("prompt") and the agent task log ("agentTasks": one
-- object per task with taskId, agentId, assetId, duration, tokensIn, tokensOut, cost, success,
-- model, completedAt).
CREATE TABLE campaigns (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id  text NOT NULL,
  name       text NOT NULL,
  metadata   jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- The backfill window and parity read campaigns by age.
CREATE INDEX campaigns_created ON campaigns (created_at);

CREATE TABLE assets (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  kind        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assets_campaign ON assets (campaign_id);

CREATE TABLE publish_jobs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  asset_id     uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  channel      text NOT NULL,
  status       text NOT NULL DEFAULT 'published',
  impressions  integer,
  clicks       integer,
  conversions  integer,
  published_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX publish_jobs_asset ON publish_jobs (asset_id);

CREATE TABLE kpi_snapshots (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    text NOT NULL,
  metric_name  text NOT NULL,
  metric_value double precision NOT NULL,
  period       text NOT NULL,
  department   text,
  captured_at  timestamptz NOT NULL DEFAULT now()
);

-- New (the plan's Prisma models). Ids of derived rows are UUID v5 of what they derive from, so a
-- re-run of the backfill finds the rows it wrote instead of adding copies.
CREATE TABLE intelligence_events (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_type  text NOT NULL,
  entity_type text NOT NULL,
  entity_id   text NOT NULL,
  payload     jsonb NOT NULL,
  severity    text NOT NULL DEFAULT 'info' CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info', 'debug')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  tenant_id   text NOT NULL
);
CREATE INDEX intelligence_events_tenant_type_created ON intelligence_events (tenant_id, event_type, created_at);
CREATE INDEX intelligence_events_entity ON intelligence_events (entity_type, entity_id);
CREATE INDEX intelligence_events_severity_created ON intelligence_events (severity, created_at);
-- Parity and repair find a campaign's agent task events by it.
CREATE INDEX intelligence_events_campaign ON intelligence_events ((payload ->> 'campaignId'));

-- No foreign key to campaigns: Phase 5 writers fill it too, and the plan checks for orphans
-- instead (validation rule orphaned_prompt_performance).
CREATE TABLE prompt_performance (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  campaign_id      uuid NOT NULL,
  prompt_text      text NOT NULL,
  variant_id       text,
  impressions      integer NOT NULL DEFAULT 0,
  clicks           integer NOT NULL DEFAULT 0,
  conversions      integer NOT NULL DEFAULT 0,
  ctr              double precision NOT NULL DEFAULT 0,
  cvr              double precision NOT NULL DEFAULT 0,
  avg_time_on_page double precision,
  bounce_rate      double precision,
  reward_score     double precision NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prompt_performance_campaign_reward ON prompt_performance (campaign_id, reward_score);
CREATE INDEX prompt_performance_variant ON prompt_performance (variant_id);

CREATE TABLE kpi_history (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  metric_name  text NOT NULL,
  metric_value double precision NOT NULL,
  period       text NOT NULL,
  department   text,
  metadata     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  tenant_id    text NOT NULL
);
CREATE INDEX kpi_history_tenant_metric_created ON kpi_history (tenant_id, metric_name, created_at);
CREATE INDEX kpi_history_period_department ON kpi_history (period, department);

-- Filled by Phase 5 only: the plan has no legacy source for it.
CREATE TABLE agent_feedback (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  agent_type    text NOT NULL,
  task_id       text NOT NULL,
  feedback_type text NOT NULL,
  rating        integer CHECK (rating BETWEEN 1 AND 5),
  comment       text,
  action_taken  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text NOT NULL
);
CREATE INDEX agent_feedback_agent_created ON agent_feedback (agent_type, created_at);
CREATE INDEX agent_feedback_task ON agent_feedback (task_id);

ALTER TABLE campaigns ADD COLUMN prompt text;

INSERT INTO stage_flags (migration, stage) VALUES ('intelligence-events', 'off') ON CONFLICT DO NOTHING;

-- The plan's derivation, one campaign at a time, as rows of the new tables: the backfill, the
-- capture trigger, repair and parity all use these, so they cannot disagree about it.
-- UUID v5 namespace of derived ids: uuid_generate_v5(uuid_ns_url(), 'signalfunctions:intelligence-events').
CREATE FUNCTION intelligence_id(what text) RETURNS uuid LANGUAGE sql IMMUTABLE
  AS $$ SELECT uuid_generate_v5('8f5c7b52-3d0e-5e4c-9a47-6c7e1f0b2d11'::uuid, what) $$;

-- One AgentTaskCompleted event per entry of metadata.agentTasks; severity info when the task
-- succeeded, high otherwise (the plan's task.success ? 'info' : 'high').
CREATE FUNCTION campaign_agent_events(c campaigns) RETURNS SETOF intelligence_events LANGUAGE sql STABLE AS $$
  SELECT intelligence_id(c.id::text || '/task/' || a.n), 'AgentTaskCompleted', 'agent',
         coalesce(a.task ->> 'agentId', 'unknown'),
         jsonb_build_object('campaignId', c.id, 'assetId', a.task -> 'assetId', 'duration', a.task -> 'duration',
                            'tokensIn', a.task -> 'tokensIn', 'tokensOut', a.task -> 'tokensOut', 'cost', a.task -> 'cost',
                            'success', a.task -> 'success', 'model', a.task -> 'model'),
         CASE WHEN a.task -> 'success' = 'true'::jsonb THEN 'info' ELSE 'high' END,
         coalesce((a.task ->> 'completedAt')::timestamptz, c.created_at),
         c.tenant_id
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.metadata -> 'agentTasks') = 'array'
                                   THEN c.metadata -> 'agentTasks' ELSE '[]'::jsonb END) WITH ORDINALITY AS a(task, n)
$$;

-- One row per campaign whose publish jobs had impressions; ctr = clicks / impressions, cvr =
-- conversions / clicks (over 1 when there were no clicks, as the plan's clicks || 1).
CREATE FUNCTION campaign_prompt_performance(c campaigns) RETURNS SETOF prompt_performance LANGUAGE sql STABLE AS $$
  SELECT intelligence_id(c.id::text || '/performance'), c.id,
         coalesce(c.metadata ->> 'prompt', 'Legacy campaign (no prompt recorded)'), NULL::text,
         j.impressions, j.clicks, j.conversions,
         j.clicks::double precision / j.impressions,
         j.conversions::double precision / coalesce(nullif(j.clicks, 0), 1),
         NULL::double precision, NULL::double precision, 0::double precision, c.created_at, c.created_at
    FROM (SELECT coalesce(sum(p.impressions), 0)::integer AS impressions, coalesce(sum(p.clicks), 0)::integer AS clicks,
                 coalesce(sum(p.conversions), 0)::integer AS conversions
            FROM assets a JOIN publish_jobs p ON p.asset_id = a.id
           WHERE a.campaign_id = c.id) j
   WHERE j.impressions > 0
$$;

-- Makes the derived rows of the campaigns ids what their legacy rows say now (inserting, updating
-- only what changed, deleting what no longer derives); returns the campaigns that exist.
CREATE FUNCTION sync_campaign_intelligence(ids uuid[]) RETURNS SETOF uuid LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM intelligence_events e
   WHERE e.event_type = 'AgentTaskCompleted' AND e.payload ->> 'campaignId' = ANY(ids::text[])
     AND NOT EXISTS (SELECT 1 FROM campaigns c CROSS JOIN LATERAL campaign_agent_events(c) x WHERE c.id = ANY(ids) AND x.id = e.id);
  INSERT INTO intelligence_events AS e
  SELECT x.* FROM campaigns c CROSS JOIN LATERAL campaign_agent_events(c) x WHERE c.id = ANY(ids)
  ON CONFLICT (id) DO UPDATE SET event_type = EXCLUDED.event_type, entity_type = EXCLUDED.entity_type, entity_id = EXCLUDED.entity_id,
    payload = EXCLUDED.payload, severity = EXCLUDED.severity, created_at = EXCLUDED.created_at, tenant_id = EXCLUDED.tenant_id
   WHERE e IS DISTINCT FROM EXCLUDED;

  DELETE FROM prompt_performance p
   WHERE p.id IN (SELECT intelligence_id(i::text || '/performance') FROM unnest(ids) AS i)
     AND NOT EXISTS (SELECT 1 FROM campaigns c CROSS JOIN LATERAL campaign_prompt_performance(c) x WHERE c.id = ANY(ids) AND x.id = p.id);
  INSERT INTO prompt_performance AS p
  SELECT x.* FROM campaigns c CROSS JOIN LATERAL campaign_prompt_performance(c) x WHERE c.id = ANY(ids)
  ON CONFLICT (id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id, prompt_text = EXCLUDED.prompt_text,
    impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, conversions = EXCLUDED.conversions, ctr = EXCLUDED.ctr,
    cvr = EXCLUDED.cvr, created_at = EXCLUDED.created_at, updated_at = now()
   WHERE (p.campaign_id, p.prompt_text, p.impressions, p.clicks, p.conversions, p.ctr, p.cvr, p.created_at)
         IS DISTINCT FROM (EXCLUDED.campaign_id, EXCLUDED.prompt_text, EXCLUDED.impressions, EXCLUDED.clicks,
                           EXCLUDED.conversions, EXCLUDED.ctr, EXCLUDED.cvr, EXCLUDED.created_at);

  UPDATE campaigns c SET prompt = c.metadata ->> 'prompt'
   WHERE c.id = ANY(ids) AND c.prompt IS DISTINCT FROM c.metadata ->> 'prompt';
  RETURN QUERY SELECT c.id FROM campaigns c WHERE c.id = ANY(ids);
END
$$;
