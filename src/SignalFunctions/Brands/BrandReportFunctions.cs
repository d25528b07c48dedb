using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Brands;

/// <summary>A brand's daily numbers: a function key in Azure, and so no CORS, like the other reports.</summary>
public sealed class BrandReportFunctions(NpgsqlDataSource dataSource, FlagState flags, ShadowReads shadow, LiveOptions<ReadOptions> reads, ILoggerFactory loggers)
{
    [Function("BrandDailyReport")]
    public Task<Results<Ok<BrandReportsApi.BrandDailyReport>, ValidationProblem, ProblemHttpResult>> BrandDailyReport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "reports/brands/{brandId}/daily")] HttpRequest request, string brandId, CancellationToken ct) =>
        BrandReportsApi.GetDaily(brandId, request.HttpContext, dataSource, flags, shadow, reads, loggers, ct);
}
