using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using SignalFunctions.Stages;

namespace SignalFunctions.Ingest;

/// <summary>
/// Records failed secondary writes, inside the transaction of the authoritative write, so the
/// repair job can replay them. The payload is the event in its canonical (new-side) form.
/// </summary>
public static class RepairQueue
{
    public static async Task AddSignalEventsAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string migration, Side side, List<SignalEvent> events, string error)
    {
        var payloads = events.Select(e => JsonSerializer.Serialize(new
        {
            id = e.Id,
            signal_id = e.SignalId,
            content_id = e.ContentId,
            content_type = e.ContentType,
            user_id = e.UserId,
            session_id = e.SessionId,
            target_type = e.TargetType,
            target_id = e.TargetId,
            event_type = e.EventType,
            source_component = e.SourceComponent,
            metadata = JsonDocument.Parse(e.MetadataJson).RootElement,
            // timestamptz keeps microseconds: the binary insert of the authoritative side truncates the
            // 100 ns ticks, while this text would be rounded when replayed. Truncate here too, so the
            // repaired row equals the authoritative one (parity compares them).
            created_at = e.CreatedAt.AddTicks(-(e.CreatedAt.Ticks % TimeSpan.TicksPerMicrosecond)),
        })).ToArray();
        await AddAsync(connection, tx, migration, side, "insert_event", events.Select(e => e.Id.ToString()).ToArray(), payloads, error);
    }

    public static async Task AddAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string migration, Side side, string operation,
        string[] keys, string[] payloads, string error)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO repair_entries (migration, target_side, entity_key, operation, payload, error)
            SELECT @migration, @side, k, @operation, p, @error FROM unnest(@keys, @payloads) AS r(k, p)
            """, connection, tx);
        command.Parameters.Add(new NpgsqlParameter<string>("migration", migration));
        command.Parameters.Add(new NpgsqlParameter<string>("side", side.Name()));
        command.Parameters.Add(new NpgsqlParameter<string>("operation", operation));
        command.Parameters.Add(new NpgsqlParameter<string>("error", error));
        command.Parameters.Add(new NpgsqlParameter<string[]>("keys", keys));
        command.Parameters.Add(new NpgsqlParameter<string[]>("payloads", payloads) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync();
    }
}
