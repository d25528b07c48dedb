using Dapper;
using Npgsql;
using SignalFunctions.Hosting;

namespace SignalFunctions.Demo;

/// <summary>
/// The legacy tables of intelligence-events (intelligence_legacy.sql) and content-queue
/// (content_legacy.sql), for demo-data and the tests: one source of their rows.
/// </summary>
public static class PlanLegacyTables
{
    public static string IntelligenceSql => EmbeddedFiles.Read("demo/intelligence_legacy.sql");

    public static string ContentSql => EmbeddedFiles.Read("demo/content_legacy.sql");

    /// <summary>Adds <paramref name="campaigns"/> campaigns over <paramref name="days"/> days and <paramref name="decisions"/> content decisions, in one transaction.</summary>
    public static async Task<PlanLegacyResult> FillAsync(NpgsqlConnection connection, string run, int campaigns, int days, int decisions, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        var (added, kpis) = campaigns > 0
            ? await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(IntelligenceSql, new { run, campaigns, days }, tx, commandTimeout: 0, cancellationToken: ct))
            : (0L, 0L);
        var posted = decisions > 0
            ? await connection.ExecuteScalarAsync<long>(new CommandDefinition(ContentSql, new { run, rows = decisions }, tx, commandTimeout: 0, cancellationToken: ct))
            : 0L;
        await tx.CommitAsync(ct);
        return new PlanLegacyResult(added, kpis, posted);
    }
}
