using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Hosting;

namespace SignalFunctions.Ingest;

/// <summary>Signal events in (new and legacy payloads), a journey's path out, and the snippet that sends them.</summary>
public sealed class IngestFunctions(
    SignalEventWriter writer, IngestMeter meter, IOptions<IngestOptions> options, TimeProvider clock, NpgsqlDataSource dataSource, StageRouter stages)
{
    [Function("SignalEvents")]
    [BrowserFacing(Audience.Ingest)]
    public Task<Results<Accepted<IngestReceipt>, ValidationProblem, ProblemHttpResult>> SignalEvents(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "signal/events")] HttpRequest request, CancellationToken ct) =>
        SignalEventsApi.PostSignalEvents(request.HttpContext, writer, meter, options, clock, ct);

    [Function("LegacyAttributionEvents")]
    [BrowserFacing(Audience.Ingest)]
    public Task<Results<Accepted<IngestReceipt>, ValidationProblem, ProblemHttpResult>> LegacyAttributionEvents(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "blog/attribution/events")] HttpRequest request, CancellationToken ct) =>
        SignalEventsApi.PostLegacyAttributionEvents(request.HttpContext, writer, meter, options, clock, ct);

    // User ids, session ids and metadata: behind a function key in Azure, and so no CORS (a key never sits in a browser).
    [Function("SignalPath")]
    public Task<Results<Ok<SignalEventsApi.SignalPath>, ProblemHttpResult>> SignalPath(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "signal/{signalId}/path")] HttpRequest request, string signalId, CancellationToken ct) =>
        SignalEventsApi.GetPath(signalId, request.HttpContext, dataSource, stages, options, ct);

    [Function("SignalScript")]
    [BrowserFacing(Audience.Public)]
    public FileContentHttpResult SignalScript(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "options", Route = "signal.js")] HttpRequest request) =>
        SnippetApi.Get(request.HttpContext);
}
