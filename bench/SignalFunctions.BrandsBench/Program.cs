using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using SignalFunctions.Brands;

namespace SignalFunctions.BrandsBench;

/// <summary>
/// bench/brands.sh starts the cluster and builds; this program does the rest, on one database:
///   SignalFunctions.BrandsBench --pg CONNSTRING --app DLL [--positions N] [--sample N] [--brands N]
/// (1) demo-data fills the monolith; (2) the plan's backfill (OFFSET pages of 500 brand rows, then
/// per row: an INSERT per table, a query for its competitor rows and a brand_competitors lookup
/// per competitor, each a round trip and a commit) on a sample of collector results, projected to
/// the whole table; (3) the engine's backfill (the app's verb), then parity; (4) the dashboard query
/// over extracted_positions vs over mv_brand_daily_metrics, answers compared; (5) sizes before and
/// after. Exits 0 when the answers agree, parity is clean and the engine is at least 50× the plan.
/// </summary>
internal static partial class BrandsBenchProgram
{
    private const int PageSize = 500;

    private static async Task<int> Main(string[] args)
    {
        string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var pg = Arg("--pg");
        var app = Arg("--app");
        if (pg is null || app is null)
        {
            Console.Error.WriteLine("usage: SignalFunctions.BrandsBench --pg CONNSTRING --app DLL [--positions N] [--sample N] [--brands N]");
            return 2;
        }
        var positions = long.Parse(Arg("--positions") ?? "1000000", CultureInfo.InvariantCulture);
        var sample = int.Parse(Arg("--sample") ?? "2000", CultureInfo.InvariantCulture);
        var brands = int.Parse(Arg("--brands") ?? "200", CultureInfo.InvariantCulture);

        var server = new NpgsqlConnectionStringBuilder(pg) { Database = "postgres" };
        await using (var admin = NpgsqlDataSource.Create(server.ConnectionString))
        {
            await admin.CreateCommand("DROP DATABASE IF EXISTS brandsbench").ExecuteNonQueryAsync();
            await admin.CreateCommand("CREATE DATABASE brandsbench").ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(pg) { Database = "brandsbench", CommandTimeout = 0 }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var ok = true;

        Console.WriteLine($"## brand-metrics benchmark: {positions:N0} extracted_positions rows, {brands} brands");
        var (_, demo) = await VerbAsync(app, connectionString, "demo-data", "--rows", "1", "--clicks", "0", "--positions", positions.ToString(CultureInfo.InvariantCulture),
            "--brands", brands.ToString(CultureInfo.InvariantCulture), "--days", "90", "--seed", "42");
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM extracted_positions");
        var results = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE competitor_name IS NULL");
        Console.WriteLine($"demo-data: {rows:N0} rows, {results:N0} collector results ({demo.TotalSeconds:0.0} s)");
        await connection.ExecuteAsync("VACUUM ANALYZE");
        var before = await SizeAsync(connection, ["extracted_positions"]);

        // (2) The plan's method on a sample, then the star tables emptied again.
        var plan = await PlanMethodAsync(dataSource, sample);
        var lastPage = await PageTimeAsync(connection, (int)Math.Max(0, results - PageSize));
        var pages = Math.Ceiling(results / (double)PageSize);
        var perRow = (plan.Elapsed - plan.Paging).TotalSeconds / plan.Rows;
        var projected = rows / (rows * perRow + pages * (plan.FirstPage + lastPage).TotalSeconds / 2);
        await connection.ExecuteAsync("TRUNCATE metric_facts CASCADE");

        // (2b) The limit: the declaration's own fan-out as one statement over every brand row, no
        // batches, no checkpoints: what any method built on INSERT … SELECT could reach at best.
        var limitSeconds = await LimitAsync(connection);
        var limitRate = rows / limitSeconds;
        await connection.ExecuteAsync("TRUNCATE metric_facts CASCADE");
        await connection.ExecuteAsync("VACUUM ANALYZE");

        // (3) The engine, as an operator runs it: from dual_write on (the capture trigger in place), as the verb requires.
        await VerbAsync(app, connectionString, "stage", "brand-metrics", "dual_write", "--reason", "brands benchmark");
        var (backfillOut, backfillWall) = await VerbAsync(app, connectionString, "backfill", "brand-metrics", "--until-done");
        var engineSeconds = SecondsIn(backfillOut) ?? backfillWall.TotalSeconds;
        var engineRate = rows / engineSeconds;
        var (parityOut, _) = await VerbAsync(app, connectionString, "parity", "brand-metrics");
        var parityClean = parityOut.TrimEnd().EndsWith("\nclean", StringComparison.Ordinal);
        var paritySeconds = SecondsIn(parityOut);
        await connection.ExecuteAsync("VACUUM ANALYZE");
        var (refreshOut, _) = await VerbAsync(app, connectionString, "refresh-views");
        var after = await SizeAsync(connection, ["metric_facts", "brand_metrics", "competitor_metrics", "brand_sentiment", "competitor_sentiment"]);
        var view = await SizeAsync(connection, ["mv_brand_daily_metrics"]);

        // (4) The dashboard: each of the busiest brands over the last 30 days, both sides, answers compared.
        var dashboardBrands = (await connection.QueryAsync<Guid>("SELECT brand_id FROM metric_facts GROUP BY 1 ORDER BY count(*) DESC LIMIT 20")).ToList();
        var to = DateOnly.FromDateTime(DateTime.UtcNow);
        var from = to.AddDays(-29);
        var legacyTimes = new List<double>();
        var viewTimes = new List<double>();
        var same = true;
        for (var round = 0; round < 5; round++)
        {
            foreach (var brand in dashboardBrands)
            {
                var watch = Stopwatch.StartNew();
                var legacy = await BrandDailyMetrics.ReadAsync(connection, fromView: false, brand, from, to, null, CancellationToken.None);
                legacyTimes.Add(watch.Elapsed.TotalMilliseconds);
                watch.Restart();
                var fresh = await BrandDailyMetrics.ReadAsync(connection, fromView: true, brand, from, to, null, CancellationToken.None);
                viewTimes.Add(watch.Elapsed.TotalMilliseconds);
                same &= legacy.Count > 0 && legacy.SequenceEqual(fresh);
            }
        }
        var legacyMedian = Median(legacyTimes);
        var viewMedian = Median(viewTimes);

        var c = CultureInfo.InvariantCulture;
        var ratio = engineRate / projected;
        Console.WriteLine();
        Console.WriteLine("| measure | figure | baseline | ratio |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(string.Create(c, $"| backfill, extracted_positions rows/s | engine {engineRate:N0} ({rows:N0} rows in {engineSeconds:0.0} s) | plan's method {projected:N0} projected (sample {plan.Rows:N0} rows of {sample:N0} results at {plan.Rows / plan.Elapsed.TotalSeconds:N0} rows/s; OFFSET page {plan.FirstPage.TotalMilliseconds:0} → {lastPage.TotalMilliseconds:0} ms) | {ratio:0}× (target ≥ 50×) |"));
        Console.WriteLine(string.Create(c, $"| limit: the declaration's fan-out as one INSERT … SELECT statement over the table | {limitRate:N0} rows/s ({limitSeconds:0.0} s) | plan's method {projected:N0} | {limitRate / projected:0}×; the engine is {100 * engineRate / limitRate:0} % of it |"));
        Console.WriteLine(string.Create(c, $"| parity over {results:N0} collector results × 5 tables | {paritySeconds:0.0} s, {(parityClean ? "clean" : "NOT clean")} | | |"));
        Console.WriteLine(string.Create(c, $"| dashboard query, 30 days of one brand, median of {legacyTimes.Count} | view {viewMedian:0.00} ms | extracted_positions {legacyMedian:0.00} ms | {legacyMedian / viewMedian:0}× faster (plan claims 90×); same answer: {(same ? "yes" : "NO")} |"));
        Console.WriteLine(string.Create(c, $"| storage, table + indexes | five star tables {Mb(after.Total)} (indexes {Mb(after.Indexes)}) | extracted_positions {Mb(before.Total)} (indexes {Mb(before.Indexes)}) | {Change(after.Total, before.Total)} (plan claims 84 % less); indexes {Change(after.Indexes, before.Indexes)} (plan claims 67 % less) |"));
        Console.WriteLine(string.Create(c, $"| storage with mv_brand_daily_metrics | {Mb(after.Total + view.Total)} | {Mb(before.Total)} | {Change(after.Total + view.Total, before.Total)} |"));
        Console.WriteLine(refreshOut.Trim());

        ok &= same && parityClean && ratio >= 50;
        Console.WriteLine(ok ? "OK: same answers, parity clean, engine ≥ 50× the plan's method." : "FAILED: see the table.");
        return ok ? 0 : 1;
    }

    /// <summary>The new size against the old, as "N % less" or "N % more".</summary>
    private static string Change(long now, long before)
    {
        var percent = 100.0 * (now - before) / before;
        return string.Create(CultureInfo.InvariantCulture, $"{Math.Abs(percent):0} % {(percent <= 0 ? "less" : "more")}");
    }

    private static async Task<double> LimitAsync(NpgsqlConnection connection)
    {
        var m = SignalFunctions.Migrations.MigrationCatalog.Find("brand-metrics")!;
        var steps = string.Concat(m.CopyBatchSteps.Select(step => $"{step.Name} AS (\n{step.Sql}\n), "));
        var watch = Stopwatch.StartNew();
        await connection.ExecuteAsync($"""
            WITH batch AS (SELECT s.* FROM {m.Source} s WHERE {m.SourceFilter}), {steps}copied AS ({m.CopyBatchSql})
            SELECT count(*) FROM copied
            """);
        return watch.Elapsed.TotalSeconds;
    }

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MB");

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    [GeneratedRegex(@"in (\d+(?:\.\d+)?) s")]
    private static partial Regex Seconds();

    private static double? SecondsIn(string output) =>
        Seconds().Match(output) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    private static async Task<(long Total, long Indexes)> SizeAsync(NpgsqlConnection connection, string[] tables) =>
        await connection.QuerySingleAsync<(long, long)>(
            "SELECT sum(pg_total_relation_size(t::regclass))::bigint, sum(pg_indexes_size(t::regclass))::bigint FROM unnest(@tables) t", new { tables });

    private static async Task<(string Output, TimeSpan Wall)> VerbAsync(string app, string connectionString, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(app);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await output;
        if (process.ExitCode != 0 && args[0] != "parity")
        {
            throw new InvalidOperationException($"{string.Join(' ', args)} exited {process.ExitCode}: {await error}{text}");
        }
        return (text, watch.Elapsed);
    }

    private sealed record PlanRun(long Rows, TimeSpan Elapsed, TimeSpan Paging, TimeSpan FirstPage);

    private const string PageSql = "SELECT * FROM extracted_positions WHERE competitor_name IS NULL ORDER BY id OFFSET @offset LIMIT @limit";

    private static async Task<TimeSpan> PageTimeAsync(NpgsqlConnection connection, int offset)
    {
        var best = TimeSpan.MaxValue;
        for (var i = 0; i < 2; i++)
        {
            var watch = Stopwatch.StartNew();
            _ = (await connection.QueryAsync(PageSql, new { offset, limit = PageSize })).AsList();
            best = watch.Elapsed < best ? watch.Elapsed : best;
        }
        return best;
    }

    /// <summary>
    /// migrate-to-new-schema.ts with savePositionsToNewSchema's competitor loop: every statement its
    /// own round trip and commit. The 100 ms sleep between pages is left out, in the plan's favour.
    /// </summary>
    private static async Task<PlanRun> PlanMethodAsync(NpgsqlDataSource dataSource, int collectorResults)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var watch = Stopwatch.StartNew();
        var paging = TimeSpan.Zero;
        TimeSpan? firstPage = null;
        long rows = 0;
        for (var offset = 0; offset < collectorResults; offset += PageSize)
        {
            var pageWatch = Stopwatch.StartNew();
            var page = (await connection.QueryAsync(PageSql, new { offset, limit = Math.Min(PageSize, collectorResults - offset) })).Cast<IDictionary<string, object?>>().ToList();
            paging += pageWatch.Elapsed;
            firstPage ??= pageWatch.Elapsed;
            foreach (var b in page)
            {
                var fact = await connection.ExecuteScalarAsync<long>("""
                    INSERT INTO metric_facts (collector_result_id, brand_id, customer_id, query_id, collector_type, topic, processed_at, created_at)
                    VALUES (@collector_result_id, @brand_id, @customer_id, @query_id, @collector_type, @topic, @processed_at, @created_at) RETURNING id
                    """, b);
                await connection.ExecuteAsync("""
                    INSERT INTO brand_metrics (metric_fact_id, visibility_index, share_of_answers, has_brand_presence, brand_first_position,
                                               brand_positions, total_brand_mentions, total_word_count)
                    VALUES (@fact, @visibility_index, @share_of_answers_brand, @has_brand_presence, @brand_first_position,
                            @brand_positions, @total_brand_mentions, @total_word_count)
                    """, With(b, fact));
                if (b["sentiment_label"] is not null || b["sentiment_score"] is not null)
                {
                    await connection.ExecuteAsync("""
                        INSERT INTO brand_sentiment (metric_fact_id, sentiment_label, sentiment_score, positive_sentences, negative_sentences)
                        VALUES (@fact, @sentiment_label, @sentiment_score, coalesce(@sentiment_positive_sentences::jsonb, '[]'), coalesce(@sentiment_negative_sentences::jsonb, '[]'))
                        """, With(b, fact));
                }
                rows++;
                var competitors = (await connection.QueryAsync(
                    "SELECT * FROM extracted_positions WHERE collector_result_id = @collector_result_id AND competitor_name IS NOT NULL", b))
                    .Cast<IDictionary<string, object?>>().ToList();
                foreach (var row in competitors)
                {
                    rows++;
                    var competitor = await connection.ExecuteScalarAsync<int?>(
                        "SELECT id FROM brand_competitors WHERE brand_id = @brand_id AND competitor_name = @competitor_name", row);
                    if (competitor is null)
                    {
                        continue;
                    }
                    var args = With(row, fact);
                    args.Add("competitor", competitor);
                    await connection.ExecuteAsync("""
                        INSERT INTO competitor_metrics (metric_fact_id, competitor_id, visibility_index, share_of_answers, competitor_positions, competitor_mentions)
                        VALUES (@fact, @competitor, @visibility_index_competitor, @share_of_answers_competitor, @competitor_positions, @competitor_mentions)
                        """, args);
                    if (row["sentiment_label_competitor"] is not null || row["sentiment_score_competitor"] is not null)
                    {
                        await connection.ExecuteAsync("""
                            INSERT INTO competitor_sentiment (metric_fact_id, competitor_id, sentiment_label, sentiment_score, positive_sentences, negative_sentences)
                            VALUES (@fact, @competitor, @sentiment_label_competitor, @sentiment_score_competitor,
                                    coalesce(@sentiment_positive_sentences_competitor::jsonb, '[]'), coalesce(@sentiment_negative_sentences_competitor::jsonb, '[]'))
                            """, args);
                    }
                }
            }
        }
        return new PlanRun(rows, watch.Elapsed, paging, firstPage ?? TimeSpan.Zero);
    }

    private static DynamicParameters With(IDictionary<string, object?> row, long fact)
    {
        var parameters = new DynamicParameters(row);
        parameters.Add("fact", fact);
        return parameters;
    }
}
