namespace SignalFunctions.Migrations;

/// <summary>
/// One data migration, declared once: the engine backfills, compares, repairs, gates, cuts over
/// and rolls back every migration the same way from these statements. Adding a migration adds a
/// declaration, not engine code.
///
/// SQL conventions. Key ranges are keyset bounds on <see cref="Key"/> (same name on both sides):
/// <c>@after</c> exclusive (null for the start), <c>@upto</c> inclusive. Key lists are <c>@keys</c>
/// (text[]; cast them). Source rows are aliased <c>s</c>, target rows <c>t</c>. Every statement the
/// engine runs with parameters (copy, filters, images, upserts and deletes, rules) may also read
/// the values of <see cref="MigrationOptions.SqlArguments"/>, e.g. <c>@maxEventsPerClick</c>, and
/// its own <see cref="Arguments"/>, e.g. <c>@windowDays</c>; DDL (capture, cut-over, rollback)
/// takes no parameters.
/// </summary>
public sealed record DataMigration
{
    /// <summary>The stage flag's name, e.g. "signal-events".</summary>
    public required string Name { get; init; }

    public required string Source { get; init; }
    public required string Target { get; init; }

    /// <summary>The key column, present in both tables with the same values.</summary>
    public required string Key { get; init; }

    /// <summary>The key's SQL type ("uuid", "bigint"), for casting checkpoints and key lists.</summary>
    public required string KeyType { get; init; }

    /// <summary>
    /// Copies the rows of the CTE <c>batch</c> (source rows, <c>SELECT * FROM Source</c>) to the
    /// target, idempotently, ending in <c>RETURNING 1</c>; e.g. INSERT … SELECT … FROM batch s ON
    /// CONFLICT DO NOTHING RETURNING 1.
    /// </summary>
    public required string CopyBatchSql { get; init; }

    /// <summary>
    /// For a source row that fans out to several tables: data-modifying statements the backfill runs
    /// before <see cref="CopyBatchSql"/>, in the same statement, as CTEs named by their
    /// <see cref="CopyStep.Name"/>. Each may read <c>batch</c> and the RETURNING rows of the steps
    /// before it (a child table's INSERT joins its parent's returned ids); CopyBatchSql then returns
    /// one row per source row copied, e.g. <c>SELECT 1 FROM facts</c>. Empty for one target table.
    /// </summary>
    public IReadOnlyList<CopyStep> CopyBatchSteps { get; init; } = [];

    /// <summary>
    /// When one unit's rows are spread over several tables, any of which may hold it alone: a FROM
    /// item (a parenthesised query) yielding one row per unit key of the old side, e.g. the UNION of
    /// every old table's keys. The backfill walks it and parity compares it instead of
    /// <see cref="Source"/>, so a unit <see cref="Source"/> lacks is still copied and compared
    /// (<c>batch</c> then holds its rows, and the images read the tables themselves). The engine
    /// cannot hold such rows against deletes (FOR KEY SHARE takes no UNION): with a capture, the
    /// copy must lock them itself. Null: <see cref="Source"/>.
    /// </summary>
    public string? SourceRows { get; init; }

    /// <summary>The new side's counterpart of <see cref="SourceRows"/>, for parity; null: <see cref="Target"/>.</summary>
    public string? TargetRows { get; init; }

    /// <summary>What the backfill, parity and repair read as the source (aliased s).</summary>
    public string SourceFrom => SourceRows ?? Source;

    /// <summary>What parity and repair read as the target (aliased t).</summary>
    public string TargetFrom => TargetRows ?? Target;

    /// <summary>Which source rows belong to the migration (a WHERE condition on s); null for all.</summary>
    public string? SourceFilter { get; init; }

    /// <summary>Which target rows have a source counterpart (a condition on t); null for all.</summary>
    public string? TargetFilter { get; init; }

    /// <summary>A text expression over s: the row as the target should hold it, for parity.</summary>
    public required string SourceImage { get; init; }

    /// <summary>A text expression over t, comparable to <see cref="SourceImage"/>.</summary>
    public required string TargetImage { get; init; }

    /// <summary>A timestamptz expression over t: rows written within the fence are not compared.</summary>
    public string? TargetChangedAt { get; init; }

    /// <summary>
    /// A timestamptz expression over s: the row's time, equal to <see cref="TargetTime"/> of its copy.
    /// With a target partitioned on that time, parity compares one partition at a time, and the first
    /// backfill run makes the partitions the rows need. Null: neither (parity refuses a partition).
    /// </summary>
    public string? SourceTime { get; init; }

    /// <summary>The target's partition key as an expression over t, e.g. <c>t.created_at</c>; see <see cref="SourceTime"/>.</summary>
    public string? TargetTime { get; init; }

    /// <summary>
    /// Makes the target rows for @keys equal to the source rows (insert or update). Also what a
    /// queued <see cref="RepairJob.SyncKeyOperation"/> entry for the new side replays.
    /// </summary>
    public required string UpsertTargetSql { get; init; }

    /// <summary>Makes the source rows for @keys equal to the target rows, when the new side is authoritative.</summary>
    public required string UpsertSourceSql { get; init; }

    /// <summary>Deletes target rows for @keys that the source no longer has.</summary>
    public required string DeleteTargetSql { get; init; }

    /// <summary>Deletes source rows for @keys that the target no longer has.</summary>
    public required string DeleteSourceSql { get; init; }

    public IReadOnlyList<ValidationRule> Rules { get; init; } = [];

    /// <summary>This declaration's own settings, bound from configuration (see <see cref="MigrationArgument"/>).</summary>
    public IReadOnlyList<MigrationArgument> Arguments { get; init; } = [];

    /// <summary>What readers of the new side read besides its tables (see <see cref="DeclaredView"/>).</summary>
    public IReadOnlyList<DeclaredView> Views { get; init; } = [];

    /// <summary>
    /// For tables outside writers fill: a trigger on the source mirroring inserts, updates and
    /// deletes into the target in the writer's transaction, installed from dual_write until the
    /// cut-over (which makes the old name a view over the target, so those writers reach the target
    /// directly). Those writers keep writing the source until then, whatever the stage, so repair
    /// trusts the source. Null when this app does all the writing (and dual-writes itself).
    /// Runs on every backfill tick: it must be idempotent and cheap when already installed.
    /// </summary>
    public string? InstallCaptureSql { get; init; }

    /// <summary>Removes the capture; a cheap no-op when there is none (also runs on every tick).</summary>
    public string? RemoveCaptureSql { get; init; }

    /// <summary>The seed's view pattern: old table renamed to *_backup, a view with the old name over the target.</summary>
    public required string CutoverSql { get; init; }

    /// <summary>
    /// Undoes <see cref="CutoverSql"/> exactly, first bringing the backup up to date from the target.
    /// A backup row the target lacks goes only when it was deleted there while cut over
    /// (<see cref="CutoverDeletes.WasDeleted"/>): one only the old side has stays, for parity and repair.
    /// </summary>
    public required string RollbackSql { get; init; }

    /// <summary>
    /// The new tables <see cref="RollbackSql"/> copies back from, each with the column holding the
    /// key: while cut over the engine records the keys deleted from them and refuses TRUNCATE on them
    /// (<see cref="CutoverDeletes"/>). By default every one of <see cref="NewTables"/> (or
    /// <see cref="Target"/>) under <see cref="Key"/>; empty when the rollback copies nothing back.
    /// </summary>
    public IReadOnlyList<KeyedTable> DeletesRecordedOn
    {
        get => field ?? [.. (NewTables ?? [Target]).Select(t => new KeyedTable(t, Key))];
        init;
    }

    /// <summary>
    /// Empties the new side of what the backfill and the capture put there (rows that live only on
    /// the new side stay), so `reset` can redo the backfill from scratch before the new side is
    /// read; null when the declaration cannot tell them apart, and reset refuses.
    /// </summary>
    public string? ResetSql { get; init; }

    /// <summary>Every table of the old side, for health; just <see cref="Source"/> unless declared.</summary>
    public IReadOnlyList<string>? LegacyTables { get; init; }

    /// <summary>Every table of the new side, for health; just <see cref="Target"/> unless declared. Its <see cref="Views"/> are added.</summary>
    public IReadOnlyList<string>? NewTables { get; init; }

    public IReadOnlyList<string> TablesOf(Stages.Side side) => side == Stages.Side.Legacy
        ? LegacyTables ?? [Source]
        : [.. (NewTables ?? [Target]).Concat(Views.Select(v => v.Name)).Distinct()];

    /// <summary>What <see cref="CutoverSql"/> did, in a sentence for the operator; null for the view pattern.</summary>
    public string? CutoverSummary { get; init; }

    /// <summary>What the cut-over did, as the operator reads it: <see cref="CutoverSummary"/>, else the view pattern's sentence.</summary>
    public string CutoverDescription => CutoverSummary ?? $"{Source} renamed to {Source}_backup; {Source} is now a view over {Target}.";

    /// <summary>What <see cref="RollbackSql"/> did, in a sentence for the operator; null for the view pattern.</summary>
    public string? RollbackSummary { get; init; }
}
