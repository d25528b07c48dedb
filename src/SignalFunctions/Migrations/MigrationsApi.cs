using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using SignalFunctions.Database;
using SignalFunctions.Ingest;
using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// GET /api/migrations: every migration's stage, backfill progress, latest parity report, repair
/// queue, recent stage changes, the guard, and what blocks the next stage.
/// </summary>
public static class MigrationsApi
{
    public static async Task<Results<Ok<IReadOnlyList<MigrationState>>, ProblemHttpResult>> Get(
        HttpContext context, NpgsqlDataSource dataSource, IStageFlagStore store, bool guardEnabled, CancellationToken ct)
    {
        try
        {
            var flags = await store.LoadAsync(ct);
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return TypedResults.Ok(await MigrationOverview.ReadAsync(connection, flags, guardEnabled, ct));
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            return Problems.Unavailable(context, "The database is unreachable.");
        }
    }
}
