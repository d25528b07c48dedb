-- Demo data: the legacy tables of intelligence-events, as the campaign app writes them. @campaigns campaigns,
-- campaign i created i % @days days back (and a minute per lap, so more campaigns than days spread
-- over them), three tenants; campaign i has i % 4 agent tasks (every fifth failed) and, except every
-- sixth, two assets with a publish job each (every seventh with no impressions, every fifth with no
-- clicks). A KPI snapshot per tenant, metric and day. Ids are md5 of @run and the number: the tests
-- pass an empty @run and name campaign i md5('campaign' || i); demo-data passes its own.
INSERT INTO campaigns (id, tenant_id, name, metadata, created_at)
SELECT md5(@run || 'campaign' || i)::uuid, 'tenant-' || (i % 3), 'Campaign ' || @run || i,
       jsonb_build_object(
         'prompt', CASE WHEN i % 2 = 0 THEN 'Brief for campaign ' || i END,
         'agentTasks', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                          'taskId', 'task-' || @run || i || '-' || n, 'agentId', (ARRAY['Strategy','Copy','Visual','Video'])[1 + n % 4],
                          'assetId', md5(@run || 'asset' || i || '-1')::uuid, 'duration', 1000 + n * 10, 'tokensIn', 500 + n,
                          'tokensOut', 200 + n, 'cost', 0.01 * n, 'success', (i + n) % 5 <> 0, 'model', 'gpt-4o',
                          'completedAt', now() - make_interval(days => i % @days, mins => i / @days + n))), '[]'::jsonb)
                        FROM generate_series(1, i % 4) AS n)),
       now() - make_interval(days => i % @days, mins => i / @days) - interval '1 hour'
  FROM generate_series(0, @campaigns - 1) AS i;
INSERT INTO assets (id, campaign_id, kind, created_at)
SELECT md5(@run || 'asset' || i || '-' || a)::uuid, md5(@run || 'campaign' || i)::uuid, (ARRAY['post','image'])[a],
       now() - make_interval(days => i % @days)
  FROM generate_series(0, @campaigns - 1) AS i, generate_series(1, 2) AS a WHERE i % 6 <> 0;
INSERT INTO publish_jobs (asset_id, channel, impressions, clicks, conversions, published_at)
SELECT md5(@run || 'asset' || i || '-' || a)::uuid, (ARRAY['linkedin', 'x'])[a],
       CASE WHEN i % 7 = 0 THEN 0 ELSE 100 * a + i END, CASE WHEN i % 5 = 0 THEN 0 ELSE 10 + a END,
       CASE WHEN i % 5 = 0 THEN 1 ELSE a END, now() - make_interval(days => i % @days)
  FROM generate_series(0, @campaigns - 1) AS i, generate_series(1, 2) AS a WHERE i % 6 <> 0;
INSERT INTO kpi_snapshots (tenant_id, metric_name, metric_value, period, department, captured_at)
SELECT 'tenant-' || t, m.name, round((m.base * (1 + t) * (1 + 0.2 * sin(d / 7.0)))::numeric, 4)::float8, m.period, m.department,
       now() - make_interval(days => d) - interval '2 hours'
  FROM generate_series(0, @days - 1) AS d, generate_series(0, 2) AS t,
       (VALUES ('arr_run_rate', 120000.0, 'ytd', 'executive'), ('pipeline_velocity', 3500.0, '30d', 'sales'),
               ('win_rate', 0.22, 'qtd', 'sales'), ('content_ctr', 0.031, '7d', 'marketing')) AS m(name, base, period, department);
SELECT (SELECT count(*) FROM campaigns WHERE name LIKE 'Campaign ' || @run || '%') AS Campaigns,
       (SELECT count(*) FROM kpi_snapshots) AS KpiSnapshots;
