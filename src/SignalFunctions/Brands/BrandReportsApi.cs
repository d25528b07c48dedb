using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using SignalFunctions.Database;
using SignalFunctions.Flags;
using SignalFunctions.Ingest;
using SignalFunctions.Stages;
using SignalFunctions.Views;

namespace SignalFunctions.Brands;

/// <summary>
/// GET /api/reports/brands/{brandId}/daily?from=&amp;to=[&amp;collector=][&amp;reader=]: the dashboard's daily
/// brand metrics, from the side brand-metrics' stage reads for this brand (legacy through shadow,
/// the view from live), unless a reader switch (Reads__{reader}) pins the side for that reader. In
/// shadow and live a sampled share of requests (Reads__ComparePercent) also reads the other side
/// and compares; a difference is counted in /api/health and logged with both answers.
/// </summary>
public static partial class BrandReportsApi
{
    public sealed record BrandDailyReport(
        Guid BrandId, DateOnly From, DateOnly To, string? Collector, string? Reader, string Stage, string ServedFrom,
        bool Compared, DateTime? ViewRefreshedAt, IReadOnlyList<BrandDay> Days);

    [GeneratedRegex("^[a-z0-9_-]{1,40}$")]
    private static partial Regex NamePattern();

    public static bool IsReaderName(string name) => NamePattern().IsMatch(name);

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<Results<Ok<BrandDailyReport>, ValidationProblem, ProblemHttpResult>> GetDaily(
        string brandId, HttpContext context, NpgsqlDataSource dataSource, FlagState flags, ShadowReads shadow,
        LiveOptions<ReadOptions> reads, ILoggerFactory loggers, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (!Guid.TryParseExact(brandId, "D", out var brand))
        {
            errors.Add("brand_id", "must be a UUID such as 9f1c2d3e-4b5a-4c6d-8e7f-001122334455");
        }
        var range = ReportsApi.ReadRange(context.Request, errors);
        var collector = ReadName(context.Request, "collector", "a collector type such as chatgpt", errors);
        var reader = ReadName(context.Request, "reader", "the reading service's name such as dashboard", errors);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ByField, title: "The report request is invalid.");
        }
        if (flags.Current is not { } snapshot)
        {
            return Problems.Unavailable(context, "The stage flags are not loaded yet.");
        }
        var (from, to) = range!.Value;
        var stage = snapshot[KnownMigrations.BrandMetrics].StageFor(brand);
        var served = reader is not null && reads.Value.Readers.TryGetValue(reader, out var pinned) ? pinned : stage.ReadSide();
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "SELECT EXISTS (SELECT 1 FROM brands WHERE id = @brand)", new { brand }, cancellationToken: ct)))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such brand", detail: $"There is no brand {brand:D}.");
            }
            var days = await BrandDailyMetrics.ReadAsync(connection, served == Side.New, brand, from, to, collector, ct);
            var refreshedAt = await BrandDailyMetrics.RefreshedAtAsync(connection, ct);
            var compare = stage is Stage.Shadow or Stage.Live && refreshedAt is not null
                          && Random.Shared.NextDouble() * 100 < reads.Value.ComparePercent;
            if (compare)
            {
                var other = await BrandDailyMetrics.ReadAsync(connection, served == Side.Legacy, brand, from, to, collector, ct);
                // The view holds what its last refresh saw: days from the refresh's own day on are still filling.
                var settled = DateOnly.FromDateTime(refreshedAt!.Value);
                var (legacy, fresh) = served == Side.Legacy ? (days, other) : (other, days);
                var legacyDays = legacy.Where(d => d.MetricDate < settled).ToList();
                var newDays = fresh.Where(d => d.MetricDate < settled).ToList();
                var equal = legacyDays.SequenceEqual(newDays);
                string? difference = null;
                if (!equal)
                {
                    difference = $"brand {brand:D} {from:yyyy-MM-dd}..{to:yyyy-MM-dd} collector {collector ?? "(all)"}: " +
                                 $"legacy {JsonSerializer.Serialize(legacyDays, Json)} new {JsonSerializer.Serialize(newDays, Json)}";
                    LogMismatch(loggers.CreateLogger(typeof(BrandReportsApi)), KnownMigrations.BrandMetrics, difference);
                }
                shadow.Compared(KnownMigrations.BrandMetrics, equal, difference);
            }
            return TypedResults.Ok(new BrandDailyReport(brand, from, to, collector, reader, stage.Name(), served.Name(), compare, refreshedAt, days));
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            return Problems.Unavailable(context, "The database is unreachable.");
        }
    }

    private static string? ReadName(HttpRequest request, string name, string what, ValidationErrors errors)
    {
        var values = request.Query[name];
        if (values.Count == 0)
        {
            return null;
        }
        if (values.Count > 1)
        {
            errors.Add(name, "is given more than once; give it once");
            return null;
        }
        if (!IsReaderName(values[0] ?? ""))
        {
            errors.Add(name, $"must be {what}: 1 to 40 lowercase letters, digits, '-' or '_'; got '{Truncate(values[0] ?? "")}'");
            return null;
        }
        return values[0];
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shadow read of {Migration} differs: {Difference}")]
    private static partial void LogMismatch(ILogger logger, string migration, string difference);
}
