using System.CommandLine;
using System.Text.Json;
using SignalFunctions.Views;

namespace SignalFunctions.Cli;

/// <summary>`refresh-views [--full] [--json]`: refresh the daily rollup now, as the RefreshViews timer does.</summary>
public static class RefreshViewsVerb
{
    public static Command Command()
    {
        var full = new Option<bool>("--full") { Description = "Recompute every bucket (and apply only the differences) instead of those touched since the last refresh." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON for machines (benchmarks, scripts)." };
        var command = new Command("refresh-views", """
            Refresh signal_daily_rollup, which the reports read, and mv_brand_daily_metrics (always whole, CONCURRENTLY). Incremental by default: only the (content, day)
            buckets with rows recorded since the last refresh, or updated or deleted. A full refresh runs instead
            when it is the first, after a TRUNCATE, when the periodic one is due (Views__FullRefreshHours), or when
            a quarter of all buckets changed. Readers are never blocked. Exits 1 if another refresh is running.
            """) { full, json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var refresh = await services.GetRequiredService<DailyRollup>().RefreshAsync(parsed.GetValue(full), ct);
            var brands = await services.GetRequiredService<Brands.BrandDailyMetrics>().RefreshAsync(ct);
            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    refresh.Skipped,
                    Mode = refresh.Mode.ToString().ToLowerInvariant(),
                    refresh.FullReason,
                    refresh.Buckets,
                    refresh.LoggedBuckets,
                    refresh.RowsWritten,
                    refresh.RowsDeleted,
                    refresh.RowsTotal,
                    ElapsedMs = Math.Round(refresh.Elapsed.TotalMilliseconds, 1),
                    refresh.Summary,
                    BrandView = brands,
                }, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            }
            else if (refresh.Skipped)
            {
                Console.Error.WriteLine($"error: {refresh.Summary}; try again when it ends.");
            }
            else
            {
                Console.WriteLine(refresh.Summary);
                Console.WriteLine(brands);
            }
            return refresh.Skipped ? 1 : 0;
        });
        return command;
    }
}
