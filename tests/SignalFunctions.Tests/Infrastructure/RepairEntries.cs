namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Repair queue fixtures: an entry as ingest queues it, and a side that refuses writes until told otherwise.</summary>
public static class RepairEntries
{
    public sealed record Entry(long Id, int Attempts, string Error, DateTime? ResolvedAt);

    /// <summary>
    /// Queues the new-side write of one signal event, as ingest does when signal_events fails in
    /// dual_write; returns the entry's id and the event's.
    /// </summary>
    public static async Task<(long Id, Guid EventId)> QueueNewSideEventAsync(TestDatabase db) => (await db.QueryAsync<(long, Guid)>("""
        WITH e AS (
          SELECT gen_random_uuid() AS id, gen_random_uuid() AS signal_id, gen_random_uuid() AS content_id, 'article' AS content_type,
                 NULL::uuid AS user_id, 's-repair' AS session_id, 'tutor' AS target_type, gen_random_uuid() AS target_id,
                 'click' AS event_type, 'tutor_embed' AS source_component, '{"page": "/blog/r"}'::jsonb AS metadata, now() AS created_at
        )
        INSERT INTO repair_entries (migration, target_side, entity_key, operation, payload, error)
        SELECT 'signal-events', 'new', e.id::text, 'insert_event', to_jsonb(e), '42P01: relation "signal_events" does not exist' FROM e
        RETURNING id, entity_key::uuid
        """)).Single();

    public static async Task<Entry> ReadAsync(TestDatabase db, long id) => (await db.QueryAsync<Entry>(
        "SELECT id, attempts, error, resolved_at AS ResolvedAt FROM repair_entries WHERE id = @id", new { id })).Single();

    /// <summary>Makes every insert into the table fail with this message (SQLSTATE P0001), until <see cref="UnblockAsync"/>.</summary>
    public static Task BlockInsertsAsync(TestDatabase db, string table, string message) => db.ExecuteAsync($"""
        CREATE FUNCTION test_block_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{message}'; END $$;
        CREATE TRIGGER test_block_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION test_block_{table}();
        """);

    public static Task UnblockAsync(TestDatabase db, string table) => db.ExecuteAsync($"""
        DROP TRIGGER test_block_{table} ON {table};
        DROP FUNCTION test_block_{table}();
        """);
}
