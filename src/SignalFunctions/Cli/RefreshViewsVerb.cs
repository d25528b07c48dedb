using System.CommandLine;
using System.Text.Json;
using SignalFunctions.Views;

namespace SignalFunctions.Cli;

/// <summary>`refresh-views [--full] [--json]`: refresh every declared view now, as the RefreshViews timer does.</summary>
public static class RefreshViewsVerb
{
    public static Command Command()
    {
        var full = new Option<bool>("--full") { Description = "Recompute every bucket of a rollup (and apply only the differences) instead of those touched since the last refresh." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON for machines (benchmarks, scripts)." };
        var command = new Command("refresh-views", $"""
            Refresh every view the migrations declare ({string.Join(", ", DeclaredViews.All.Select(v => v.Name))}), one line each.
            A materialized view is refreshed whole, CONCURRENTLY. The rollup signal_daily_rollup, which the reports read, is
            incremental by default: only the (content, day) buckets with rows recorded since the last refresh, or updated or
            deleted. A full refresh runs instead when it is the first, after a TRUNCATE, when the periodic one is due
            (Views__FullRefreshHours), or when a quarter of all buckets changed. Readers are never blocked. The gate past
            shadow wants a migration's views refreshed after its last backfill batch. Exits 1 if another refresh is running.
            """) { full, json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var results = await services.GetRequiredService<DeclaredViews>().RefreshAllAsync(parsed.GetValue(full), ct);
            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    Views = results.Select(r => new
                    {
                        r.View,
                        r.Skipped,
                        Mode = r.Rollup?.Mode.ToString().ToLowerInvariant(),
                        r.Rollup?.FullReason,
                        r.Rollup?.Buckets,
                        r.Rollup?.LoggedBuckets,
                        r.Rollup?.RowsWritten,
                        r.Rollup?.RowsDeleted,
                        r.Rollup?.RowsTotal,
                        ElapsedMs = Math.Round(r.Elapsed.TotalMilliseconds, 1),
                        r.Summary,
                    }),
                }, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            }
            foreach (var r in results.Where(r => !parsed.GetValue(json) || r.Skipped))
            {
                if (r.Skipped)
                {
                    Console.Error.WriteLine($"error: {r.Summary}; try again when it ends.");
                }
                else
                {
                    Console.WriteLine(r.Summary);
                }
            }
            return results.Any(r => r.Skipped) ? 1 : 0;
        });
        return command;
    }
}
