using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Npgsql;

namespace SignalFunctions.Clicks;

/// <summary>
/// The click table and its export, for operators: a function key in Azure, and so no CORS (a key
/// never sits in a browser of another origin; the console is served by the app itself). Apart from
/// Ingest, which takes clicks from browsers.
/// </summary>
public sealed class ClickReadFunctions(NpgsqlDataSource dataSource)
{
    [Function("ClickList")]
    public Task<Results<Ok<ClickReadsApi.ClickPage>, ValidationProblem, ProblemHttpResult>> ClickList(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "clicks")] HttpRequest request, CancellationToken ct) =>
        ClickReadsApi.GetPage(request.HttpContext, dataSource, ct);

    [Function("ClickExport")]
    public Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> ClickExport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "clicks/export.csv")] HttpRequest request, CancellationToken ct) =>
        ClickReadsApi.Export(request.HttpContext, dataSource, ct);
}
