using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using SignalFunctions.Guard;
using SignalFunctions.Hosting;

namespace SignalFunctions.Ingest;

/// <summary>Click tracking: record a click, append to its chronology, and the signed qualification webhook.</summary>
public sealed class ClickFunctions(ClickWriter writer, IngestMeter meter, IOptions<IngestOptions> options, IOptions<ClickOptions> clickOptions)
{
    [Function("Clicks")]
    [BrowserFacing(Audience.Ingest)]
    public Task<Results<Accepted<ClickReceipt>, ValidationProblem, ProblemHttpResult>> Clicks(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "clicks")] HttpRequest request, CancellationToken ct) =>
        ClicksApi.PostClick(request.HttpContext, writer, meter, options, ct);

    [Function("ClickEvents")]
    [BrowserFacing(Audience.Ingest)]
    public Task<Results<Accepted<ClickEventReceipt>, ValidationProblem, ProblemHttpResult>> ClickEvents(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "clicks/{clickId}/events")] HttpRequest request, string clickId, CancellationToken ct) =>
        ClicksApi.PostClickEvent(clickId, request.HttpContext, writer, meter, options, ct);

    // Server to server, authenticated by its HMAC signature rather than a function key.
    [Function("ClickWebhook")]
    public Task<Results<Accepted<ClickEventReceipt>, ValidationProblem, ProblemHttpResult>> ClickWebhook(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "clicks/webhook")] HttpRequest request, CancellationToken ct) =>
        ClicksApi.PostWebhook(request.HttpContext, writer, meter, options, clickOptions, ct);
}
