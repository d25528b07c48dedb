using System.Diagnostics;
using Npgsql;
using SignalFunctions.Migrations.Declarations;

namespace SignalFunctions.EngineBench;

/// <summary>
/// The seed plans' backfill (star-schema-dual-write-plan.md §2.1, migrate-to-new-schema.ts): read
/// pages of 500 by OFFSET, ordered by id, then one INSERT per row from the client, each its own
/// round trip and commit. The mapping is the declaration's, so only the method differs. The
/// plan's 100 ms sleep between pages is left out, in the seed's favour.
/// </summary>
internal static class SeedMethod
{
    private const int PageSize = 500;

    private static readonly string InsertOne = $"""
        INSERT INTO signal_events ({SignalEventsMigration.TargetColumns})
        SELECT {SignalEventsMigration.SelectAsTarget}
          FROM (VALUES ($1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::uuid, $7::text, $8::text, $9::jsonb, $10::timestamptz))
               AS s({SignalEventsMigration.LegacyColumns})
        """;

    /// <summary>What one run took, split into reading pages and inserting rows.</summary>
    public sealed record Run(long Copied, TimeSpan Elapsed, TimeSpan Paging, TimeSpan FirstPage);

    public static async Task<Run> CopyAsync(NpgsqlDataSource dataSource, int rows, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var watch = Stopwatch.StartNew();
        var paging = TimeSpan.Zero;
        TimeSpan? firstPage = null;
        long copied = 0;
        for (var offset = 0; offset < rows; offset += PageSize)
        {
            var pageWatch = Stopwatch.StartNew();
            var page = await PageAsync(connection, offset, Math.Min(PageSize, rows - offset), ct);
            paging += pageWatch.Elapsed;
            firstPage ??= pageWatch.Elapsed;
            if (page.Count == 0)
            {
                break;
            }
            foreach (var row in page)
            {
                await using var insert = new NpgsqlCommand(InsertOne, connection);
                foreach (var value in row)
                {
                    insert.Parameters.Add(new NpgsqlParameter { Value = value });
                }
                copied += await insert.ExecuteNonQueryAsync(ct);
            }
        }
        return new Run(copied, watch.Elapsed, paging, firstPage ?? TimeSpan.Zero);
    }

    /// <summary>
    /// The seed's rate on the whole table, projected: OFFSET reads and discards every row before
    /// the page, so a page costs more the further it is; the sample only pays for its first pages.
    /// Page cost is taken as linear in the offset, between the sample's first page and the table's
    /// last (measured here); the per-row insert cost is the sample's.
    /// </summary>
    public static async Task<(double RowsPerSecond, TimeSpan LastPage)> ProjectAsync(NpgsqlDataSource dataSource, Run sample, long tableRows, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var lastPage = TimeSpan.MaxValue;
        for (var i = 0; i < 2; i++)
        {
            var watch = Stopwatch.StartNew();
            await PageAsync(connection, (int)Math.Max(0, tableRows - PageSize), PageSize, ct);
            lastPage = watch.Elapsed < lastPage ? watch.Elapsed : lastPage;
        }
        var insertPerRow = (sample.Elapsed - sample.Paging).TotalSeconds / sample.Copied;
        var pages = Math.Ceiling(tableRows / (double)PageSize);
        var seconds = tableRows * insertPerRow + pages * (sample.FirstPage + lastPage).TotalSeconds / 2;
        return (tableRows / seconds, lastPage);
    }

    private static async Task<List<object[]>> PageAsync(NpgsqlConnection connection, int offset, int limit, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand(
            $"SELECT {SignalEventsMigration.LegacyColumns} FROM blog_attribution_events ORDER BY id OFFSET $1 LIMIT $2", connection)
        {
            Parameters = { new() { Value = offset }, new() { Value = limit } },
        };
        await using var reader = await select.ExecuteReaderAsync(ct);
        var page = new List<object[]>(limit);
        while (await reader.ReadAsync(ct))
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            page.Add(values);
        }
        return page;
    }
}
