using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Dapper;
using Npgsql;

namespace SignalFunctions.Partitions;

/// <summary>
/// Writes a detached partition to DIR/P.csv.gz (CSV with a header, as COPY writes it, gzip) beside
/// DIR/P.json (bounds, rows, SHA-256, columns, how to restore), then reads the file back: its hash,
/// its header and its row count must match, or nothing is dropped. The file appears under its name
/// only once complete and on disk, so a crash leaves at most a .partial file, which the next run
/// writes again.
/// </summary>
public static class PartitionExport
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);

    // As COPY writes CSV; anything else in the file is damage, not data to recover from.
    private static readonly CsvReaderOptions ReadBack = CsvReaderOptions.Default with
    {
        Separator = ',',
        MalformedData = CsvMalformedDataHandling.Throw,
        FieldCountMismatch = CsvFieldCountHandling.Throw,
        SkipEmptyLines = false,
    };

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static string FileOf(string directory, string partition) => Path.GetFullPath(Path.Combine(directory, $"{partition}.csv.gz"));

    /// <summary>Makes the directory if missing and proves a file can be written there, before anything is detached.</summary>
    public static void EnsureWritable(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new RetentionRefusedException($"cannot write archives to {Path.GetFullPath(directory)}: {ex.Message}. Nothing was detached.");
        }
    }

    /// <param name="partition">A table detached from <paramref name="parent"/>, no longer written.</param>
    /// <param name="rows">Its row count, taken before: the file must hold exactly these.</param>
    /// <param name="oldest">Its oldest created_at, for restoring a history partition (no lower bound).</param>
    public static async Task<ArchivedFile> WriteAsync(
        NpgsqlConnection connection, string parent, string partition, DateTime? lower, DateTime upper, long rows, DateTime? oldest,
        string directory, IProgress<ExportProgress>? progress, CancellationToken ct)
    {
        var path = FileOf(directory, partition);
        var partial = path + ".partial";
        var columns = (await connection.QueryAsync<(string Name, string Type)>(new CommandDefinition("""
            SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = @partition::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
            """, new { partition }, cancellationToken: ct))).ToList();
        var columnList = string.Join(", ", columns.Select(c => Quote(c.Name)));

        var watch = Stopwatch.StartNew();
        byte[] sha256;
        using (var hash = SHA256.Create())
        {
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                // The hash is of the compressed bytes as they go to disk: the check below reads them back.
                await using (var hashing = new CryptoStream(file, hash, CryptoStreamMode.Write, leaveOpen: true))
                {
                    await using (var gzip = new GZipStream(hashing, CompressionLevel.Optimal, leaveOpen: true))
                    await using (var writer = new StreamWriter(gzip, new UTF8Encoding(false), 1 << 16))
                    using (var reader = await connection.BeginTextExportAsync(
                               $"COPY {Quote(partition)} ({columnList}) TO STDOUT (FORMAT csv, HEADER)", ct))
                    {
                        var buffer = new char[1 << 16];
                        long lines = 0, chars = 0;
                        var reported = TimeSpan.Zero;
                        int read;
                        while ((read = await reader.ReadAsync(buffer.AsMemory(), ct)) > 0)
                        {
                            await writer.WriteAsync(buffer.AsMemory(0, read), ct);
                            lines += buffer.AsSpan(0, read).Count('\n');
                            chars += read;
                            if (progress is not null && watch.Elapsed - reported >= ProgressEvery)
                            {
                                reported = watch.Elapsed;
                                progress.Report(new ExportProgress(partition, Math.Max(0, lines - 1), rows, chars, file.Position, watch.Elapsed));
                            }
                        }
                        progress?.Report(new ExportProgress(partition, Math.Max(0, lines - 1), rows, chars, file.Position, watch.Elapsed));
                    }
                    await hashing.FlushFinalBlockAsync(ct);
                }
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }
            sha256 = hash.Hash!;
        }
        File.Move(partial, path, overwrite: true);

        var archived = await CheckAsync(path, Convert.ToHexStringLower(sha256), [.. columns.Select(c => c.Name)], rows, ct);
        await WriteManifestAsync(path, parent, partition, lower, upper, oldest, archived, columns, ct);
        return archived;
    }

    /// <summary>Reads the file back: the same SHA-256, the columns as its header, and exactly the rows taken.</summary>
    private static async Task<ArchivedFile> CheckAsync(string path, string sha256, IReadOnlyList<string> columns, long rows, CancellationToken ct)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var onDisk = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        if (onDisk != sha256)
        {
            throw new InvalidOperationException($"the archive {path} reads back with SHA-256 {onDisk}, not the {sha256} written: the partition is kept detached; retire it again.");
        }
        stream.Position = 0;
        await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        // CSV may quote line ends inside a value: count records with a parser, not lines.
        using var csv = CsvReader.Create(gzip, ReadBack);
        await csv.ReadHeaderAsync(ct);
        if (!csv.Headers.SequenceEqual(columns))
        {
            throw new InvalidOperationException($"the archive {path} does not start with the header {string.Join(",", columns)}: the partition is kept detached; retire it again.");
        }
        long records = 0;
        while (await csv.ReadAsync(ct))
        {
            records++;
        }
        if (records != rows)
        {
            throw new InvalidOperationException($"the archive {path} holds {records} rows, not the {rows} of the partition: the partition is kept detached; retire it again.");
        }
        return new ArchivedFile(path, stream.Length, sha256, rows);
    }

    private static async Task WriteManifestAsync(
        string path, string parent, string partition, DateTime? lower, DateTime upper, DateTime? oldest, ArchivedFile archived,
        IReadOnlyList<(string Name, string Type)> columns, CancellationToken ct)
    {
        // A history partition has no lower bound: its months start at its oldest row.
        var from = lower ?? oldest ?? upper.AddMonths(-1);
        var manifest = new
        {
            table = parent,
            partition,
            rangeFrom = lower,
            rangeTo = upper,
            rows = archived.Rows,
            file = Path.GetFileName(path),
            fileBytes = archived.Bytes,
            archived.Sha256,
            columns = columns.Select(c => new { c.Name, c.Type }),
            exportedAt = DateTime.UtcNow,
            restore = new[]
            {
                $"./run.sh partitions ensure --from {from:yyyy-MM-ddTHH:mm:ssZ} --to {upper:yyyy-MM-ddTHH:mm:ssZ}",
                $"gunzip -c {Path.GetFileName(path)} | psql \"$DATABASE_URL\" -c \"\\copy {parent} ({string.Join(", ", columns.Select(c => c.Name))}) FROM STDIN (FORMAT csv, HEADER)\"",
            },
        };
        var manifestPath = Path.ChangeExtension(Path.ChangeExtension(path, null), ".json");
        await using (var file = new FileStream(manifestPath + ".partial", FileMode.Create, FileAccess.Write, FileShare.None, 4096, useAsync: true))
        {
            await JsonSerializer.SerializeAsync(file, manifest, Json, ct);
            file.Flush(flushToDisk: true);
        }
        File.Move(manifestPath + ".partial", manifestPath, overwrite: true);
    }

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
