using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Dapper;
using Npgsql;
using SignalFunctions.Hosting;

namespace SignalFunctions.Demo;

public sealed record DemoDataRequest(
    long Rows, long Seed, int Articles, long Clicks, int Days, long Positions = 0, int Brands = 40, int Campaigns = 0, int Decisions = 0);

public sealed record DemoDataResult(
    string Run, long Events, long Saves, long MetricsInserted, long MetricsUpdated, long Links, long Clicks,
    long QualifiedClicks, TimeSpan EventsElapsed, TimeSpan Elapsed, BrandPositionsResult? Positions = null, PlanLegacyResult? Plans = null);

/// <summary>
/// Fills the legacy tables with realistic data for demos and benchmarks (issue 3 §7), set-based:
/// every statement generates its rows with generate_series in the database. Attribution events
/// are written in chunks by one connection per core. Each run has its own nonce in session and
/// click ids, so running it again adds more rows rather than colliding.
/// </summary>
public sealed class DemoData(NpgsqlDataSource dataSource)
{
    private const long ChunkRows = 100_000;

    // A chunk's journeys come from their own block of numbers, so chunks never share a journey.
    private const long JourneyBlock = 10_000_000;

    /// <summary>Journeys average about 3.6 events; planning for 3 leaves a margin, so a chunk rarely falls short of its quota.</summary>
    private const double PlannedEventsPerJourney = 3.0;

    private static string Sql(string name) => EmbeddedFiles.Read($"demo/{name}.sql");

    internal const string UniformFunction = """
        CREATE OR REPLACE FUNCTION pg_temp.demo_u(k bigint, salt bigint) RETURNS float8
          LANGUAGE sql IMMUTABLE PARALLEL SAFE
          AS $$ SELECT (hashint8extended(k, salt) & 4294967295)::float8 / 4294967296 $$
        """;

    public async Task<DemoDataResult> FillAsync(DemoDataRequest request, Action<string> progress, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var run = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..4]);
        progress(string.Create(CultureInfo.InvariantCulture,
            $"demo-data run {run}, seed {request.Seed}: {request.Rows:N0} attribution events over {request.Articles} articles and {request.Days} days, {request.Clicks:N0} clicks"));

        var (events, eventsElapsed) = await AttributionEventsAsync(request, run, progress, ct);

        await using var connection = await OpenAsync(ct);
        var saves = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            Sql("article_saves"), new { prefix = $"demo-{run}-%" }, commandTimeout: 0, cancellationToken: ct));
        progress(string.Create(CultureInfo.InvariantCulture, $"  blog_article_saves        {saves,12:N0} new"));

        var metrics = await connection.QuerySingleAsync<(long Inserted, long Updated)>(new CommandDefinition(
            Sql("article_metrics"), new { request.Rows, request.Seed, request.Articles, request.Days }, commandTimeout: 0, cancellationToken: ct));
        progress(string.Create(CultureInfo.InvariantCulture, $"  blog_article_metrics      {metrics.Inserted,12:N0} new, {metrics.Updated:N0} days topped up"));

        var links = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            Sql("listing_links"), new { request.Articles, request.Days }, commandTimeout: 0, cancellationToken: ct));
        progress(string.Create(CultureInfo.InvariantCulture, $"  blog_listing_links        {links,12:N0} new"));

        long clicks = 0, qualified = 0, chronicled = 0;
        for (long first = 1; first <= request.Clicks; first += ChunkRows)
        {
            var count = Math.Min(ChunkRows, request.Clicks - first + 1);
            var chunk = await connection.QuerySingleAsync<(long Rows, long Qualified, long Chronicled)>(new CommandDefinition(
                Sql("click_tracking"), new { run, request.Seed, request.Days, first, count }, commandTimeout: 0, cancellationToken: ct));
            clicks += chunk.Rows;
            qualified += chunk.Qualified;
            chronicled += chunk.Chronicled;
        }
        progress(string.Create(CultureInfo.InvariantCulture,
            $"  cuft_click_tracking       {clicks,12:N0} new, {qualified:N0} qualified, {chronicled:N0} with an events chronology (the newer half of the days)"));

        BrandPositionsResult? positions = null;
        if (request.Positions > 0)
        {
            positions = await BrandPositions.FillAsync(connection, request.Brands,
                Math.Max(1, (long)(request.Positions / BrandPositions.RowsPerResult)), request.Days, request.Seed, ct);
            progress(string.Create(CultureInfo.InvariantCulture,
                $"  extracted_positions       {positions.Positions,12:N0} new ({positions.Results:N0} collector results of {positions.Brands} brands)"));
        }

        var plans = await PlanLegacyTables.FillAsync(connection, run, request.Campaigns, request.Days, request.Decisions, ct);
        progress(string.Create(CultureInfo.InvariantCulture,
            $"  campaigns                 {plans.Campaigns,12:N0} new (agent task logs, assets, publish jobs), kpi_snapshots {plans.KpiSnapshots:N0} in all"));
        progress(string.Create(CultureInfo.InvariantCulture,
            $"  content_metadata          {plans.Decisions,12:N0} new (posted_decisions and outcomes for those posted)"));

        // Fresh statistics, so the backfill and parity that usually follow plan well.
        await connection.ExecuteAsync(new CommandDefinition(
            "ANALYZE blog_attribution_events, blog_article_saves, blog_article_metrics, blog_listing_links, cuft_click_tracking, extracted_positions, brand_competitors, " +
            "campaigns, assets, publish_jobs, kpi_snapshots, content_metadata, posted_decisions, outcomes",
            commandTimeout: 0, cancellationToken: ct));
        return new DemoDataResult(run, events, saves, metrics.Inserted, metrics.Updated, links, clicks, qualified, eventsElapsed, total.Elapsed, positions, plans);
    }

    private async Task<(long Events, TimeSpan Elapsed)> AttributionEventsAsync(
        DemoDataRequest request, string run, Action<string> progress, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        // Chunk i always draws its journeys from block i + 1, so a seed gives the same shape however
        // the workers share the chunks; a rare top-up draws from blocks past the last chunk.
        var chunks = new ConcurrentQueue<(long Block, long Quota)>();
        long block = 0;
        for (var left = request.Rows; left > 0; left -= ChunkRows)
        {
            chunks.Enqueue((++block, Math.Min(ChunkRows, left)));
        }
        long nextTopUp = block, events = 0;
        var printLock = new Lock();
        var sql = Sql("attribution_events");

        async Task WorkAsync()
        {
            await using var connection = await OpenAsync(ct);
            while (chunks.TryDequeue(out var chunk))
            {
                for (var (from, missing) = chunk; missing > 0; from = Interlocked.Increment(ref nextTopUp))
                {
                    var written = await connection.ExecuteAsync(new CommandDefinition(sql, new
                    {
                        run,
                        request.Seed,
                        request.Articles,
                        request.Days,
                        first = from * JourneyBlock,
                        journeys = (long)Math.Ceiling(missing / PlannedEventsPerJourney) + 16,
                        quota = missing,
                    }, commandTimeout: 0, cancellationToken: ct));
                    missing -= written;
                    var done = Interlocked.Add(ref events, written);
                    lock (printLock)
                    {
                        progress(string.Create(CultureInfo.InvariantCulture,
                            $"  blog_attribution_events   {done,12:N0} / {request.Rows:N0} rows ({done / Math.Max(0.001, watch.Elapsed.TotalSeconds):N0} rows/s)"));
                    }
                }
            }
        }

        // One connection per core: generating rows is CPU-bound in the database.
        var workers = (int)Math.Min(Math.Clamp(Environment.ProcessorCount, 1, 4), chunks.Count);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => WorkAsync()));
        return (events, watch.Elapsed);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(UniformFunction, cancellationToken: ct));
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
