using SignalFunctions.Stages;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>
/// backfill-and-validation-plan.md step 3: the Phase 4.5 kpi_snapshots copied to the Phase 5
/// kpi_history, one row per snapshot under the snapshot's id. Its own migration beside
/// intelligence-events rather than part of it: a snapshot belongs to a tenant, not to a campaign,
/// so it has no place under that migration's campaign key. The copy is sync_kpi_history (schema
/// 0012), shared by the backfill, the capture and repair.
///
/// A window as in intelligence-events, by captured_at, with its own argument
/// (Migrations:Arguments:kpi-history:windowDays, default 90; set both to move both), and,
/// as there, the plan keeps the legacy table: cut-over only ends the capture. Rows Phase 5 writes
/// to kpi_history itself carry no "source" in metadata; parity and reset leave them alone.
/// </summary>
public static class KpiHistoryMigration
{
    private const string Copied = """t.metadata @> '{"source": "kpi_snapshots"}'""";

    private static readonly (string Install, string Remove) Capture = CaptureTrigger.Build(
        KnownMigrations.KpiHistory, "kpi_snapshots_capture",
        [new CapturedTable("kpi_snapshots", rows => $"SELECT r.id::text FROM {rows} r", OnTruncate: $"DELETE FROM kpi_history t WHERE {Copied}")],
        "PERFORM sync_kpi_history(keys::uuid[])");

    private const string Sync = "SELECT count(*) FROM sync_kpi_history(@keys::uuid[])";

    public static readonly MigrationArgument WindowDays = new("windowDays", 90, 1, 36_500,
        "how many days back kpi-history backfills and compares snapshots, by captured_at");

    public static readonly DataMigration Declaration = new()
    {
        Name = KnownMigrations.KpiHistory,
        Arguments = [WindowDays],
        Source = "kpi_snapshots",
        Target = "kpi_history",
        Key = "id",
        KeyType = "uuid",
        CopyBatchSql = "SELECT 1 FROM sync_kpi_history(ARRAY(SELECT s.id FROM batch s))",
        SourceFilter = "s.captured_at >= now() - make_interval(days => @windowDays)",
        TargetFilter = $"{Copied} AND t.created_at >= now() - make_interval(days => @windowDays)",
        SourceImage = "ROW(s.id, s.metric_name, s.metric_value, s.period, s.department, s.captured_at, s.tenant_id)::text",
        TargetImage = "ROW(t.id, t.metric_name, t.metric_value, t.period, t.department, t.created_at, t.tenant_id)::text",
        UpsertTargetSql = Sync,
        DeleteTargetSql = Sync,
        // The Phase 4.5 app writes kpi_snapshots until the cut-over: repair trusts it and never copies towards it.
        UpsertSourceSql = "SELECT 1 WHERE false",
        DeleteSourceSql = "SELECT 1 WHERE false",
        Rules =
        [
            new("negative_kpi_values", RuleSeverity.Warning,
                "SELECT count(*) FROM kpi_history WHERE metric_value < 0",
                "KPI values below zero (may be valid, e.g. a falling run rate)."),
        ],
        InstallCaptureSql = Capture.Install,
        RemoveCaptureSql = Capture.Remove,
        CutoverSql = "SELECT 1",
        RollbackSql = "SELECT 1",
        // The old table stays in use and the rollback copies nothing back.
        DeletesRecordedOn = [],
        CutoverSummary = "capture removed; kpi_snapshots stays as it is (the plan keeps it), Phase 5 writes kpi_history itself.",
        RollbackSummary = "capture reinstalled: Phase 4.5 snapshots are copied again; run parity and repair to copy what changed meanwhile.",
        ResetSql = $"DELETE FROM kpi_history t WHERE {Copied}",
    };
}
