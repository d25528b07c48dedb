using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Migrations;
using static System.FormattableString;

namespace SignalFunctions.Partitions;

/// <summary>
/// `partitions convert`: turns a signal_events that already holds events (schema 0018 converts only an
/// empty one) into the month-partitioned table in place, online. Its rows become the partition
/// signal_events_history [MINVALUE, cutoff): nothing is copied. The slow parts, a unique index on
/// (id, created_at) and a CHECK proving every row is older than the cutoff, are built without blocking
/// ingest; the swap itself (partition_in_place, schema 0018) is catalog work under a short lock. Each
/// step looks at what is already there, so a run that was stopped or refused resumes where it was.
/// </summary>
public sealed class PartitionConversion(NpgsqlDataSource dataSource, EventPartitions partitions, IOptions<EventsOptions> options)
{
    public const int DefaultTries = 10;

    private const string Table = EventPartitions.Table;
    private const string Index = Table + "_id_created";
    private const string Range = Table + "_history_range";
    private const string History = Table + "_history";
    private const int Steps = 5;

    /// <summary>
    /// How long each lock is waited for. The swap's ACCESS EXCLUSIVE queues every insert behind it while
    /// it waits: a few seconds of queued ingest at most, then give up and try again.
    /// </summary>
    private const int LockTimeoutSeconds = 3;

    /// <summary>
    /// The least time between placing the CHECK and its cutoff. Until the swap, the CHECK refuses events
    /// dated at or after the cutoff, and the API accepts times up to 5 minutes ahead: this leaves a
    /// refused swap days to be run again.
    /// </summary>
    public static readonly TimeSpan MinimumLead = TimeSpan.FromDays(7);

    private int Months => options.Value.PartitionMonths;

    /// <summary>
    /// The history's upper bound for a conversion started at <paramref name="now"/>: the start of the
    /// next partition unit, or of the one after when fewer than <see cref="MinimumLead"/> remain.
    /// </summary>
    public static DateTimeOffset CutoffFor(DateTimeOffset now, int months)
    {
        var next = EventPartitions.UnitOf(now, months).AddMonths(months);
        return next - now < MinimumLead ? next.AddMonths(months) : next;
    }

    /// <summary>Runs (or with <paramref name="dryRun"/> only describes) the conversion, reporting each step as it starts and ends.</summary>
    /// <exception cref="PartitionConversionRefusedException">A step cannot be done now; what was done stays for the next run.</exception>
    public async Task RunAsync(bool dryRun, int tries, Action<string> progress, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        DateTimeOffset cutoff;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            // A second convert (or anything else holding the partitions lock) would race this one's DDL.
            await using var jobLock = await JobLock.TryTakeAsync(connection, "partitions", Table, ct)
                ?? throw new PartitionConversionRefusedException(
                    $"another run holds the partitions lock of {Table} (a convert, or the Partitions timer); nothing was done. Try again when it ends.");
            var state = await connection.QuerySingleAsync<State>(new CommandDefinition(StateSql, new { table = Table, index = Index, range = Range }, cancellationToken: ct));
            if (state.Kind == "p")
            {
                progress($"{Table} is already partitioned: nothing to convert ('./run.sh partitions list' shows its partitions).");
                return;
            }
            var plan = Plan.For(state, DateTimeOffset.UtcNow, Months);
            progress(Invariant($"{Table}: a plain table, ~{state.Rows:N0} rows (estimate)"));
            progress($"cutoff: {Text(plan.Cutoff)} ({plan.CutoffReason})");
            if (dryRun)
            {
                progress("dry run, nothing changed. The steps:");
                foreach (var step in Describe(plan, state, tries))
                {
                    progress($"  {step}");
                }
                return;
            }
            cutoff = plan.Cutoff;
            await IndexAsync(connection, state, progress, ct);
            await RangeAsync(connection, state, plan, tries, progress, ct);
            await SwapAsync(connection, cutoff, tries, progress, ct);
        }
        // Outside the lock: the months are made as the timer makes them, and it may take the same lock.
        await MonthsAsync(cutoff, progress, ct);
        await AnalyzeAsync(progress, ct);
        await SummaryAsync(total.Elapsed, progress, ct);
    }

    private static Task IndexAsync(NpgsqlConnection connection, State state, Action<string> progress, CancellationToken ct) =>
        StepAsync(1, $"unique index {Index} (id, created_at)", progress, async () =>
        {
            if (state.IndexReady == true)
            {
                return "already built";
            }
            if (state.IndexReady == false)
            {
                // IF NOT EXISTS would keep it: an interrupted CONCURRENTLY build leaves an invalid index.
                progress($"      dropping the unusable {Index} an earlier run left (invalid, or not UNIQUE (id, created_at))");
                await connection.ExecuteAsync(new CommandDefinition($"DROP INDEX CONCURRENTLY IF EXISTS {Index}", commandTimeout: 0, cancellationToken: ct));
            }
            // Outside a transaction and without a lock timeout: it waits for older transactions, never blocks writes.
            await connection.ExecuteAsync(new CommandDefinition(
                $"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {Index} ON {Table} (id, created_at)", commandTimeout: 0, cancellationToken: ct));
            return "built CONCURRENTLY";
        });

    private static Task RangeAsync(NpgsqlConnection connection, State state, Plan plan, int tries, Action<string> progress, CancellationToken ct) =>
        StepAsync(2, $"CHECK {Range} (created_at < {Text(plan.Cutoff)})", progress, async () =>
        {
            if (plan.Reuse && state.RangeValidated == true)
            {
                return "already validated";
            }
            var check = $"ALTER TABLE {Table} ADD CONSTRAINT {Range} CHECK (created_at < '{Text(plan.Cutoff)}') NOT VALID";
            if (!plan.Reuse)
            {
                // NOT VALID: only new rows are checked, so the ACCESS EXCLUSIVE lasts an instant.
                await LockedAsync(connection, state.RangeValidated is null ? check : $"ALTER TABLE {Table} DROP CONSTRAINT {Range}; {check}",
                    tries, "the CHECK was not added", progress, ct);
            }
            try
            {
                // One scan under SHARE UPDATE EXCLUSIVE: inserts, updates and reads go on meanwhile.
                await LockedAsync(connection, $"ALTER TABLE {Table} VALIDATE CONSTRAINT {Range}", tries,
                    $"the CHECK is in place but not validated{Until(plan.Cutoff)}", progress, ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation && ex.ConstraintName == Range)
            {
                throw await PastCutoffAsync(connection, plan.Cutoff, ct);
            }
            return plan.Reuse && state.RangeValidated == false ? "validated (added by an earlier run)" : "added NOT VALID, then validated";
        });

    /// <summary>Rows the history cannot take: counted, and the CHECK taken back so ingest is as it was.</summary>
    private static async Task<PartitionConversionRefusedException> PastCutoffAsync(NpgsqlConnection connection, DateTimeOffset cutoff, CancellationToken ct)
    {
        var rows = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT count(*) FROM {Table} WHERE created_at >= @cutoff", new { cutoff = cutoff.UtcDateTime }, commandTimeout: 0, cancellationToken: ct));
        var removed = true;
        try
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition($"SET LOCAL lock_timeout = '{LockTimeoutSeconds}s'", transaction: tx, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition($"ALTER TABLE {Table} DROP CONSTRAINT {Range}", transaction: tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            removed = false;
        }
        return new PartitionConversionRefusedException(Invariant($"""
            {rows:N0} row(s) of {Table} are dated at or after the cutoff {Text(cutoff)}: the history partition cannot hold them.
            Events are never dated more than 5 minutes ahead (rule future_dated_events of signal-events), so these are
            wrong: correct their created_at, or delete them (SELECT … FROM {Table} WHERE created_at >= '{Text(cutoff)}'
            lists them), then run './run.sh partitions convert' again. {(removed
                ? $"The CHECK was taken back; the index {Index} stays for the next run."
                : $"The CHECK {Range} could not be taken back (busy); it refuses events dated from the cutoff on until the next run or 'ALTER TABLE {Table} DROP CONSTRAINT {Range}'.")}
            """).ReplaceLineEndings(" "));
    }

    private static Task SwapAsync(NpgsqlConnection connection, DateTimeOffset cutoff, int tries, Action<string> progress, CancellationToken ct) =>
        StepAsync(3, $"swap: {Table} becomes partitioned, its rows the partition {History} [MINVALUE, {Text(cutoff)})", progress, async () =>
        {
            // -1: no month inside the swap, so its lock covers only catalog work; step 4 makes them.
            await LockedAsync(connection, Invariant($"SELECT partition_in_place('{Table}', 'created_at', '{Text(cutoff)}', -1)"),
                tries, $"the swap changed nothing (the index and the validated CHECK stay){Until(cutoff)}", progress, ct);
            return "done: triggers, views and grants moved to the new parent";
        });

    private async Task MonthsAsync(DateTimeOffset cutoff, Action<string> progress, CancellationToken ct)
    {
        var ahead = options.Value.PartitionsAhead;
        await StepAsync(4, Invariant($"partitions from {Text(cutoff)}: {ahead} of {Months} month(s)"), progress, async () =>
        {
            try
            {
                var made = await partitions.EnsureCoveringAsync(cutoff, cutoff.AddMonths(Months * ahead), ct);
                return Invariant($"{made} made");
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                // Nothing can be dated past the cutoff for days, and the timer and the writer make them too.
                return "not made now (busy); the Partitions timer makes them";
            }
        });
    }

    private Task AnalyzeAsync(Action<string> progress, CancellationToken ct) =>
        StepAsync(5, $"ANALYZE {Table}", progress, async () =>
        {
            // Autovacuum analyzes partitions, never a partitioned parent: the planner needs this once.
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition($"ANALYZE {Table}", commandTimeout: 0, cancellationToken: ct));
            return "done";
        });

    private async Task SummaryAsync(TimeSpan elapsed, Action<string> progress, CancellationToken ct)
    {
        var list = await partitions.ListAsync(ct);
        progress(Invariant($"{Table}: partitioned, {list.Count} partitions, ~{list.Sum(p => Math.Max(p.Rows, 0)):N0} rows (estimate); converted in {elapsed.TotalSeconds:0.0} s"));
        foreach (var p in list)
        {
            progress(Invariant($"  {p.Name,-28}{p.Range,-44}{Math.Max(p.Rows, 0),14:N0}"));
        }
    }

    private static IEnumerable<string> Describe(Plan plan, State state, int tries)
    {
        yield return $"1. unique index {Index} (id, created_at): " + state.IndexReady switch
        {
            true => "already built",
            false => "an earlier run left it unusable: drop it and build it again, CONCURRENTLY (ingest goes on)",
            null => "build it CONCURRENTLY (ingest goes on)",
        };
        yield return $"2. CHECK {Range} (created_at < {Text(plan.Cutoff)}): " + (plan.Reuse, state.RangeValidated) switch
        {
            (true, true) => "already validated",
            (true, _) => "in place; VALIDATE it (one scan; ingest goes on)",
            _ => "add it NOT VALID (an instant under lock), then VALIDATE (one scan; ingest goes on); rows dated at or after the cutoff stop the run here",
        };
        yield return Invariant($"3. swap (partition_in_place): lock {Table} for catalog work only (lock_timeout {LockTimeoutSeconds} s, up to {tries} tries); its rows become the partition {History} [MINVALUE, {Text(plan.Cutoff)}), nothing copied");
        yield return "4. partitions from the cutoff on (Events__PartitionsAhead, Events__PartitionMonths), each in its own short transaction";
        yield return $"5. ANALYZE {Table}";
    }

    /// <summary>
    /// Runs <paramref name="sql"/> in a transaction whose locks wait at most <see cref="LockTimeoutSeconds"/>,
    /// trying again with a growing pause; a lock still not granted after the last try refuses the run.
    /// </summary>
    private static async Task LockedAsync(NpgsqlConnection connection, string sql, int tries, string whenBusy, Action<string> progress, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var tx = await connection.BeginTransactionAsync(ct);
                await connection.ExecuteAsync(new CommandDefinition($"SET LOCAL lock_timeout = '{LockTimeoutSeconds}s'", transaction: tx, cancellationToken: ct));
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, commandTimeout: 0, cancellationToken: ct));
                await tx.CommitAsync(ct);
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable && attempt < tries)
            {
                var pause = TimeSpan.FromSeconds(Math.Min(1 << (attempt - 1), 15));
                progress(Invariant($"      busy: a lock was not granted within {LockTimeoutSeconds} s (try {attempt} of {tries}); again in {pause.TotalSeconds:0} s"));
                await Task.Delay(pause, ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                throw new PartitionConversionRefusedException(Invariant(
                    $"busy, try again later: a lock on {Table} was not granted within {LockTimeoutSeconds} s, {tries} time(s) (a long query or transaction holds it), so {whenBusy}. Run './run.sh partitions convert' again when it is quieter: it resumes there."));
            }
        }
    }

    private static async Task StepAsync(int step, string what, Action<string> progress, Func<Task<string>> work)
    {
        progress(Invariant($"[{step}/{Steps}] {what} ..."));
        var clock = Stopwatch.StartNew();
        var outcome = await work();
        progress(Invariant($"[{step}/{Steps}] {outcome} ({clock.Elapsed.TotalSeconds:0.0} s)"));
    }

    private static string Until(DateTimeOffset cutoff) =>
        $". Until the swap, the CHECK refuses events dated from {Text(cutoff)} on: finish before then";

    private static string Text(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    // IndexReady: null = missing, false = there but unusable (invalid, or another definition).
    private const string StateSql = """
        SELECT c.relkind::text AS kind,
               CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE coalesce(s.n_live_tup, 0) END AS rows,
               (SELECT i.indisvalid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                       AND ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)
                           = ARRAY['id', 'created_at']
                  FROM pg_index i WHERE i.indexrelid = to_regclass(@index) AND i.indrelid = c.oid) AS indexready,
               r.convalidated AS rangevalidated,
               (regexp_match(pg_get_constraintdef(r.oid), $r$'([^']+)'$r$))[1]::timestamptz AS rangecutoff
          FROM pg_class c
          LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
          LEFT JOIN pg_constraint r ON r.conrelid = c.oid AND r.conname = @range
         WHERE c.oid = @table::regclass
        """;

    private sealed record State(string Kind, long Rows, bool? IndexReady, bool? RangeValidated, DateTime? RangeCutoff);

    /// <summary>The cutoff to use: an earlier run's CHECK is kept while its cutoff is far enough ahead.</summary>
    private sealed record Plan(DateTimeOffset Cutoff, bool Reuse, string CutoffReason)
    {
        public static Plan For(State state, DateTimeOffset now, int months)
        {
            if (state.RangeCutoff is { } earlier && new DateTimeOffset(earlier, TimeSpan.Zero) - now >= MinimumLead)
            {
                return new(new DateTimeOffset(earlier, TimeSpan.Zero), true, $"from the CHECK {Range} an earlier run left");
            }
            var cutoff = CutoffFor(now, months);
            var unit = months == 1 ? "month" : Invariant($"{months}-month partition");
            return new(cutoff, false, state.RangeCutoff is { } stale
                ? $"replacing the CHECK an earlier run left for {Text(new DateTimeOffset(stale, TimeSpan.Zero))}, fewer than {MinimumLead.TotalDays:0} days away"
                : $"the start of the next {unit}, or of the one after when fewer than {MinimumLead.TotalDays:0} days remain");
        }
    }
}
