using Dapper;
using Npgsql;

namespace SignalFunctions.Brands;

/// <summary>
/// The dashboard's daily brand metrics, from either side of brand-metrics: the legacy query
/// aggregates the brand rows of extracted_positions at read time; the new one reads the
/// pre-aggregated mv_brand_daily_metrics (0009_brand_metrics.sql), a view brand-metrics declares,
/// refreshed CONCURRENTLY by the RefreshViews timer (Views/DeclaredViews.cs), so readers are never blocked and see it as of its last refresh.
/// </summary>
public static class BrandDailyMetrics
{
    public const string ViewName = "mv_brand_daily_metrics";

    // Averages rounded alike on both sides, so equal inputs give equal answers.
    private const string Columns = """
        metric_date AS MetricDate, collector_type AS CollectorType, round(avg_visibility, 4) AS AvgVisibility,
        round(avg_share, 4) AS AvgShare, presence_count AS PresenceCount, total_responses AS TotalResponses,
        round(avg_sentiment, 4) AS AvgSentiment, positive_count AS PositiveCount, negative_count AS NegativeCount,
        neutral_count AS NeutralCount, first_response AS FirstResponse, last_response AS LastResponse
        """;

    /// <summary>The plan's "current" query: the brand rows aggregated per day and collector at read time.</summary>
    public const string LegacySql = $"""
        SELECT {Columns}
          FROM (SELECT (processed_at AT TIME ZONE 'UTC')::date AS metric_date, collector_type,
                       avg(visibility_index) AS avg_visibility, avg(share_of_answers_brand) AS avg_share,
                       count(*) FILTER (WHERE has_brand_presence) AS presence_count, count(*) AS total_responses,
                       avg(sentiment_score) AS avg_sentiment,
                       count(*) FILTER (WHERE sentiment_label = 'POSITIVE') AS positive_count,
                       count(*) FILTER (WHERE sentiment_label = 'NEGATIVE') AS negative_count,
                       count(*) FILTER (WHERE sentiment_label = 'NEUTRAL') AS neutral_count,
                       min(processed_at) AS first_response, max(processed_at) AS last_response
                  FROM extracted_positions
                 WHERE brand_id = @brand AND competitor_name IS NULL
                   AND processed_at >= @from::date::timestamp AT TIME ZONE 'UTC'
                   AND processed_at < (@to::date + 1)::timestamp AT TIME ZONE 'UTC'
                   AND (@collector::text IS NULL OR collector_type = @collector)
                 GROUP BY 1, 2) d
         ORDER BY metric_date, collector_type
        """;

    public const string NewSql = $"""
        SELECT {Columns}
          FROM mv_brand_daily_metrics
         WHERE brand_id = @brand AND metric_date BETWEEN @from::date AND @to::date
           AND (@collector::text IS NULL OR collector_type = @collector)
         ORDER BY metric_date, collector_type
        """;

    public static async Task<IReadOnlyList<BrandDay>> ReadAsync(
        NpgsqlConnection connection, bool fromView, Guid brand, DateOnly from, DateOnly to, string? collector, CancellationToken ct) =>
        (await connection.QueryAsync<BrandDay>(new CommandDefinition(fromView ? NewSql : LegacySql, new
        {
            brand,
            from = from.ToDateTime(TimeOnly.MinValue),
            to = to.ToDateTime(TimeOnly.MinValue),
            collector,
        }, cancellationToken: ct))).ToList();

    /// <summary>When the view was last refreshed (null: never since the schema was made).</summary>
    public static async Task<DateTime?> RefreshedAtAsync(NpgsqlConnection connection, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT refreshed_at FROM view_refreshes WHERE view_name = @view", new { view = ViewName }, cancellationToken: ct)) is { } at
            ? DateTime.SpecifyKind(at, DateTimeKind.Utc)
            : null;
}
