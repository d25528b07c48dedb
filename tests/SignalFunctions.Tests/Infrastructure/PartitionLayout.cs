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
    /// Makes each of the <paramref name="count"/> months before this one a partition of its own, as after
    /// that many months of partitioned ingest. The (empty) history partition goes, or with
    /// <paramref name="keepHistory"/> ends where those months begin. Returns their names, oldest first.
    /// </summary>
    public static async Task<IReadOnlyList<string>> PastMonthsAsync(this TestDatabase db, int count, bool keepHistory = false)
    {
        await db.ExecuteAsync("ALTER TABLE signal_events DETACH PARTITION signal_events_history; DROP TABLE signal_events_history");
        if (keepHistory)
        {
            // DDL takes no parameters: the bound goes in as a literal.
            var bound = await db.ScalarAsync<DateTime>("SELECT date_trunc('month', now(), 'UTC') - make_interval(months => @count)", new { count });
            await db.ExecuteAsync($"""
                CREATE TABLE signal_events_history (LIKE signal_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE);
                ALTER TABLE signal_events ATTACH PARTITION signal_events_history FOR VALUES FROM (MINVALUE) TO ('{bound:yyyy-MM-dd HH:mm:ss}+00');
                """);
        }
        await db.ExecuteAsync(
            "SELECT ensure_month_partitions('signal_events', date_trunc('month', now(), 'UTC') - make_interval(months => @count), @count - 1)",
            new { count });
        return await db.QueryAsync<string>("""
            SELECT partition FROM partition_bounds('signal_events')
             WHERE lower_bound IS NOT NULL AND upper_bound <= date_trunc('month', now(), 'UTC') ORDER BY lower_bound
            """);
    }

    /// <summary>Inserts <paramref name="rows"/> events into the partition, a minute apart from its lower bound.</summary>
    public static Task FillAsync(this TestDatabase db, string partition, int rows) => db.ExecuteAsync("""
        INSERT INTO signal_events (id, signal_id, content_id, target_type, target_id, event_type, source_component, session_id, metadata, created_at)
        SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'article', gen_random_uuid(), 'impression', 'cta_button',
               'session, "' || i || '"', jsonb_build_object('page', '/blog/' || i, 'note', 'a, "quoted" note'),
               b.lower_bound + make_interval(mins => i)
          FROM partition_bounds('signal_events') b CROSS JOIN generate_series(1, @rows) i
         WHERE b.partition = @partition
        """, new { partition, rows });

    /// <summary>The named partitions with their bounds, oldest first.</summary>
    public static async Task<IReadOnlyList<(string Name, DateTime Lower, DateTime Upper)>> WithBoundsAsync(this TestDatabase db, IReadOnlyList<string> partitions) =>
        await db.QueryAsync<(string, DateTime, DateTime)>(
            "SELECT partition, lower_bound, upper_bound FROM partition_bounds('signal_events') WHERE partition = ANY(@partitions) ORDER BY lower_bound",
            new { partitions = partitions.ToArray() });

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
