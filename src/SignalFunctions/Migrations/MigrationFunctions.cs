using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Partitions;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

public sealed class MigrationFunctions(NpgsqlDataSource dataSource, IStageFlagStore store, StageGuard guard, PartitionRetention retention)
{
    // Internal state of every migration: behind a function key in Azure.
    [Function("Migrations")]
    public Task<Results<Ok<IReadOnlyList<MigrationState>>, ProblemHttpResult>> Migrations(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "migrations")] HttpRequest request, CancellationToken ct) =>
        MigrationsApi.Get(request.HttpContext, dataSource, store, guard.Enabled, retention, ct);
}
