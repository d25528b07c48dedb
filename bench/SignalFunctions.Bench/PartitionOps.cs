using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace SignalFunctions.Bench;

/// <summary>
/// (e) The operations partitioning brings, timed on the filled table: the journey query as the number
/// of partitions grows, ATTACH of an empty month, and a month's retirement (DETACH … CONCURRENTLY, its
/// export to a gzip file, DROP).
/// </summary>
public static class PartitionOps
{
    /// <summary>The app's journey read (Ingest/SignalEventsApi.cs, PathFromNewSql): no time predicate, so every partition is probed.</summary>
    private const string JourneySql = """
        SELECT id, content_id, content_type, target_type, target_id, event_type, source_component, session_id, user_id,
               metadata::text, created_at
          FROM signal_events
         WHERE signal_id = $1
         ORDER BY created_at, id
         LIMIT 500
        """;

    /// <summary>
    /// Medians over the sampled journeys: planning and execution as EXPLAIN ANALYZE reports them, and a
    /// prepared statement's round trip; the relation locks one prepared run holds, and how many of them
    /// fit the backend's fast-path slots (the rest go through the shared lock table).
    /// </summary>
    public sealed record Journey(
        long Partitions, int Samples, double PlanningMs, double ExecutionMs, double PreparedMs, double RowsPerJourney, long Locks, long FastPathLocks);

    public sealed record Retirement(string Partition, long Rows, double DetachS, double ExportS, long CsvBytes, long GzipBytes, double DropMs);

    public static async Task<Journey> JourneyAsync(NpgsqlDataSource db, int samples)
    {
        await using var connection = await db.OpenConnectionAsync();
        var journeys = new List<Guid>();
        await using (var sample = new NpgsqlCommand($"SELECT DISTINCT signal_id FROM signal_events TABLESAMPLE SYSTEM (1) LIMIT {samples}", connection))
        await using (var reader = await sample.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                journeys.Add(reader.GetGuid(0));
            }
        }
        var partitions = (long)(await new NpgsqlCommand("SELECT count(*) FROM partition_bounds('signal_events')", connection).ExecuteScalarAsync())!;
        var planning = new List<double>();
        var execution = new List<double>();
        foreach (var journey in journeys)
        {
            await using var explain = new NpgsqlCommand($"EXPLAIN (ANALYZE, FORMAT JSON) {JourneySql}", connection)
            {
                Parameters = { new NpgsqlParameter { Value = journey } },
            };
            using var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!);
            planning.Add(plan.RootElement[0].GetProperty("Planning Time").GetDouble());
            execution.Add(plan.RootElement[0].GetProperty("Execution Time").GetDouble());
        }
        // As the app runs it: auto-prepared, so after five runs PostgreSQL may settle on a generic plan.
        await using var prepared = new NpgsqlCommand(JourneySql, connection) { Parameters = { new NpgsqlParameter<Guid> { TypedValue = Guid.Empty } } };
        await prepared.PrepareAsync();
        var roundTrips = new List<double>();
        long rows = 0;
        // The first round settles the plan; the second is timed.
        for (var round = 0; round < 2; round++)
        {
            foreach (var journey in journeys)
            {
                ((NpgsqlParameter<Guid>)prepared.Parameters[0]).TypedValue = journey;
                var watch = Stopwatch.StartNew();
                var read = 0;
                await using (var reader = await prepared.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        read++;
                    }
                }
                if (round == 1)
                {
                    roundTrips.Add(watch.Elapsed.TotalMilliseconds);
                    rows += read;
                }
            }
        }
        await using var tx = await connection.BeginTransactionAsync();
        prepared.Transaction = tx;
        await (await prepared.ExecuteReaderAsync()).DisposeAsync();
        await using var locks = new NpgsqlCommand(
            "SELECT count(*), count(*) FILTER (WHERE fastpath) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'", connection, tx);
        await using var held = await locks.ExecuteReaderAsync();
        await held.ReadAsync();
        return new Journey(partitions, journeys.Count, Median(planning), Median(execution), Median(roundTrips), (double)rows / Math.Max(1, journeys.Count),
            held.GetInt64(0), held.GetInt64(1));
    }

    /// <summary>
    /// <paramref name="count"/> empty months below the lowest partition, each made as the app makes one
    /// (ensure_partition: LIKE + ATTACH in its own transaction); milliseconds each.
    /// </summary>
    public static async Task<List<double>> AttachEmptyMonthsAsync(NpgsqlDataSource db, int count)
    {
        await using var connection = await db.OpenConnectionAsync();
        var lowest = (DateTime)(await new NpgsqlCommand("SELECT min(lower_bound) FROM partition_bounds('signal_events')", connection).ExecuteScalarAsync())!;
        var times = new List<double>();
        for (var i = 1; i <= count; i++)
        {
            await using var attach = new NpgsqlCommand("SELECT ensure_partition('signal_events', $1, $2)", connection)
            {
                Parameters = { new NpgsqlParameter { Value = lowest.AddMonths(-i) }, new NpgsqlParameter { Value = lowest.AddMonths(1 - i) } },
            };
            var watch = Stopwatch.StartNew();
            if (!(bool)(await attach.ExecuteScalarAsync())!)
            {
                throw new InvalidOperationException($"ensure_partition made no partition below {lowest:O}");
            }
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    /// <summary>
    /// Retention's steps on one filled month: DETACH … CONCURRENTLY (inserts and reads go on), the
    /// detached table to CSV through gzip (.NET's GZipStream, Optimal), DROP. <paramref name="afterDetach"/>
    /// is awaited between the detach and the export, so a load running beside the detach is over
    /// before the export and the DROP are timed.
    /// </summary>
    public static async Task<Retirement> RetireAsync(NpgsqlDataSource db, string partition, string directory, Func<Task> afterDetach)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = (long)(await new NpgsqlCommand($"SELECT count(*) FROM {partition}", connection).ExecuteScalarAsync())!;
        var watch = Stopwatch.StartNew();
        await using (var detach = new NpgsqlCommand($"ALTER TABLE signal_events DETACH PARTITION {partition} CONCURRENTLY", connection) { CommandTimeout = 0 })
        {
            await detach.ExecuteNonQueryAsync();
        }
        var detachS = watch.Elapsed.TotalSeconds;
        await afterDetach();

        var file = Path.Combine(directory, $"{partition}.csv.gz");
        long csvBytes;
        watch.Restart();
        await using (var output = File.Create(file))
        {
            await using var gzip = new GZipStream(output, CompressionLevel.Optimal);
            await using var counted = new CountingStream(gzip);
            await using (var csv = new StreamWriter(counted, new UTF8Encoding(false), 1 << 16))
            using (var copy = await connection.BeginTextExportAsync($"COPY {partition} TO STDOUT (FORMAT csv, HEADER)"))
            {
                var buffer = new char[1 << 16];
                int read;
                while ((read = await copy.ReadAsync(buffer)) > 0)
                {
                    await csv.WriteAsync(buffer.AsMemory(0, read));
                }
            }
            csvBytes = counted.Written;
        }
        var exportS = watch.Elapsed.TotalSeconds;
        var gzipBytes = new FileInfo(file).Length;
        File.Delete(file);

        watch.Restart();
        await using (var drop = new NpgsqlCommand($"DROP TABLE {partition}", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }
        return new Retirement(partition, rows, detachS, exportS, csvBytes, gzipBytes, watch.Elapsed.TotalMilliseconds);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Passes writes on, counting the bytes: the export's uncompressed size without a second pass.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Written += count;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Written += buffer.Length;
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
