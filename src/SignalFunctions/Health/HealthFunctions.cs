using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Npgsql;
using SignalFunctions.Brands;
using SignalFunctions.Stages;

namespace SignalFunctions.Health;

public sealed class HealthFunctions(NpgsqlDataSource dataSource, FlagState flags, WriteHealth writes, ShadowReads shadowReads)
{
    // For load balancers and uptime checks, which hold no key: up or down, nothing else.
    [Function("Health")]
    public Task<Results<Ok<HealthApi.Liveness>, JsonHttpResult<HealthApi.Liveness>>> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken ct) =>
        HealthApi.GetLiveness(dataSource, flags, writes, shadowReads, ct);

    // Error texts, table names and flag state: behind a function key in Azure.
    [Function("HealthDetails")]
    public Task<Results<Ok<HealthApi.HealthReport>, JsonHttpResult<HealthApi.HealthReport>>> HealthDetails(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "health/details")] HttpRequest request, CancellationToken ct) =>
        HealthApi.Get(dataSource, flags, writes, shadowReads, ct);
}
