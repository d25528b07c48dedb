using SignalFunctions.Stages;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>
/// backfill-and-validation-plan.md: the Phase 4.5 campaigns (agent task logs in metadata, publish
/// jobs of their assets) derived into the Phase 5 Intelligence Core: one intelligence_events row
/// per agent task, one prompt_performance row per campaign with impressions, campaigns.prompt.
///
/// The key is the campaign: everything derived hangs off one, so the migration's "target" row for
/// campaign c is c's derived rows (campaigns is both source and target, as in click-events), and
/// parity compares what c's legacy rows say they should be with what the new tables hold. The
/// derivation itself is SQL in schema 0010 (campaign_agent_events, campaign_prompt_performance,
/// sync_campaign_intelligence), so the backfill, the capture, repair and parity share one copy.
///
/// The backfill covers the campaigns created within the last windowDays days (the argument
/// Migrations:Arguments:intelligence-events:windowDays, default the plan's 90); parity compares the
/// same window. Re-running it changes nothing: derived rows
/// have ids of what they derive from, and the sync writes only what differs.
///
/// The Phase 4.5 app keeps writing campaigns, assets and publish jobs until the cut-over, so a
/// capture trigger on the three re-derives the campaigns each of its statements touches. Cut-over
/// renames nothing: the plan keeps the legacy tables as they are (its rollback is "revert the
/// code, the schema stays"); it only ends the capture, Phase 5 writing the new tables itself.
///
/// KPI snapshots are a tenant's, not a campaign's: kpi-history (<see cref="KpiHistoryMigration"/>)
/// copies them to kpi_history, with the negative_kpi_values rule.
/// </summary>
public static class IntelligenceEventsMigration
{
    private const string InWindow = "created_at >= now() - make_interval(days => @windowDays)";

    private const string EventImage = "ROW(e.id, e.event_type, e.entity_type, e.entity_id, e.payload, e.severity, e.created_at, e.tenant_id)::text";

    // updated_at says when the row was written, not what it holds.
    private const string PerformanceImage =
        "ROW(p.id, p.campaign_id, p.prompt_text, p.variant_id, p.impressions, p.clicks, p.conversions, p.ctr, p.cvr, p.reward_score, p.created_at)::text";

    private const string DerivedEvents = "e.event_type = 'AgentTaskCompleted' AND e.payload ? 'campaignId'";

    private static readonly (string Install, string Remove) Capture = CaptureTrigger.Build(
        KnownMigrations.IntelligenceEvents, "campaigns_capture",
        [
            new CapturedTable("campaigns", rows => $"SELECT r.id::text FROM {rows} r"),
            new CapturedTable("assets", rows => $"SELECT r.campaign_id::text FROM {rows} r"),
            // A cascaded delete has removed the asset already; the asset's own trigger names the campaign.
            new CapturedTable("publish_jobs", rows => $"SELECT a.campaign_id::text FROM {rows} r JOIN assets a ON a.id = r.asset_id"),
        ],
        "PERFORM sync_campaign_intelligence(keys::uuid[])");

    private const string Sync = "SELECT count(*) FROM sync_campaign_intelligence(@keys::uuid[])";

    /// <summary>The plan's "last 90 days", by a campaign's created_at.</summary>
    public static readonly MigrationArgument WindowDays = new("windowDays", 90, 1, 36_500,
        "how many days back intelligence-events backfills and compares campaigns, by created_at");

    public static readonly DataMigration Declaration = new()
    {
        Name = KnownMigrations.IntelligenceEvents,
        Arguments = [WindowDays],
        Source = "campaigns",
        Target = "campaigns",
        Key = "id",
        KeyType = "uuid",
        CopyBatchSql = "SELECT 1 FROM sync_campaign_intelligence(ARRAY(SELECT s.id FROM batch s))",
        SourceFilter = "s." + InWindow,
        TargetFilter = "t." + InWindow,
        SourceImage = $"""
            ROW(s.id, s.metadata ->> 'prompt',
                ARRAY(SELECT {EventImage} FROM campaign_agent_events(s) e ORDER BY e.id),
                ARRAY(SELECT {PerformanceImage} FROM campaign_prompt_performance(s) p))::text
            """,
        TargetImage = $"""
            ROW(t.id, t.prompt,
                ARRAY(SELECT {EventImage} FROM intelligence_events e WHERE e.payload ->> 'campaignId' = t.id::text AND {DerivedEvents} ORDER BY e.id),
                ARRAY(SELECT {PerformanceImage} FROM prompt_performance p WHERE p.id = intelligence_id(t.id::text || '/performance')))::text
            """,
        UpsertTargetSql = Sync,
        // The legacy side is never derived back: it is the only record until the cut-over (the
        // capture makes repair trust it at every stage), and an agent log cannot be rebuilt from events.
        UpsertSourceSql = "SELECT 1 WHERE false",
        DeleteTargetSql = Sync,
        DeleteSourceSql = "SELECT 1 WHERE false",
        Rules =
        [
            new("orphaned_prompt_performance", RuleSeverity.Error,
                "SELECT count(*) FROM prompt_performance p WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = p.campaign_id)",
                "Prompt performance rows whose campaign does not exist."),
            new("future_dated_events", RuleSeverity.Error,
                "SELECT count(*) FROM intelligence_events WHERE created_at > now() + interval '5 minutes'",
                "Intelligence events dated more than 5 minutes ahead of the database clock."),
            new("unreadable_task_timestamps", RuleSeverity.Error,
                $"""
                SELECT count(*) FROM campaigns c,
                       jsonb_array_elements(CASE WHEN jsonb_typeof(c.metadata -> 'agentTasks') = 'array' THEN c.metadata -> 'agentTasks' ELSE '[]' END) a(task)
                 WHERE c.{InWindow} AND NOT is_timestamptz(a.task ->> 'completedAt')
                """,
                "Agent tasks whose completedAt is not a timestamp: deriving their campaign's events fails, so the backfill and parity stall on it. Fix or remove the value."),
        ],
        InstallCaptureSql = Capture.Install,
        RemoveCaptureSql = Capture.Remove,
        CutoverSql = "SELECT 1",
        RollbackSql = "SELECT 1",
        // The old tables stay in use and the rollback copies nothing back.
        DeletesRecordedOn = [],
        CutoverSummary = "capture removed; the legacy tables stay as they are (the plan keeps them), Phase 5 writes intelligence_events, prompt_performance and campaigns.prompt itself.",
        RollbackSummary = "capture reinstalled: Phase 4.5 writes are derived again; run parity and repair to re-derive what changed meanwhile.",
        ResetSql = $"""
            DELETE FROM intelligence_events e WHERE {DerivedEvents};
            DELETE FROM prompt_performance p WHERE p.id = intelligence_id(p.campaign_id::text || '/performance');
            UPDATE campaigns SET prompt = NULL WHERE prompt IS NOT NULL
            """,
        LegacyTables = ["campaigns", "assets", "publish_jobs"],
        NewTables = ["intelligence_events", "prompt_performance"],
    };
}
