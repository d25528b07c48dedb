namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Reshapes signal_events' partitions so a test can put a boundary where it needs one.</summary>
public static class PartitionLayout
{
    /// <summary>
    /// Replaces the (empty) partition holding at by two, [its lower bound, at) and [at, its upper bound).
    /// Returns their names, lower first.
    /// </summary>
    public static async Task<(string Before, string After)> SplitAtAsync(this TestDatabase db, DateTimeOffset at)
    {
        var holding = await db.PartitionHoldingAsync(at);
        var (lower, upper) = await db.QueryAsync<(DateTime? Lower, DateTime? Upper)>(
            "SELECT lower_bound, upper_bound FROM partition_bounds('signal_events') WHERE partition = @holding",
            new { holding }) is [var bounds] ? bounds : throw new InvalidOperationException($"{holding} has no bounds");
        await db.ExecuteAsync($"""
            ALTER TABLE signal_events DETACH PARTITION "{holding}";
            DROP TABLE "{holding}";
            SELECT ensure_partition('signal_events', @lower, @at);
            SELECT ensure_partition('signal_events', @at, @upper);
            """, new { lower, at = at.UtcDateTime, upper });
        return (await db.PartitionHoldingAsync(at.AddTicks(-10)), await db.PartitionHoldingAsync(at));
    }

    /// <summary>
    /// The layout retention leaves: the (empty) MINVALUE history partition dropped, and a partition for each of
    /// the <paramref name="months"/> months before this one. Returns those, oldest first.
    /// </summary>
    public static async Task<IReadOnlyList<(string Name, DateTime Lower, DateTime Upper)>> PastMonthsAsync(this TestDatabase db, int months)
    {
        await db.ExecuteAsync("""
            ALTER TABLE signal_events DETACH PARTITION signal_events_history;
            DROP TABLE signal_events_history;
            SELECT ensure_month_partitions('signal_events', date_trunc('month', now(), 'UTC') - make_interval(months => @months), @months - 1);
            """, new { months });
        return await db.QueryAsync<(string, DateTime, DateTime)>("""
            SELECT partition, lower_bound, upper_bound FROM partition_bounds('signal_events')
             WHERE upper_bound <= date_trunc('month', now(), 'UTC') ORDER BY lower_bound
            """);
    }

    public static Task<string> PartitionHoldingAsync(this TestDatabase db, DateTimeOffset at) => db.ScalarAsync<string>("""
        SELECT partition FROM partition_bounds('signal_events')
         WHERE coalesce(lower_bound <= @at, true) AND coalesce(upper_bound > @at, true)
        """, new { at = at.UtcDateTime });

    /// <summary>Waits until the database's clock has passed at (the app shares the machine's clock).</summary>
    public static async Task WaitForDatabaseClockAsync(this TestDatabase db, DateTimeOffset at)
    {
        while (await db.ScalarAsync<bool>("SELECT clock_timestamp() <= @at", new { at = at.UtcDateTime }))
        {
            await Task.Delay(50);
        }
    }
}
