using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Hosting;
using SignalFunctions.Migrations;

namespace SignalFunctions.Partitions;

/// <summary>
/// Retires signal_events' partitions past Events__RetentionMonths: DETACH … CONCURRENTLY (ingest and
/// reads go on; it waits for older snapshots, such as a long parity run), then optionally an archive
/// to a compressed file, then DROP of the standalone table. Each step is recorded in
/// partition_archives first, so a run that dies resumes where it stopped. One run at a time across
/// instances and verbs (a job lock), and none while a migration still needs the rows (RetentionGate).
/// </summary>
public sealed partial class PartitionRetention(
    NpgsqlDataSource dataSource, IStageFlagStore flags, IOptions<EventsOptions> options, ILogger<PartitionRetention> logger)
{
    private const string Job = "retention";
    private const string Table = EventPartitions.Table;

    private EventsOptions Settings => options.Value;

    /// <summary>What is due now, what a run left part way, and what holds them back.</summary>
    public async Task<RetentionPlan> PlanAsync(NpgsqlConnection connection, FlagSnapshot snapshot, CancellationToken ct)
    {
        var months = Settings.RetentionMonths;
        // Gone (renamed away in an incident, say): nothing to retire, and the overview still answers.
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT to_regclass(@Table) IS NOT NULL", new { Table }, cancellationToken: ct)))
        {
            return new RetentionPlan(months, null, [], [], [], null);
        }
        var partitions = await EventPartitions.ListAsync(connection, ct);
        DateTime? before = months == 0 ? null : await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(
            "SELECT date_trunc('month', now(), 'UTC') - make_interval(months => @months)", new { months }, cancellationToken: ct));
        var due = partitions.Where(p => p.Upper <= before).ToList();
        // A row still detaching whose partition is attached and not pending describes nothing done yet.
        var unfinished = (await RecordsAsync(connection, "state <> 'dropped'", ct))
            .Where(r => r.State != PartitionArchive.Detaching || !partitions.Any(p => p.Name == r.Partition && !p.DetachPending))
            .ToList();
        var kept = due.Count + unfinished.Count == 0 ? null : await RetentionGate.ReasonAsync(connection, snapshot, Table, ct);
        return new RetentionPlan(months, before, partitions, due, unfinished, kept);
    }

    /// <summary>signal_events' partitions for `status`, GET /api/migrations and the console.</summary>
    public async Task<PartitionsSummary> SummaryAsync(NpgsqlConnection connection, FlagSnapshot snapshot, CancellationToken ct)
    {
        var plan = await PlanAsync(connection, snapshot, ct);
        var all = plan.Partitions;
        DateTime? from = all.Count == 0 || all.Any(p => p.Lower is null) ? null : all.Min(p => p.Lower);
        DateTime? to = all.Count == 0 || all.Any(p => p.Upper is null) ? null : all.Max(p => p.Upper);
        var now = DateTime.UtcNow;
        var ahead = to is { } t ? (t.Year * 12 + t.Month) - (now.Year * 12 + now.Month) - 1 : 0;
        return new PartitionsSummary(
            Table, all.Count > 0, from, to, Math.Max(0, ahead), plan.RetentionMonths, Settings.RetentionAction,
            Settings.ArchiveDirectory is "" ? null : Settings.ArchiveDirectory, plan.RetireBefore, all, plan.Due, plan.KeptBecause,
            await RecordsAsync(connection, "true ORDER BY id DESC LIMIT 5", ct));
    }

    /// <summary>
    /// Retires what the request names, or every partition due (what a run left part way first); null
    /// when another run holds the lock. Throws <see cref="RetentionRefusedException"/>, having changed
    /// nothing, when the partition is unknown or not due, the gate holds the rows, or the directory is
    /// not writable.
    /// </summary>
    public async Task<RetentionRun?> RetireAsync(RetireRequest request, IProgress<ExportProgress>? progress, CancellationToken ct)
    {
        var snapshot = await flags.LoadAsync(ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var held = await JobLock.TryTakeAsync(connection, Job, Table, ct);
        if (held is null)
        {
            return null;
        }
        // Rows a run wrote just before it would have detached, and then died: nothing was done.
        await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM partition_archives a
             WHERE parent = @Table AND state = 'detaching'
               AND EXISTS (SELECT FROM partition_bounds(@Table) b WHERE b.partition = a.partition AND NOT b.detach_pending)
            """, new { Table }, cancellationToken: ct));
        var plan = await PlanAsync(connection, snapshot, ct);
        var targets = TargetsOf(plan, request.Partition);
        if (targets.Count == 0)
        {
            return new RetentionRun(plan, [], []);
        }
        if (plan.KeptBecause is { } reason)
        {
            throw new RetentionRefusedException(string.Join("\n", targets.Select(t => KeptLine(t, plan, reason))));
        }
        if (request.DryRun)
        {
            return new RetentionRun(plan, targets, []);
        }
        if (request.ArchiveDirectory is { } directory)
        {
            PartitionExport.EnsureWritable(directory);
        }
        var retired = new List<PartitionArchive>();
        foreach (var target in targets.Take(request.Limit))
        {
            retired.Add(await RetireOneAsync(connection, target, request, progress, ct));
        }
        return new RetentionRun(plan, targets, retired);
    }

    /// <summary>
    /// The Partitions timer's part: drops what is due when the action is drop; archives the oldest
    /// partition due (one a run: an export may be long) when an archive directory is set; otherwise
    /// says what is due. A gate holding the rows is reported, not a failure.
    /// </summary>
    public async Task<TimerOutcome> RunTimerAsync(CancellationToken ct)
    {
        if (Settings.RetentionMonths == 0)
        {
            return new([]);
        }
        RetentionPlan plan;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            plan = await PlanAsync(connection, await flags.LoadAsync(ct), ct);
        }
        var due = TargetsOf(plan, null);
        if (due.Count == 0)
        {
            return new([]);
        }
        if (plan.KeptBecause is { } reason)
        {
            foreach (var p in due)
            {
                LogKept(p.Name, p.Range, Settings.RetentionMonths, reason);
            }
            return new([.. due.Select(p => $"Retention {KeptLine(p, plan, reason)}")]);
        }
        var drop = Settings.RetentionAction == EventsOptions.Drop;
        if (!drop && Settings.ArchiveDirectory is "")
        {
            foreach (var p in due)
            {
                LogDueForArchive(p.Name, p.Range);
            }
            return new([.. due.Select(p =>
                $"Retention {p.Name} ({p.Range}, {p.RowsText}) is due for archive: set Events__ArchiveDirectory, or run './run.sh partitions retire --dir DIR'")]);
        }
        try
        {
            var run = await RetireAsync(new RetireRequest(null, drop ? null : Settings.ArchiveDirectory, false, "timer", drop ? int.MaxValue : 1), null, ct);
            if (run is null)
            {
                return new(["Retention: skipped, another run is retiring partitions"]);
            }
            var lines = run.Retired.Select(r => $"Retention {Describe(r)}").ToList();
            if (run.Targets.Count > run.Retired.Count)
            {
                lines.Add($"Retention: {run.Targets.Count - run.Retired.Count} more due, one archive a run");
            }
            return new(lines);
        }
        catch (RetentionRefusedException ex)
        {
            return new([$"Retention: {ex.Message}"], Failed: true);
        }
    }

    /// <summary>What one retirement ended as, in a line for the operator (rows exact for an archive, estimated for a drop).</summary>
    public static string Describe(PartitionArchive r) => r.State switch
    {
        PartitionArchive.Dropped when r.File is not null =>
            $"{r.Partition} ({r.Range}): archived to {r.File} ({r.Rows:N0} rows, {r.FileBytes / 1048576.0:0.0} MB, sha256 {r.Sha256}), then dropped",
        PartitionArchive.Dropped => $"{r.Partition} ({r.Range}): dropped ({(r.Rows is { } rows ? $"~{rows:N0} rows" : "rows unknown")}, not archived)",
        _ => $"{r.Partition} ({r.Range}): {r.State}",
    };

    private static string KeptLine(PartitionInfo p, RetentionPlan plan, string reason) =>
        $"{p.Name} ({p.Range}, {p.RowsText}) is past Events__RetentionMonths={plan.RetentionMonths} but kept: {reason}";

    /// <summary>Unfinished retirements first (as partitions), then the partitions due; or the one named.</summary>
    private static List<PartitionInfo> TargetsOf(RetentionPlan plan, string? name)
    {
        var resumed = plan.Unfinished
            .Select(r => plan.Partitions.FirstOrDefault(p => p.Name == r.Partition) ?? new PartitionInfo(r.Partition, r.RangeFrom, r.RangeTo, false, r.Rows ?? -1, r.TableBytes ?? 0))
            .ToList();
        var all = resumed.Concat(plan.Due.Where(p => resumed.All(r => r.Name != p.Name))).ToList();
        if (name is null)
        {
            return all;
        }
        if (all.FirstOrDefault(p => p.Name == name) is { } target)
        {
            return [target];
        }
        if (plan.Partitions.FirstOrDefault(p => p.Name == name) is { } kept)
        {
            throw new RetentionRefusedException(plan.RetireBefore is { } before
                ? $"{name} ({kept.Range}) is not past retention: with Events__RetentionMonths={plan.RetentionMonths}, only partitions ending on or before {before:yyyy-MM-dd} (UTC) are retired."
                : $"{name} ({kept.Range}) is kept: Events__RetentionMonths is 0, which keeps every partition. Set it for the command, e.g. 'Events__RetentionMonths=12 ./run.sh partitions retire'.");
        }
        throw new RetentionRefusedException($"{Table} has no partition {name}: './run.sh partitions list' shows them.");
    }

    private async Task<PartitionArchive> RetireOneAsync(
        NpgsqlConnection connection, PartitionInfo target, RetireRequest request, IProgress<ExportProgress>? progress, CancellationToken ct)
    {
        var name = target.Name;
        var record = (await RecordsAsync(connection, "partition = @name AND state <> 'dropped'", ct, new { name })).SingleOrDefault();
        var id = record?.Id ?? await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO partition_archives (parent, partition, range_from, range_to, state, actor)
            VALUES (@Table, @name, @lower, @upper, 'detaching', @actor) RETURNING id
            """, new { Table, name, lower = target.Lower, upper = target.Upper, actor = request.Actor }, cancellationToken: ct));
        var state = record?.State ?? PartitionArchive.Detaching;

        if (state == PartitionArchive.Detaching)
        {
            await DetachAsync(connection, name, ct);
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE partition_archives a SET state = 'detached', updated_at = now(),
                       rows = nullif(greatest(c.reltuples, -1)::bigint, -1), table_bytes = pg_total_relation_size(c.oid)
                  FROM pg_class c WHERE a.id = @id AND c.oid = @name::regclass
                """, new { id, name }, cancellationToken: ct));
            LogDetached(name, target.Range);
            state = PartitionArchive.Detached;
        }

        if (state == PartitionArchive.Detached && request.ArchiveDirectory is { } directory)
        {
            await ArchiveAsync(connection, id, target, record?.File, directory, progress, ct);
        }

        // The table is standalone now: dropping it locks nothing readers or writers of the parent use.
        await connection.ExecuteAsync(new CommandDefinition($"DROP TABLE IF EXISTS {Quote(name)}", commandTimeout: 0, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE partition_archives SET state = 'dropped', updated_at = now(), finished_at = now() WHERE id = @id", new { id }, cancellationToken: ct));
        // First-seen times below every partition left can only belong to retired events.
        var forgotten = await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM signal_event_first_seen
             WHERE created_at < (SELECT CASE WHEN bool_or(lower_bound IS NULL) THEN '-infinity' ELSE min(lower_bound) END
                                   FROM partition_bounds(@Table))
            """, new { Table }, commandTimeout: 0, cancellationToken: ct));
        var done = (await RecordsAsync(connection, "id = @id", ct, new { id })).Single();
        LogRetired(name, done.Range, done.State, done.Rows, done.File, forgotten);
        return done;
    }

    /// <summary>
    /// DETACH … CONCURRENTLY, or FINALIZE when an earlier one was interrupted (it leaves the partition
    /// "detach pending"). Outside any transaction, as PostgreSQL requires; no timeout, because it waits
    /// for every transaction that began before it (a long parity run) without blocking anyone.
    /// </summary>
    private async Task DetachAsync(NpgsqlConnection connection, string name, CancellationToken ct)
    {
        var pending = await connection.ExecuteScalarAsync<bool?>(new CommandDefinition(
            "SELECT detach_pending FROM partition_bounds(@Table) WHERE partition = @name", new { Table, name }, cancellationToken: ct));
        if (pending is null)
        {
            return;
        }
        if (pending.Value)
        {
            LogFinalizing(name);
        }
        await connection.ExecuteAsync(new CommandDefinition(
            $"ALTER TABLE {Table} DETACH PARTITION {Quote(name)} {(pending.Value ? "FINALIZE" : "CONCURRENTLY")}", commandTimeout: 0, cancellationToken: ct));
    }

    private async Task ArchiveAsync(
        NpgsqlConnection connection, long id, PartitionInfo target, string? recordedFile, string directory,
        IProgress<ExportProgress>? progress, CancellationToken ct)
    {
        var file = PartitionExport.FileOf(directory, target.Name);
        // Another archive of this name (the month retired before, then restored) is never overwritten;
        // this retirement's own file, left by a run that died, is written again.
        if (File.Exists(file) && recordedFile != file)
        {
            throw new RetentionRefusedException($"{file} exists already (an earlier archive of {target.Name}?): move it away, or archive to another directory. {target.Name} stays detached until then.");
        }
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE partition_archives SET file = @file, updated_at = now() WHERE id = @id", new { id, file }, cancellationToken: ct));
        // Exact, on a table nothing writes any more: the file must hold exactly these rows.
        var (rows, oldest) = await connection.QuerySingleAsync<(long, DateTime?)>(new CommandDefinition(
            $"SELECT count(*), min(created_at) FROM {Quote(target.Name)}", commandTimeout: 0, cancellationToken: ct));
        var archived = await PartitionExport.WriteAsync(connection, Table, target.Name, target.Lower, target.Upper!.Value, rows, oldest, directory, progress, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE partition_archives SET state = 'archived', updated_at = now(), rows = @Rows, file = @Path, file_bytes = @Bytes, sha256 = @Sha256
             WHERE id = @id
            """, new { id, archived.Rows, archived.Path, archived.Bytes, archived.Sha256 }, cancellationToken: ct));
        LogArchived(target.Name, archived.Path, archived.Rows, archived.Bytes, archived.Sha256);
    }

    private static async Task<IReadOnlyList<PartitionArchive>> RecordsAsync(NpgsqlConnection connection, string where, CancellationToken ct, object? args = null)
    {
        var parameters = new DynamicParameters(args);
        parameters.Add("parent", Table);
        return [.. await connection.QueryAsync<PartitionArchive>(new CommandDefinition(
            $"SELECT {PartitionArchive.Columns} FROM partition_archives WHERE parent = @parent AND {where}", parameters, cancellationToken: ct))];
    }

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition} ({Range}) is past Events__RetentionMonths={Months} but kept: {Reason}")]
    private partial void LogKept(string partition, string range, int months, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition} ({Range}) is due for archive, but Events__ArchiveDirectory is not set.")]
    private partial void LogDueForArchive(string partition, string range);

    [LoggerMessage(Level = LogLevel.Information, Message = "Finalizing the interrupted detach of partition {Partition}.")]
    private partial void LogFinalizing(string partition);

    [LoggerMessage(Level = LogLevel.Information, Message = "Detached partition {Partition} ({Range}).")]
    private partial void LogDetached(string partition, string range);

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived partition {Partition} to {File}: {Rows} rows, {Bytes} bytes, sha256 {Sha256}.")]
    private partial void LogArchived(string partition, string file, long rows, long bytes, string sha256);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retired partition {Partition} ({Range}): {State}, {Rows} rows, archive {File}; {FirstSeenDeleted} first-seen times forgotten.")]
    private partial void LogRetired(string partition, string range, string state, long? rows, string? file, int firstSeenDeleted);
}
