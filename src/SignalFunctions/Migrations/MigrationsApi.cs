using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using SignalFunctions.Database;
using SignalFunctions.Flags;
using SignalFunctions.Ingest;
using SignalFunctions.Partitions;

namespace SignalFunctions.Migrations;

/// <summary>
/// GET /api/migrations: every migration's stage, backfill progress, latest parity report, repair
/// queue, recent stage changes, the guard, and what blocks the next stage; signal-events also
/// carries signal_events' partitions and retention.
/// </summary>
public static class MigrationsApi
{
    public static async Task<Results<Ok<IReadOnlyList<MigrationState>>, ProblemHttpResult>> Get(
        HttpContext context, NpgsqlDataSource dataSource, IStageFlagStore store, bool guardEnabled, PartitionRetention retention, CancellationToken ct)
    {
        try
        {
            var flags = await store.LoadAsync(ct);
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var partitions = await retention.SummaryAsync(connection, flags, ct);
            return TypedResults.Ok(await MigrationOverview.ReadAsync(connection, flags, guardEnabled, partitions, ct));
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            return Problems.Unavailable(context, "The database is unreachable.");
        }
    }
}
