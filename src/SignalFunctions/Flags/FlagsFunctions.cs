using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace SignalFunctions.Flags;

public sealed class FlagsFunctions(ILoggerFactory loggers)
{
    // Event Grid's webhook for App Configuration changes: the subscription URL carries the function key.
    [Function("FlagsChanged")]
    public Task<Results<Ok<FlagsApi.ValidationAnswer>, Accepted<FlagsApi.ChangeAnswer>, Ok<FlagsApi.ChangeAnswer>, ProblemHttpResult>> FlagsChanged(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "flags/changed")] HttpRequest request, CancellationToken ct) =>
        FlagsApi.PostChanged(request.HttpContext, loggers, ct);
}
