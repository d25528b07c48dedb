using SignalFunctions.Stages;
using static SignalFunctions.Migrations.Declarations.ContentTableMigration;

namespace SignalFunctions.Migrations.Declarations;

/// <summary>blog_article_metrics → signal_metrics (signal-platform-rename-plan.md), written by the analytics import.</summary>
public static class SignalMetricsMigration
{
    private static readonly string[] Counters =
        ["page_views", "unique_visitors", "avg_time_on_page", "organic_search", "direct_traffic", "social_traffic", "search_impressions", "search_clicks"];

    public static readonly DataMigration Declaration = Declare(
        KnownMigrations.SignalMetrics, "blog_article_metrics", "signal_metrics",
        // In the legacy table's order: the cut-over view must answer SELECT * as the table did.
        [
            new("id", "id"), new("article_id", "content_id"),
            .. new[]
            {
                "date", "page_views", "unique_visitors", "avg_time_on_page", "bounce_rate", "organic_search", "direct_traffic",
                "social_traffic", "search_impressions", "search_clicks", "avg_search_position", "created_at", "updated_at",
            }.Select(c => new Column(c, c)),
        ],
        legacyUnique: ["article_id", "date"],
        targetUnique: ["content_id", "content_type", "date"],
        rules:
        [
            // A day ahead of the database's date is allowed for time zones east of it.
            new("future_dated_metrics", RuleSeverity.Error,
                "SELECT count(*) FROM signal_metrics WHERE date > current_date + 1",
                "Metrics for days that have not happened yet."),
            new("negative_metrics", RuleSeverity.Warning,
                $"SELECT count(*) FROM signal_metrics WHERE least({string.Join(", ", Counters)}) < 0",
                "Counts or durations below zero: an import subtracted instead of adding."),
            new("bounce_rate_out_of_range", RuleSeverity.Warning,
                "SELECT count(*) FROM signal_metrics WHERE bounce_rate NOT BETWEEN 0 AND 100",
                "A bounce rate that is not a percentage."),
            new("more_search_clicks_than_impressions", RuleSeverity.Warning,
                "SELECT count(*) FROM signal_metrics WHERE search_clicks > search_impressions",
                "More search clicks than search impressions on one day."),
        ]);
}
