using System.Text.Json;
using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

/// <summary>
/// The last snapshot applied from App Configuration, kept in PostgreSQL (flag_snapshots, one row per
/// store and label): a cold start with App Configuration unreachable starts from it rather
/// than refusing every write.
/// </summary>
public sealed class LastKnownGood(NpgsqlDataSource dataSource)
{
    public const string SourceName = "last-known-good";

    public async Task SaveAsync(Uri store, FlagSnapshot snapshot, CancellationToken ct)
    {
        var flags = snapshot.Flags.ToDictionary(f => f.Key, f => new SavedFlag(f.Value.Stage.Name(), f.Value.Percent, f.Value.Version, f.Value.UpdatedAt));
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO flag_snapshots (store, label, flags, settings, rejected, etag, loaded_at, saved_at)
            VALUES (@store, @label, @flags::jsonb, @settings::jsonb, @rejected::jsonb, @etag, @loadedAt, now())
            ON CONFLICT (store, label) DO UPDATE
               SET flags = EXCLUDED.flags, settings = EXCLUDED.settings, rejected = EXCLUDED.rejected,
                   etag = EXCLUDED.etag, loaded_at = EXCLUDED.loaded_at, saved_at = now()
             -- Instances save concurrently: an older snapshot never replaces a newer one.
             WHERE flag_snapshots.loaded_at <= EXCLUDED.loaded_at
            """, new
        {
            store = store.ToString(), label = snapshot.Label ?? "",
            flags = JsonSerializer.Serialize(flags, SavedJson.Default.DictionaryStringSavedFlag),
            settings = JsonSerializer.Serialize(snapshot.Settings, SavedJson.Default.IReadOnlyDictionaryStringString),
            rejected = JsonSerializer.Serialize(snapshot.Rejected, SavedJson.Default.IReadOnlyDictionaryStringString),
            etag = snapshot.ETag, loadedAt = snapshot.LoadedAt,
        }, cancellationToken: ct));
    }

    /// <summary>The saved snapshot for this store and label, or null when there is none.</summary>
    public async Task<SavedSnapshot?> LoadAsync(Uri store, string? label, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition("""
            SELECT flags::text AS Flags, settings::text AS Settings, rejected::text AS Rejected, etag AS ETag,
                   loaded_at AS LoadedAt, saved_at AS SavedAt
              FROM flag_snapshots WHERE store = @store AND label = @label
            """, new { store = store.ToString(), label = label ?? "" }, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }
        var flags = new Dictionary<string, StageFlag>(StringComparer.Ordinal);
        foreach (var (migration, saved) in JsonSerializer.Deserialize(row.Flags, SavedJson.Default.DictionaryStringSavedFlag) ?? [])
        {
            // Saved by this app, so always a known stage, unless a newer app wrote it.
            if (StageRules.TryParse(saved.Stage, out var stage))
            {
                flags[migration] = new StageFlag(migration, stage, saved.Percent, saved.Version, saved.UpdatedAt);
            }
        }
        var snapshot = new FlagSnapshot(flags, SourceName, new DateTimeOffset(row.LoadedAt, TimeSpan.Zero),
            JsonSerializer.Deserialize(row.Settings, SavedJson.Default.IReadOnlyDictionaryStringString), label, row.ETag,
            JsonSerializer.Deserialize(row.Rejected, SavedJson.Default.IReadOnlyDictionaryStringString));
        return new SavedSnapshot(snapshot, new DateTimeOffset(row.SavedAt, TimeSpan.Zero));
    }

    private sealed record Row(string Flags, string Settings, string Rejected, string? ETag, DateTime LoadedAt, DateTime SavedAt);
}
