using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Hosting;

namespace SignalFunctions.Partitions;

/// <summary>
/// Keeps signal_events' monthly partitions ahead of time (at start and by the timer) and makes one on
/// demand for an event no partition covers, so no event is refused for want of one. Each partition is
/// made in its own short transaction by ensure_partition (0018): LIKE + ATTACH, which lets inserts and
/// reads go on. A database whose signal_events is still a plain table is left as it is.
/// </summary>
public sealed partial class EventPartitions(NpgsqlDataSource dataSource, IOptions<EventsOptions> options, ILogger<EventPartitions> logger)
{
    public const string Table = "signal_events";

    // [lowest, highest) as last read; null bounds are MINVALUE/MAXVALUE. Starts empty, so the first
    // write reads it.
    private volatile Coverage? _coverage;

    /// <summary>The Partitions timer: the months ahead (one summary line), then retention (PartitionRetention).</summary>
    public static async Task<TimerOutcome> RunTimerAsync(IServiceProvider services, CancellationToken ct)
    {
        var made = await services.GetRequiredService<EventPartitions>().EnsureAheadAsync(ct);
        var retention = await services.GetRequiredService<PartitionRetention>().RunTimerAsync(ct);
        return new([$"Partitions {Table}: {made} made", .. retention.Logs], retention.Failed);
    }

    /// <summary>The partition holding now and PartitionsAhead more, each made when missing; how many were made.</summary>
    public async Task<int> EnsureAheadAsync(CancellationToken ct)
    {
        var unit = UnitOf(DateTimeOffset.UtcNow, Months);
        var made = await EnsureCoveringAsync(unit, unit.AddMonths(Months * (options.Value.PartitionsAhead + 1)), ct);
        if (made > 0)
        {
            LogMade(made, Table);
        }
        return made;
    }

    /// <summary>
    /// Start-up: the months ahead, in case the timer has not run for a while. A failure is only logged:
    /// the writer makes a missing month on demand, so the app serves anyway.
    /// </summary>
    public async Task EnsureAtStartupAsync(CancellationToken ct)
    {
        try
        {
            await EnsureAheadAsync(ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            LogStartupFailed(ex, Table);
        }
    }

    /// <summary>
    /// True when every time in [from, to] has a partition, by the bounds last read. A partition dropped
    /// since is caught by the writer's failing insert, which then calls EnsureCoveringAsync.
    /// </summary>
    public bool Covers(DateTimeOffset from, DateTimeOffset to) =>
        _coverage is { } c && (c.Lowest is null || c.Lowest <= from.UtcDateTime) && (c.Highest is null || to.UtcDateTime < c.Highest);

    /// <summary>Makes the missing partitions holding any time in [from, to); how many were made.</summary>
    public async Task<int> EnsureCoveringAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (!await IsPartitionedAsync(connection, ct))
        {
            // A plain table takes any time: the writer need not ask again.
            _coverage = new Coverage(null, null);
            LogNotPartitioned(Table);
            return 0;
        }
        var made = 0;
        for (var unit = UnitOf(from, Months); unit < to; unit = unit.AddMonths(Months))
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            // ATTACH waits for SHARE UPDATE EXCLUSIVE: behind a VACUUM or ANALYZE of the parent, give up
            // and let the next run (or the next event) try again rather than hold writes up.
            await connection.ExecuteAsync(new CommandDefinition("SET LOCAL lock_timeout = '2s'", transaction: tx, cancellationToken: ct));
            made += await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT ensure_partition(@table, @lo, @hi)",
                new { table = Table, lo = unit.UtcDateTime, hi = unit.AddMonths(Months).UtcDateTime }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        _coverage = await connection.QuerySingleAsync<Coverage>(new CommandDefinition("""
            SELECT CASE WHEN bool_or(lower_bound IS NULL) THEN NULL ELSE min(lower_bound) END AS lowest,
                   CASE WHEN bool_or(upper_bound IS NULL) THEN NULL ELSE max(upper_bound) END AS highest
              FROM partition_bounds(@table)
            """, new { table = Table }, cancellationToken: ct));
        return made;
    }

    /// <summary>The partitions of signal_events, oldest first; empty while it is a plain table.</summary>
    public async Task<IReadOnlyList<PartitionInfo>> ListAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await ListAsync(connection, ct);
    }

    /// <summary>The same, on an open connection.</summary>
    public static async Task<IReadOnlyList<PartitionInfo>> ListAsync(NpgsqlConnection connection, CancellationToken ct) =>
        [.. await connection.QueryAsync<PartitionInfo>(new CommandDefinition("""
            SELECT b.partition AS name, b.lower_bound AS lower, b.upper_bound AS upper, b.detach_pending AS detachpending,
                   greatest(c.reltuples, -1)::bigint AS rows, pg_total_relation_size(c.oid) AS bytes
              FROM partition_bounds(@table) b JOIN pg_class c ON c.oid = b.partition::regclass
             ORDER BY b.lower_bound NULLS FIRST
            """, new { table = Table }, cancellationToken: ct))];

    /// <summary>True for the error PostgreSQL raises when no partition takes a row.</summary>
    public static bool IsMissingPartition(PostgresException ex) =>
        ex.SqlState == PostgresErrorCodes.CheckViolation && string.IsNullOrEmpty(ex.ConstraintName)
        && ex.MessageText.StartsWith("no partition of relation", StringComparison.Ordinal);

    private static Task<bool> IsPartitionedAsync(NpgsqlConnection connection, CancellationToken ct) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT coalesce((SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(@table)), false)",
            new { table = Table }, cancellationToken: ct));

    private int Months => options.Value.PartitionMonths;

    /// <summary>The start of the partition unit holding t: units of <paramref name="months"/> counted from January, UTC.</summary>
    internal static DateTimeOffset UnitOf(DateTimeOffset t, int months)
    {
        var utc = t.UtcDateTime;
        return new DateTimeOffset(utc.Year, 1 + (utc.Month - 1) / months * months, 1, 0, 0, 0, TimeSpan.Zero);
    }

    private sealed record Coverage(DateTime? Lowest, DateTime? Highest);

    [LoggerMessage(Level = LogLevel.Information, Message = "Made {Count} partition(s) of {Table}.")]
    private partial void LogMade(int count, string table);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not make the partitions ahead of {Table} at start; events still get a partition on demand.")]
    private partial void LogStartupFailed(Exception exception, string table);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Table} is still a plain table (it held rows before partitioning came): no partitions made. './run.sh partitions convert' partitions it online.")]
    private partial void LogNotPartitioned(string table);
}
