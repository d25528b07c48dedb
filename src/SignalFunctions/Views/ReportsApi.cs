using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Database;
using SignalFunctions.Ingest;

namespace SignalFunctions.Views;

/// <summary>
/// Reports read from signal_daily_rollup, never from signal_events: the cost of a report does not
/// grow with traffic. Numbers are as of the last refresh (refreshed_at). "signals" are distinct
/// journeys per content and day, summed over the days of the range.
/// </summary>
public static class ReportsApi
{
    public static readonly IReadOnlyList<string> EventTypes = ["impression", "click", "save", "refer", "convert"];

    public static readonly IReadOnlyList<string> FunnelSteps = ["impression", "click", "save", "convert"];

    public const int MaxDays = 366;

    public sealed record Totals(long Events, long Signals, long Conversions);

    public sealed record DayPoint(DateOnly Day, long Events, long Signals, long Conversions, IReadOnlyDictionary<string, long> EventsByType);

    public sealed record ContentReport(
        Guid ContentId, DateOnly From, DateOnly To, DateTime? RefreshedAt,
        long Events, long Signals, long Conversions, double? ConversionRate,
        IReadOnlyDictionary<string, Totals> ByEventType, IReadOnlyList<DayPoint> Days);

    public sealed record FunnelStep(string EventType, long Events, long Signals, double? RateFromPrevious, double? RateFromFirst);

    public sealed record FunnelReport(DateOnly From, DateOnly To, DateTime? RefreshedAt, IReadOnlyList<FunnelStep> Steps);

    /// <summary>
    /// One content's performance: totals per event type, journeys, converting journeys and their
    /// rate, and a series with every day of the range (zeros included).
    /// </summary>
    public static Task<Results<Ok<ContentReport>, ValidationProblem, ProblemHttpResult>> GetContentReport(
        string contentId, HttpContext context, NpgsqlDataSource dataSource, IOptions<IngestOptions> options, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        // Checked here rather than by a route constraint: the Functions host forwards any segment.
        if (!Guid.TryParseExact(contentId, "D", out var content))
        {
            errors.Add("content_id", "must be a UUID such as 9f1c2d3e-4b5a-4c6d-8e7f-001122334455");
        }
        return ReportAsync(context, errors, dataSource, options.Value, async (connection, from, to) =>
        {
            var rows = (await connection.QueryAsync<RollupRow>(new CommandDefinition("""
                SELECT day, event_type AS EventType, events, signals, conversions
                  FROM signal_daily_rollup
                 WHERE content_id = @content AND day BETWEEN @from::date AND @to::date
                """, new { content, from = Date(from), to = Date(to) }, cancellationToken: ct))).ToList();
            return BuildContentReport(content, from, to, await RefreshedAtAsync(connection, ct), rows);
        }, ct);
    }

    /// <summary>impression → click → save → convert over every content: journeys per step and the step rates.</summary>
    public static Task<Results<Ok<FunnelReport>, ValidationProblem, ProblemHttpResult>> GetFunnel(
        HttpContext context, NpgsqlDataSource dataSource, IOptions<IngestOptions> options, CancellationToken ct) =>
        ReportAsync(context, new ValidationErrors(), dataSource, options.Value, async (connection, from, to) =>
        {
            var sums = (await connection.QueryAsync<(string EventType, long Events, long Signals)>(new CommandDefinition("""
                SELECT event_type, sum(events)::bigint, sum(signals)::bigint
                  FROM signal_daily_rollup
                 WHERE event_type = ANY(@steps) AND day BETWEEN @from::date AND @to::date
                 GROUP BY event_type
                """, new { steps = FunnelSteps.ToArray(), from = Date(from), to = Date(to) }, cancellationToken: ct)))
                .ToDictionary(r => r.EventType);
            var steps = new List<FunnelStep>();
            foreach (var type in FunnelSteps)
            {
                var (events, signals) = sums.TryGetValue(type, out var s) ? (s.Events, s.Signals) : (0L, 0L);
                steps.Add(new FunnelStep(type, events, signals,
                    steps.Count == 0 ? null : Rate(signals, steps[^1].Signals),
                    steps.Count == 0 ? (signals > 0 ? 1.0 : null) : Rate(signals, steps[0].Signals)));
            }
            return new FunnelReport(from, to, await RefreshedAtAsync(connection, ct), steps);
        }, ct);

    /// <summary>What every report does around its query: the range, every invalid field at once, 503 while the database is down.</summary>
    private static async Task<Results<Ok<T>, ValidationProblem, ProblemHttpResult>> ReportAsync<T>(
        HttpContext context, ValidationErrors errors, NpgsqlDataSource dataSource, IngestOptions options,
        Func<NpgsqlConnection, DateOnly, DateOnly, Task<T>> read, CancellationToken ct)
    {
        var range = ReadRange(context.Request, errors);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ByField, title: "The report request is invalid.");
        }
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return TypedResults.Ok(await read(connection, range!.Value.From, range.Value.To));
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Service unavailable",
                detail: $"The database is unreachable. Retry after {options.RetryAfterSeconds} s.");
        }
    }

    private static async Task<DateTime?> RefreshedAtAsync(NpgsqlConnection connection, CancellationToken ct) =>
        await DailyRollup.RefreshedAtAsync(connection, ct) is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null;

    public sealed record RollupRow(DateOnly Day, string EventType, long Events, long Signals, long Conversions);

    public static ContentReport BuildContentReport(Guid content, DateOnly from, DateOnly to, DateTime? refreshedAt, IReadOnlyList<RollupRow> rows)
    {
        var byType = EventTypes.ToDictionary(t => t, t => Sum(rows.Where(r => r.EventType == t)));
        var all = Sum(rows.Where(r => r.EventType == "all"));
        var byDay = rows.ToLookup(r => r.Day);
        var days = new List<DayPoint>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            var that = byDay[day].ToList();
            var whole = that.SingleOrDefault(r => r.EventType == "all");
            days.Add(new DayPoint(day, whole?.Events ?? 0, whole?.Signals ?? 0, whole?.Conversions ?? 0,
                EventTypes.ToDictionary(t => t, t => that.SingleOrDefault(r => r.EventType == t)?.Events ?? 0)));
        }
        return new ContentReport(content, from, to, refreshedAt, all.Events, all.Signals, all.Conversions,
            Rate(all.Conversions, all.Signals), byType, days);
    }

    private static Totals Sum(IEnumerable<RollupRow> rows)
    {
        long events = 0, signals = 0, conversions = 0;
        foreach (var r in rows)
        {
            events += r.Events;
            signals += r.Signals;
            conversions += r.Conversions;
        }
        return new Totals(events, signals, conversions);
    }

    /// <summary>A share rounded to 4 places; null when there is nothing to divide by.</summary>
    public static double? Rate(long part, long whole) => whole == 0 ? null : Math.Round((double)part / whole, 4);

    /// <summary>from and to: required UTC days as yyyy-MM-dd, from ≤ to, at most <see cref="MaxDays"/> days inclusive.</summary>
    public static (DateOnly From, DateOnly To)? ReadRange(HttpRequest request, ValidationErrors errors)
    {
        var from = ReadDay(request, "from", errors);
        var to = ReadDay(request, "to", errors);
        if (from is null || to is null)
        {
            return null;
        }
        if (to < from)
        {
            errors.Add("to", $"must not be before from ({Format(from.Value)}); got {Format(to.Value)}");
            return null;
        }
        var days = to.Value.DayNumber - from.Value.DayNumber + 1;
        if (days > MaxDays)
        {
            errors.Add("to", $"the range from {Format(from.Value)} to {Format(to.Value)} is {days} days; ask for at most {MaxDays} days at a time");
            return null;
        }
        return (from.Value, to.Value);
    }

    private static DateOnly? ReadDay(HttpRequest request, string name, ValidationErrors errors)
    {
        var values = request.Query[name];
        if (values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            errors.Add(name, $"is required: a UTC day as yyyy-MM-dd, e.g. ?{name}=2025-03-01");
            return null;
        }
        if (values.Count > 1)
        {
            errors.Add(name, "is given more than once; give it once");
            return null;
        }
        if (!DateOnly.TryParseExact(values[0], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            errors.Add(name, $"must be a UTC day as yyyy-MM-dd, e.g. 2025-03-01; got '{Truncate(values[0]!)}'");
            return null;
        }
        return day;
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static string Format(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    // Sent as a timestamp at midnight, cast to date in the SQL.
    private static DateTime Date(DateOnly day) => day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
}
