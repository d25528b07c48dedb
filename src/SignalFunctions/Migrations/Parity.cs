using System.Data;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace SignalFunctions.Migrations;

/// <summary>
/// Compares source and target without reading either into memory: one hash-aggregate scan per side
/// gives a count and an order-independent checksum per bucket of the key space; only buckets that
/// differ are split further (256 sub-buckets each), down to the exact keys — or read key by key at
/// once when they hold few rows. Both sides are read in one REPEATABLE READ snapshot, so a dual
/// write (one transaction) is never seen half-done; rows the target recorded within the fence are
/// left out, for writers outside that transaction. With a partition named, both sides are cut to that
/// partition's time range (the declaration's SourceTime and TargetTime), so the target's scans prune
/// to it; such a report records its scope, and opens no gate.
/// </summary>
public sealed partial class Parity(NpgsqlDataSource dataSource, IOptions<MigrationOptions> options, ILogger<Parity> logger)
{
    // Bucket = the low bits of a 64-bit hash of the key: uniform for any key type, and a quarter of
    // what md5(key) costs per row. 12 bits = 4096 buckets; then 20 bits inside the buckets that differ.
    private static readonly int[] BucketBits = [12, 20];

    public async Task<ParityReport?> RunAsync(DataMigration migration, CancellationToken ct, string? partition = null)
    {
        var settings = options.Value;
        var started = DateTime.UtcNow;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var scope = partition is null ? null : await ScopeAsync(connection, migration, partition, ct);
        await using var jobLock = await JobLock.TryTakeAsync(connection, "parity", migration.Name, ct);
        if (jobLock is null)
        {
            return null;
        }
        if (await Cutover.IsCutOverAsync(connection, migration.Name, ct))
        {
            // The old names are views over the new tables now, or nothing writes the old tables any
            // more: a report would compare the new side with itself, or with an abandoned copy.
            var before = await LatestAsync(connection, migration.Name, ct);
            throw new ParityNotApplicableException(
                $"{migration.Name} is cut over ({migration.CutoverDescription}), so there is no old side of its own to compare. " +
                (before is null ? "" : $"The last report, from before the cut-over, is #{before.Id} of {before.StartedAt:yyyy-MM-dd HH:mm:ss}Z ({(before.Clean ? "clean" : "NOT clean")}). ") +
                $"To compare again, './run.sh rollback {migration.Name}' first.");
        }

        long rowsCompared = 0;
        var ranges = 0;
        DateTime comparedThrough;
        string[] fenced;
        // Counts exact, lists capped: the buckets left may still hold every row (a target still empty).
        CappedKeys missing = new(settings.ParityKeyListLimit), extra = new(settings.ParityKeyListLimit), different = new(settings.ParityKeyListLimit);
        await using (var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct))
        {
            // The planner takes the bucket expression for as many groups as there are keys and sorts
            // every row to group them; there are at most 2^bits groups, which a hash table holds.
            await connection.ExecuteAsync(new CommandDefinition("SET LOCAL enable_sort = off", transaction: tx, cancellationToken: ct));
            (comparedThrough, fenced) = await FenceAsync(connection, tx, migration, settings, scope, ct);

            long[]? differingBuckets = null;
            var bits = 0;
            foreach (var levelBits in BucketBits)
            {
                var source = await BucketsAsync(connection, tx, migration, settings, Side.Source, levelBits, bits, differingBuckets, fenced, scope, ct);
                var target = await BucketsAsync(connection, tx, migration, settings, Side.Target, levelBits, bits, differingBuckets, fenced, scope, ct);
                if (bits == 0)
                {
                    rowsCompared = source.Values.Sum(b => b.Count);
                }
                var all = source.Keys.Union(target.Keys).ToList();
                ranges += all.Count;
                differingBuckets = all.Where(b => source.GetValueOrDefault(b) != target.GetValueOrDefault(b)).ToArray();
                bits = levelBits;
                var rowsInDiffering = differingBuckets.Sum(b => Math.Max(source.GetValueOrDefault(b).Count, target.GetValueOrDefault(b).Count));
                // Few rows in the differing buckets: compare them key by key now. A finer level would
                // cost another pass over both tables first (measured: 10 differences in 1,000,000 rows).
                if (rowsInDiffering <= settings.ParityDirectRows)
                {
                    break;
                }
            }

            if (differingBuckets is { Length: > 0 })
            {
                await foreach (var (key, kind) in DifferencesAsync(connection, tx, migration, settings, bits, differingBuckets, fenced, scope, ct))
                {
                    (kind switch { "missing" => missing, "extra" => extra, _ => different }).Add(key);
                }
            }
            await tx.CommitAsync(ct);
        }

        var rules = new List<RuleResult>();
        foreach (var rule in migration.Rules)
        {
            var violations = await connection.ExecuteScalarAsync<long>(new CommandDefinition(rule.CountSql, settings.ArgumentsWith(migration, null), cancellationToken: ct));
            rules.Add(new RuleResult(rule.Name, rule.Severity.ToString().ToLowerInvariant(), violations, rule.Description));
        }

        var clean = missing.Count + extra.Count + different.Count == 0 && rules.All(r => r.Violations == 0 || r.Severity == "warning");
        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO parity_reports (migration, started_at, finished_at, ranges_checked, rows_compared,
                                        missing_count, extra_count, different_count, missing_keys, extra_keys,
                                        different_keys, validation, clean, compared_through, rows_fenced, scope)
            VALUES (@Name, @started, now(), @ranges, @rowsCompared, @missingCount, @extraCount, @differentCount,
                    @missingKeys, @extraKeys, @differentKeys, @validation::jsonb, @clean, @comparedThrough, @rowsFenced, @scope)
            RETURNING id
            """, new
        {
            migration.Name, started, ranges, rowsCompared,
            missingCount = missing.Count, extraCount = extra.Count, differentCount = different.Count,
            missingKeys = missing.Keys,
            extraKeys = extra.Keys,
            differentKeys = different.Keys,
            validation = JsonSerializer.Serialize(rules, JsonOptions),
            clean,
            comparedThrough,
            rowsFenced = (long)fenced.Length,
            scope = scope?.Partition,
        }, cancellationToken: ct));
        var report = await ReadAsync(connection, "id = @id", new { id }, ct);
        LogReport(migration.Name, scope?.Partition ?? "whole table", rowsCompared, missing.Count, extra.Count, different.Count, clean, report!.DurationSeconds);
        return report;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The named partition of the target with its bounds; refused, naming those there are, when it is none of them.</summary>
    private static async Task<ParityScope> ScopeAsync(NpgsqlConnection connection, DataMigration m, string partition, CancellationToken ct)
    {
        if (m.SourceTime is null || m.TargetTime is null)
        {
            throw new ParityScopeException($"{m.Name} declares no time to cut both sides by (SourceTime, TargetTime), so it is compared whole: run parity without --partition.");
        }
        var partitions = (await connection.QueryAsync<ParityScope>(new CommandDefinition("""
            SELECT partition, lower_bound AS "From", upper_bound AS "To" FROM partition_bounds(@Target) ORDER BY lower_bound NULLS FIRST
            """, m, cancellationToken: ct))).ToList();
        return partitions.FirstOrDefault(p => p.Partition == partition) ?? throw new ParityScopeException(partitions.Count == 0
            ? $"{m.Target} has no partitions, so {m.Name} is compared whole: run parity without --partition."
            : $"{m.Target} has no partition {partition}; it has {string.Join(", ", partitions.Select(p => $"{p.Partition} {p.Range}"))}.");
    }

    /// <summary>
    /// The migration's latest whole-table report: what the stage gates, the archive and status judge by.
    /// A report of one partition says nothing of the others, so it never counts here.
    /// </summary>
    public static Task<ParityReport?> LatestAsync(NpgsqlConnection connection, string migration, CancellationToken ct) =>
        LatestAsync(connection, migration, null, ct);

    /// <summary>The migration's latest whole-table report, or the latest that started before <paramref name="startedBefore"/>.</summary>
    public static Task<ParityReport?> LatestAsync(NpgsqlConnection connection, string migration, DateTime? startedBefore, CancellationToken ct) =>
        ReadAsync(connection, "migration = @migration AND scope IS NULL AND (CAST(@startedBefore AS timestamptz) IS NULL OR started_at < @startedBefore)",
            new { migration, startedBefore }, ct);

    /// <summary>The migration's latest report, whole or of one partition: what repair fixes the keys of.</summary>
    public static Task<ParityReport?> LatestOfAnyScopeAsync(NpgsqlConnection connection, string migration, CancellationToken ct) =>
        ReadAsync(connection, "migration = @migration", new { migration }, ct);

    private static async Task<ParityReport?> ReadAsync(NpgsqlConnection connection, string where, object args, CancellationToken ct)
    {
        var row = await connection.QuerySingleOrDefaultAsync<ReportRow>(new CommandDefinition($"""
            SELECT id, migration, started_at AS StartedAt, finished_at AS FinishedAt, ranges_checked AS RangesChecked,
                   rows_compared AS RowsCompared, missing_count AS MissingCount, extra_count AS ExtraCount,
                   different_count AS DifferentCount, missing_keys AS MissingKeys, extra_keys AS ExtraKeys,
                   different_keys AS DifferentKeys, validation::text AS Validation, clean, repair_error AS RepairError,
                   compared_through AS ComparedThrough, rows_fenced AS RowsFenced, scope
              FROM parity_reports
             WHERE {where}
             ORDER BY id DESC LIMIT 1
            """, args, cancellationToken: ct));
        return row is null ? null : new ParityReport(
            row.Id, row.Migration, DateTime.SpecifyKind(row.StartedAt, DateTimeKind.Utc), DateTime.SpecifyKind(row.FinishedAt, DateTimeKind.Utc),
            row.RangesChecked, row.RowsCompared, row.MissingCount, row.ExtraCount, row.DifferentCount,
            row.MissingKeys, row.ExtraKeys, row.DifferentKeys,
            JsonSerializer.Deserialize<List<RuleResult>>(row.Validation, JsonOptions)!, row.Clean, row.RepairError,
            row.ComparedThrough is { } through ? DateTime.SpecifyKind(through, DateTimeKind.Utc) : null, row.RowsFenced, row.Scope);
    }

    // A class with setters: Dapper cannot match text[] columns to a record's constructor.
    private sealed class ReportRow
    {
        public long Id { get; set; }
        public string Migration { get; set; } = "";
        public DateTime StartedAt { get; set; }
        public DateTime FinishedAt { get; set; }
        public int RangesChecked { get; set; }
        public long RowsCompared { get; set; }
        public long MissingCount { get; set; }
        public long ExtraCount { get; set; }
        public long DifferentCount { get; set; }
        public string[] MissingKeys { get; set; } = [];
        public string[] ExtraKeys { get; set; } = [];
        public string[] DifferentKeys { get; set; } = [];
        public string Validation { get; set; } = "[]";
        public bool Clean { get; set; }
        public string? RepairError { get; set; }
        public DateTime? ComparedThrough { get; set; }
        public long RowsFenced { get; set; }
        public string? Scope { get; set; }
    }

    private enum Side
    {
        Source,
        Target,
    }

    private static (string Table, string Alias, string Image, string? Filter) Of(DataMigration m, Side side) =>
        side == Side.Source ? (m.SourceFrom, "s", m.SourceImage, m.SourceFilter) : (m.TargetFrom, "t", m.TargetImage, m.TargetFilter);

    // hashtextextended is what hash partitioning uses: stable, and both sides are hashed by the same server.
    private static string BucketOf(DataMigration m, string alias, int bits) =>
        $"(hashtextextended({alias}.{m.Key}::text, 0) & {(1L << bits) - 1})";

    private static string Where(DataMigration m, Side side, int bits, bool fenced, ParityScope? scope)
    {
        var (_, alias, _, filter) = Of(m, side);
        var conditions = new List<string>();
        if (filter is not null)
        {
            conditions.Add($"({filter})");
        }
        conditions.AddRange(InScope(m, side, scope));
        if (bits > 0)
        {
            conditions.Add($"{BucketOf(m, alias, bits)} = ANY(@buckets)");
        }
        if (fenced)
        {
            conditions.Add($"NOT ({alias}.{m.Key}::text = ANY(@fenced))");
        }
        return conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
    }

    /// <summary>The conditions that cut one side to the partition's bounds: only the bounds it has.</summary>
    private static IEnumerable<string> InScope(DataMigration m, Side side, ParityScope? scope)
    {
        var time = side == Side.Source ? m.SourceTime : m.TargetTime;
        if (scope?.From is not null)
        {
            yield return $"{time} >= @scopeFrom";
        }
        if (scope?.To is not null)
        {
            yield return $"{time} < @scopeTo";
        }
    }

    /// <summary>
    /// Up to when rows are compared (the snapshot's clock, less the fence), and the keys of the new
    /// side's rows (within the scope) written after it, which this report leaves out.
    /// </summary>
    private static async Task<(DateTime Through, string[] Keys)> FenceAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, DataMigration m, MigrationOptions settings, ParityScope? scope, CancellationToken ct)
    {
        var fenceSeconds = m.TargetChangedAt is null ? 0 : settings.ParityFenceSeconds;
        var through = DateTime.SpecifyKind(await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(
            "SELECT now() - make_interval(secs => @fenceSeconds)", new { fenceSeconds }, tx, cancellationToken: ct)), DateTimeKind.Utc);
        if (fenceSeconds == 0)
        {
            return (through, []);
        }
        var keys = await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT t.{m.Key}::text FROM {m.Target} t WHERE {string.Join(" AND ", [$"{m.TargetChangedAt} > @through", .. InScope(m, Side.Target, scope)])}",
            settings.ArgumentsWith(m, new { through, scopeFrom = scope?.From, scopeTo = scope?.To }), tx, cancellationToken: ct));
        return (through, keys.ToArray());
    }

    private readonly record struct Bucket(long Count, decimal Sum);

    private static async Task<Dictionary<long, Bucket>> BucketsAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, DataMigration m, MigrationOptions settings, Side side, int bits, int parentBits,
        long[]? buckets, string[] fenced, ParityScope? scope, CancellationToken ct)
    {
        var (table, alias, image, _) = Of(m, side);
        // Sum of the first 60 bits of each row image's md5: order-independent, and a changed,
        // missing or extra row changes it (barring a 2^-60 coincidence).
        var sql = $"""
            SELECT {BucketOf(m, alias, bits)} AS b, count(*) AS n,
                   sum(('x' || substr(md5({image}), 1, 15))::bit(60)::bigint) AS h
              FROM {table} {alias} {Where(m, side, parentBits, fenced.Length > 0, scope)}
             GROUP BY 1
            """;
        var rows = await connection.QueryAsync<(long B, long N, decimal H)>(new CommandDefinition(
            sql, settings.ArgumentsWith(m, new { buckets, fenced, scopeFrom = scope?.From, scopeTo = scope?.To }), tx, cancellationToken: ct));
        return rows.ToDictionary(r => r.B, r => new Bucket(r.N, r.H));
    }

    /// <summary>
    /// The keys of the differing buckets that are missing, extra or different, compared key by key
    /// in the database (one join of both sides) and streamed: only the differences come back, and
    /// the caller keeps a capped list of them, so no side is held in memory however many rows differ.
    /// </summary>
    private static async IAsyncEnumerable<(string Key, string Kind)> DifferencesAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, DataMigration m, MigrationOptions settings, int bits, long[] buckets, string[] fenced,
        ParityScope? scope, [EnumeratorCancellation] CancellationToken ct)
    {
        var (source, s, sourceImage, _) = Of(m, Side.Source);
        var (target, t, targetImage, _) = Of(m, Side.Target);
        var sql = $"""
            SELECT coalesce(src.k, tgt.k) AS Key,
                   CASE WHEN tgt.k IS NULL THEN {Absent(m, scope, Side.Target, "src.k", "missing")}
                        WHEN src.k IS NULL THEN {Absent(m, scope, Side.Source, "tgt.k", "extra")}
                        ELSE 'different' END AS Kind
              FROM (SELECT {s}.{m.Key}::text AS k, md5({sourceImage}) AS h FROM {source} {s} {Where(m, Side.Source, bits, fenced.Length > 0, scope)}) src
              FULL JOIN (SELECT {t}.{m.Key}::text AS k, md5({targetImage}) AS h FROM {target} {t} {Where(m, Side.Target, bits, fenced.Length > 0, scope)}) tgt
                ON src.k = tgt.k
             WHERE src.k IS NULL OR tgt.k IS NULL OR src.h IS DISTINCT FROM tgt.h
            """;
        var args = settings.ArgumentsWith(m, new { buckets, fenced, scopeFrom = scope?.From, scopeTo = scope?.To });
        await foreach (var difference in connection.QueryUnbufferedAsync<(string Key, string Kind)>(sql, args, tx).WithCancellation(ct))
        {
            yield return difference;
        }
    }

    /// <summary>
    /// What a key one side lacks is. Within one partition, a key the other side holds outside it is
    /// neither missing nor extra: its time differs, and repair must move the row (an upsert), not delete it.
    /// </summary>
    private static string Absent(DataMigration m, ParityScope? scope, Side lacking, string key, string kind)
    {
        if (scope is null)
        {
            return $"'{kind}'";
        }
        var (table, alias, _, filter) = Of(m, lacking);
        return $"CASE WHEN EXISTS (SELECT 1 FROM {table} {alias} WHERE {alias}.{m.Key} = {key}::{m.KeyType}{(filter is null ? "" : $" AND ({filter})")}) " +
               $"THEN 'different' ELSE '{kind}' END";
    }

    /// <summary>One kind of difference: the exact count, and its first keys in ordinal order, at most the limit.</summary>
    private sealed class CappedKeys(int limit)
    {
        private readonly SortedSet<string> _first = new(StringComparer.Ordinal);

        public long Count { get; private set; }

        public string[] Keys => [.. _first];

        public void Add(string key)
        {
            Count++;
            if (_first.Add(key) && _first.Count > limit)
            {
                _first.Remove(_first.Max!);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Parity {Migration} ({Scope}): {RowsCompared} rows, {Missing} missing, {Extra} extra, {Different} different, clean={Clean}, {Seconds:0.00} s")]
    private partial void LogReport(string migration, string scope, long rowsCompared, long missing, long extra, long different, bool clean, double seconds);
}
