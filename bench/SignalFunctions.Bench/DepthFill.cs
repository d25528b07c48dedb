using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace SignalFunctions.Bench;

/// <summary>
/// (e) Fills past months of signal_events with generated rows, the fastest way PostgreSQL allows: each
/// month a standalone table, filled by one INSERT … SELECT generate_series while it has no index, then
/// given the parent's primary key (as a constraint) and indexes, vacuumed, and attached. A CHECK on the
/// month's range lets ATTACH skip its scan, and the indexes of the parent's definitions are adopted,
/// not built again. Or the same rows in one plain table, keyed by id as before partitioning.
/// </summary>
public static partial class DepthFill
{
    public const string Table = "signal_events";

    /// <summary>One past month: [Lower, Upper) holding Rows rows; Index tells its journeys apart from other months'.</summary>
    public sealed record Month(int Index, DateTime Lower, DateTime Upper, long Rows)
    {
        public string Partition => $"{Table}_p{Lower:yyyy_MM}";
    }

    /// <summary>Seconds spent in each step, summed over the sessions, and the fill's wall time.</summary>
    public sealed record Times(double InsertS, double IndexS, double VacuumS, double AttachS, double WallS);

    /// <summary>Heap and per-index bytes of the filled tables (index names as on the parent).</summary>
    public sealed record Sizes(long Rows, int Tables, long HeapBytes, IReadOnlyList<(string Index, long Bytes)> Indexes)
    {
        public long IndexBytes => Indexes.Sum(i => i.Bytes);
    }

    private sealed record IndexDefinition(string Suffix, string Using, string? PrimaryKey);

    /// <summary>
    /// The plan's settings for a fill of tens of GB on the bench's own cluster: checkpoints far apart
    /// (max_wal_size) and index builds sorted in memory (maintenance_work_mem).
    /// </summary>
    public static async Task PrepareClusterAsync(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await BenchRun.Exec(connection, "ALTER SYSTEM SET max_wal_size = '8GB'");
        await BenchRun.Exec(connection, "ALTER SYSTEM SET maintenance_work_mem = '1GB'");
        await BenchRun.Exec(connection, "SELECT pg_reload_conf()");
    }

    /// <summary>The past months before this one, oldest first, <paramref name="rows"/> spread evenly over them.</summary>
    public static List<Month> Months(DateTime thisMonth, long rows, int months) =>
        Enumerable.Range(1, months).Reverse()
            .Select(back => new Month(back, thisMonth.AddMonths(-back), thisMonth.AddMonths(1 - back),
                rows / months + (back == 1 ? rows % months : 0)))
            .ToList();

    /// <summary>Drops every partition below this month (the empty history and earlier fills); the rest is truncated by the caller.</summary>
    public static async Task DropPastPartitionsAsync(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        foreach (var partition in await PastPartitionsAsync(db))
        {
            await BenchRun.Exec(connection, $"DROP TABLE {partition}");
        }
    }

    public static async Task<List<string>> PastPartitionsAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand(
            $"SELECT partition FROM partition_bounds('{Table}') WHERE upper_bound <= date_trunc('month', now(), 'UTC') ORDER BY upper_bound");
        await using var reader = await command.ExecuteReaderAsync();
        var partitions = new List<string>();
        while (await reader.ReadAsync())
        {
            partitions.Add(reader.GetString(0));
        }
        return partitions;
    }

    /// <summary>Each month a partition of the partitioned signal_events, <paramref name="sessions"/> months at a time.</summary>
    public static async Task<Times> FillPartitionedAsync(NpgsqlDataSource db, IReadOnlyList<Month> months, int sessions)
    {
        var definitions = await IndexDefinitionsAsync(db, Table);
        var queue = new ConcurrentQueue<Month>(months);
        var wall = Stopwatch.StartNew();
        var times = await Task.WhenAll(Enumerable.Range(0, sessions).Select(_ => Task.Run(async () =>
        {
            var sum = new Times(0, 0, 0, 0, 0);
            await using var connection = await db.OpenConnectionAsync();
            while (queue.TryDequeue(out var month))
            {
                var p = month.Partition;
                var step = Stopwatch.StartNew();
                await BenchRun.Exec(connection, $"""
                    CREATE TABLE {p} (LIKE {Table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE,
                      CONSTRAINT {p}_fill_range CHECK (created_at >= '{Iso(month.Lower)}' AND created_at < '{Iso(month.Upper)}'))
                    """);
                await InsertRowsAsync(connection, p, month);
                var insert = step.Elapsed.TotalSeconds;
                step.Restart();
                await BuildIndexesAsync(connection, p, definitions, primaryKey: null);
                var index = step.Elapsed.TotalSeconds;
                step.Restart();
                // As an old month is in production: visible to all, with statistics; autovacuum would
                // otherwise do it during the measurement.
                await BenchRun.Exec(connection, $"VACUUM (ANALYZE) {p}");
                var vacuum = step.Elapsed.TotalSeconds;
                step.Restart();
                await BenchRun.Exec(connection, $"ALTER TABLE {Table} ATTACH PARTITION {p} FOR VALUES FROM ('{Iso(month.Lower)}') TO ('{Iso(month.Upper)}')");
                await BenchRun.Exec(connection, $"ALTER TABLE {p} DROP CONSTRAINT {p}_fill_range");
                sum = new Times(sum.InsertS + insert, sum.IndexS + index, sum.VacuumS + vacuum, sum.AttachS + step.Elapsed.TotalSeconds, 0);
            }
            return sum;
        })));
        return Sum(times, wall.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Turns signal_events back into one plain table as a database before partitioning has it (primary
    /// key id, the same four indexes and statement triggers), holding <paramref name="months"/>' rows.
    /// The partitioned table stays beside it, renamed, with the views that read it.
    /// </summary>
    public static async Task<Times> FillPlainAsync(NpgsqlDataSource db, IReadOnlyList<Month> months, int sessions)
    {
        const string old = Table + "_partitioned";
        await using (var connection = await db.OpenConnectionAsync())
        {
            await BenchRun.Exec(connection, $"ALTER TABLE {Table} RENAME TO {old}");
            // Index names are unique per schema: the plain table takes the names a database before partitioning has.
            await using (var command = new NpgsqlCommand($"SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = '{old}'::regclass", connection))
            {
                var names = new List<string>();
                await using (var reader = await command.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        names.Add(reader.GetString(0));
                    }
                }
                foreach (var name in names)
                {
                    await BenchRun.Exec(connection, $"ALTER INDEX {name} RENAME TO {old}{name[Table.Length..]}");
                }
            }
            await BenchRun.Exec(connection, $"CREATE TABLE {Table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)");
            await using (var command = new NpgsqlCommand(
                $"SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = '{old}'::regclass AND tgparentid = 0 AND NOT tgisinternal", connection))
            {
                var triggers = new List<string>();
                await using (var reader = await command.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        triggers.Add(reader.GetString(0));
                    }
                }
                foreach (var trigger in triggers)
                {
                    await BenchRun.Exec(connection, trigger.Replace($" ON public.{old} ", $" ON public.{Table} ", StringComparison.Ordinal));
                }
            }
        }
        var definitions = await IndexDefinitionsAsync(db, old);
        var queue = new ConcurrentQueue<Month>(months);
        var wall = Stopwatch.StartNew();
        var inserts = await Task.WhenAll(Enumerable.Range(0, sessions).Select(_ => Task.Run(async () =>
        {
            var seconds = 0.0;
            await using var connection = await db.OpenConnectionAsync();
            while (queue.TryDequeue(out var month))
            {
                var step = Stopwatch.StartNew();
                await InsertRowsAsync(connection, Table, month);
                seconds += step.Elapsed.TotalSeconds;
            }
            return seconds;
        })));
        await using (var connection = await db.OpenConnectionAsync())
        {
            // One table: its index builds use PostgreSQL's parallel workers instead of sessions.
            var step = Stopwatch.StartNew();
            await BuildIndexesAsync(connection, Table, definitions, primaryKey: "PRIMARY KEY (id)");
            var index = step.Elapsed.TotalSeconds;
            step.Restart();
            await BenchRun.Exec(connection, $"VACUUM (ANALYZE) {Table}");
            return new Times(inserts.Sum(), index, step.Elapsed.TotalSeconds, 0, wall.Elapsed.TotalSeconds);
        }
    }

    /// <summary>
    /// This month's partition as the app's inserts built it (random ids: its indexes grew by page
    /// splits), beside the fill's indexes, which were built packed from sorted rows.
    /// </summary>
    public static async Task<Sizes> ThisMonthSizesAsync(NpgsqlDataSource db)
    {
        var partition = await BenchRun.Scalar<string>(db,
            $"SELECT partition FROM partition_bounds('{Table}') WHERE lower_bound <= now() AND upper_bound > now()");
        return await SizesAsync(db, [partition], await BenchRun.Scalar<long>(db, $"SELECT count(*) FROM {partition}"));
    }

    public static async Task<Sizes> SizesAsync(NpgsqlDataSource db, IReadOnlyList<string> tables, long rows)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var heap = new NpgsqlCommand("SELECT sum(pg_relation_size(t::regclass))::bigint FROM unnest($1::text[]) t", connection)
        {
            Parameters = { new NpgsqlParameter { Value = tables.ToArray() } },
        };
        var heapBytes = (long)(await heap.ExecuteScalarAsync())!;
        // A partition's index is named after its partition; the parent's index it belongs to names it here.
        await using var indexes = new NpgsqlCommand("""
            SELECT coalesce(pc.relname, ic.relname)::text, sum(pg_relation_size(ic.oid))::bigint
              FROM unnest($1::text[]) t
              JOIN pg_index i ON i.indrelid = t::regclass
              JOIN pg_class ic ON ic.oid = i.indexrelid
              LEFT JOIN pg_inherits h ON h.inhrelid = ic.oid
              LEFT JOIN pg_class pc ON pc.oid = h.inhparent
             GROUP BY 1 ORDER BY 1
            """, connection)
        {
            Parameters = { new NpgsqlParameter { Value = tables.ToArray() } },
        };
        var list = new List<(string, long)>();
        await using var reader = await indexes.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        return new Sizes(rows, tables.Count, heapBytes, list);
    }

    /// <summary>
    /// The month's rows: ids random, as browsers make them; a journey (signal_id) of eight events within
    /// the month; the same vocabularies as bench/ingest.lua; times evenly spread over the month.
    /// </summary>
    private static async Task InsertRowsAsync(NpgsqlConnection connection, string table, Month month)
    {
        await using var command = new NpgsqlCommand($"""
            INSERT INTO {table} (id, signal_id, content_id, content_type, session_id, target_type, target_id, event_type,
                                 source_component, metadata, created_at, recorded_at)
            SELECT gen_random_uuid(), md5('j' || $4 || '-' || (i / 8))::uuid, md5('c' || (i % 50))::uuid, 'article',
                   'fill-' || $4 || '-' || (i / 8),
                   (ARRAY['article','tutor','listing','booking','referral','wiselist_item'])[1 + i % 6], md5('t' || (i % 500))::uuid,
                   (ARRAY['impression','impression','impression','click','save','refer','convert'])[1 + i % 7],
                   (ARRAY['listing_grid','tutor_embed','tutor_carousel','cta_button','inline_link','floating_save','article_header'])[1 + i % 7],
                   jsonb_build_object('page', '/blog/post-' || (i % 50), 'ref', 'fill'), t, t
              FROM generate_series(0, $3 - 1) i, LATERAL (SELECT $1 + i * (($2 - $1) / $3::float8)) x(t)
            """, connection)
        {
            CommandTimeout = 0,
            Parameters =
            {
                new NpgsqlParameter { Value = month.Lower },
                new NpgsqlParameter { Value = month.Upper },
                new NpgsqlParameter { Value = month.Rows },
                new NpgsqlParameter { Value = month.Index },
            },
        };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task BuildIndexesAsync(NpgsqlConnection connection, string table, IReadOnlyList<IndexDefinition> definitions, string? primaryKey)
    {
        foreach (var d in definitions)
        {
            await BenchRun.Exec(connection, d.PrimaryKey is { } key
                ? $"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey {primaryKey ?? key}"
                : $"CREATE INDEX {table}{d.Suffix} ON {table} {d.Using}");
        }
    }

    /// <summary>The indexes of <paramref name="table"/> (a name starting with signal_events): name suffix, USING clause, primary key.</summary>
    private static async Task<List<IndexDefinition>> IndexDefinitionsAsync(NpgsqlDataSource db, string table)
    {
        await using var command = db.CreateCommand($"""
            SELECT c.relname, pg_get_indexdef(i.indexrelid), pg_get_constraintdef(k.oid)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.contype = 'p'
             WHERE i.indrelid = '{table}'::regclass
             ORDER BY i.indisprimary DESC, c.relname
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<IndexDefinition>();
        while (await reader.ReadAsync())
        {
            list.Add(new IndexDefinition(reader.GetString(0)[table.Length..], UsingClause().Match(reader.GetString(1)).Value,
                reader.IsDBNull(2) ? null : reader.GetString(2)));
        }
        return list;
    }

    private static Times Sum(Times[] times, double wall) =>
        new(times.Sum(t => t.InsertS), times.Sum(t => t.IndexS), times.Sum(t => t.VacuumS), times.Sum(t => t.AttachS), wall);

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex("USING .*$")]
    private static partial Regex UsingClause();
}
