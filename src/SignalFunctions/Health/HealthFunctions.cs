using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Npgsql;
using SignalFunctions.Brands;
using SignalFunctions.Flags;

namespace SignalFunctions.Health;

public sealed class HealthFunctions(NpgsqlDataSource dataSource, FlagState flags, WriteHealth writes, ShadowReads shadowReads)
{
    [Function("Health")]
    public Task<Results<Ok<HealthApi.HealthReport>, JsonHttpResult<HealthApi.HealthReport>>> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken ct) =>
        HealthApi.Get(dataSource, flags, writes, shadowReads, ct);
}
