using System.Diagnostics;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Health;

/// <summary>GET /api/health: is the database there, how old are the flags, which side is failing.</summary>
public static class HealthApi
{
    public sealed record DatabaseHealth(bool Reachable, double? LatencyMs, string? Error);

    /// <summary>Source: embedded, app-configuration or last-known-good. Rejected: flag key → why it keeps its previous value.</summary>
    public sealed record FlagHealth(string? Source, bool Loaded, double? AgeSeconds, string? LastError, IReadOnlyDictionary<string, StageHealth> Stages,
        string? Label, string? Etag, IReadOnlyDictionary<string, string> Rejected);

    public sealed record StageHealth(string Stage, int Percent, long Version);

    public sealed record SideHealth(long WriteFailures, string? LastError, DateTimeOffset? LastFailureAt);

    public sealed record MigrationHealth(SideHealth Legacy, SideHealth New, long? RepairPending);

    public sealed record HealthReport(string Status, DatabaseHealth Database, FlagHealth Flags, IReadOnlyDictionary<string, MigrationHealth> Migrations);

    public static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> Get(
        NpgsqlDataSource dataSource, FlagState flags, WriteHealth writes, CancellationToken ct)
    {
        DatabaseHealth database;
        Dictionary<string, long>? pending = null;
        var watch = Stopwatch.StartNew();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            pending = (await connection.QueryAsync<(string Migration, long Count)>(new CommandDefinition(
                    "SELECT migration, count(*) FROM repair_entries WHERE resolved_at IS NULL GROUP BY migration",
                    cancellationToken: timeout.Token)))
                .ToDictionary(r => r.Migration, r => r.Count);
            database = new DatabaseHealth(true, Math.Round(watch.Elapsed.TotalMilliseconds, 1), null);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            database = new DatabaseHealth(false, null, ex.Message);
        }

        var snapshot = flags.Current;
        var flagHealth = new FlagHealth(
            snapshot?.Source, snapshot is not null, flags.Age is { } age ? Math.Round(age.TotalSeconds, 1) : null, flags.LastError,
            snapshot?.Flags.ToDictionary(f => f.Key, f => new StageHealth(f.Value.Stage.Name(), f.Value.Percent, f.Value.Version))
            ?? new Dictionary<string, StageHealth>(),
            snapshot?.Label, snapshot?.ETag, snapshot?.Rejected ?? new Dictionary<string, string>());

        var migrations = KnownMigrations.Names.ToDictionary(m => m, m => new MigrationHealth(
            Side(writes.For(m, Stages.Side.Legacy)), Side(writes.For(m, Stages.Side.New)),
            pending is null ? null : pending.GetValueOrDefault(m)));

        var healthy = database.Reachable && snapshot is not null;
        var anyFailures = migrations.Values.Any(m => m.Legacy.WriteFailures + m.New.WriteFailures > 0 || m.RepairPending > 0);
        var report = new HealthReport(healthy ? (anyFailures ? "degraded" : "healthy") : "unhealthy", database, flagHealth, migrations);
        return healthy ? TypedResults.Ok(report) : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static SideHealth Side(WriteHealth.SideCounters counters) =>
        new(Interlocked.Read(ref counters.Failures), counters.LastError, counters.LastFailureAt);
}
