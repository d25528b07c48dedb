using System.CommandLine;
using System.Globalization;
using Npgsql;
using SignalFunctions.Demo;

namespace SignalFunctions.Cli;

/// <summary>`demo-data --rows N [--seed S] …`: fill the legacy tables with realistic data.</summary>
public static class DemoDataVerb
{
    public static Command Command()
    {
        var rows = new Option<long>("--rows") { Description = "How many blog_attribution_events rows to add (journeys of 1 to 12 events).", Required = true };
        var seed = new Option<long?>("--seed") { Description = "Repeat the shape of an earlier run (popularity, funnel, times); ids and journeys are always new. Default: random." };
        var articles = new Option<int>("--articles") { Description = "How many articles share the traffic, Zipf-like.", DefaultValueFactory = _ => 300 };
        var clicks = new Option<long?>("--clicks") { Description = "How many cuft_click_tracking rows to add. Default: a tenth of --rows." };
        var days = new Option<int>("--days") { Description = "Spread created_at over this many days up to now.", DefaultValueFactory = _ => 120 };
        var positions = new Option<long?>("--positions") { Description = "How many extracted_positions rows to add (about 4 per collector result: the brand row and its competitors). Default: a quarter of --rows." };
        var brands = new Option<int>("--brands") { Description = "How many new brands share those collector results (3 to 6 competitors each).", DefaultValueFactory = _ => 40 };
        var campaigns = new Option<int>("--campaigns") { Description = "How many intelligence-events campaigns to add, spread over --days days (agent task logs, assets, publish jobs; KPI snapshots per tenant and day).", DefaultValueFactory = _ => 500 };
        var decisions = new Option<int>("--decisions") { Description = "How many content-queue decisions to add (two in three posted, half of those measured).", DefaultValueFactory = _ => 2000 };
        Between(rows, 1, 100_000_000);
        Between(campaigns, 0, 10_000_000);
        Between(decisions, 0, 10_000_000);
        Between(positions, 0, 100_000_000);
        Between(brands, 1, 100_000);
        Between(articles, 1, 1_000_000);
        Between(days, 1, 3650);
        Between(clicks, 0, 100_000_000);

        var command = new Command("demo-data", """
            Add realistic rows to the legacy tables, for demos and benchmarks: blog_attribution_events (journeys
            with a signal_id in metadata for most and only a session for the rest, Zipf-like article popularity,
            a funnel from impression to convert, every legacy source component, spread over --days days),
            the matching blog_article_saves, blog_article_metrics per article and day, blog_listing_links, and
            cuft_click_tracking clicks with utm fields, some qualified with a score (those of the newer half of the
            days with the events chronology ingest records: phone and email clicks, form submits, leads, webhook
            status updates; the older half without one, for the click-events backfill), and the brand-metrics monolith
            (customers, brands, brand_competitors, generated_queries, collector_results, extracted_positions with a
            brand row and several competitor rows per result, sentiment present on some), the intelligence-events
            Phase 4.5 tables (campaigns with agent task logs in metadata, assets, publish jobs, KPI snapshots) and the
            content-queue bot tables (content_metadata, posted_decisions, outcomes). Set-based and parallel:
            1,000,000 events take seconds. Running it again adds more rows.
            """) { rows, seed, articles, clicks, days, positions, brands, campaigns, decisions };
        command.SetAction(async (parsed, ct) =>
        {
            var count = parsed.GetValue(rows);
            var request = new DemoDataRequest(
                count,
                parsed.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000),
                parsed.GetValue(articles),
                parsed.GetValue(clicks) ?? count / 10,
                parsed.GetValue(days),
                parsed.GetValue(positions) ?? count / 4,
                parsed.GetValue(brands),
                parsed.GetValue(campaigns),
                parsed.GetValue(decisions));
            await using var services = await OpsCli.ServicesAsync(ct);
            var result = await new DemoData(services.GetRequiredService<NpgsqlDataSource>()).FillAsync(request, Console.WriteLine, ct);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Done in {result.Elapsed.TotalSeconds:0.0} s: {result.Events:N0} events " +
                $"({result.Events / Math.Max(0.001, result.EventsElapsed.TotalSeconds):N0} rows/s), {result.Saves:N0} saves, " +
                $"{result.MetricsInserted:N0} metric days, {result.Links:N0} links, {result.Clicks:N0} clicks, " +
                $"{result.Positions?.Positions ?? 0:N0} extracted positions, " +
                $"{result.Plans?.Campaigns ?? 0:N0} campaigns, {result.Plans?.Decisions ?? 0:N0} content decisions. Seed {request.Seed}."));
            return 0;
        });
        return command;
    }

    // Reads the token itself: a value that is not a number is the parser's error to report, not a crash here.
    private static void Between(Option option, long min, long max) =>
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && long.TryParse(result.Tokens[0].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                && (value < min || value > max))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be a whole number from {min:N0} to {max:N0}; got {value}."));
            }
        });
}
