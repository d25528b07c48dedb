using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Ingest;

namespace SignalFunctions.Views;

/// <summary>Business numbers, not for the open web: a function key in Azure, and so no CORS (a key never sits in a browser).</summary>
public sealed class ReportFunctions(NpgsqlDataSource dataSource, IOptions<IngestOptions> options)
{
    [Function("ContentReport")]
    public Task<Results<Ok<ReportsApi.ContentReport>, ValidationProblem, ProblemHttpResult>> ContentReport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "reports/content/{contentId}")] HttpRequest request, string contentId, CancellationToken ct) =>
        ReportsApi.GetContentReport(contentId, request.HttpContext, dataSource, options, ct);

    [Function("FunnelReport")]
    public Task<Results<Ok<ReportsApi.FunnelReport>, ValidationProblem, ProblemHttpResult>> FunnelReport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "reports/funnel")] HttpRequest request, CancellationToken ct) =>
        ReportsApi.GetFunnel(request.HttpContext, dataSource, options, ct);
}
