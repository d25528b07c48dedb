using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

/// <summary>The embedded default: stage flags kept in PostgreSQL's stage_flags table.</summary>
public sealed class EmbeddedFlagStore(NpgsqlDataSource dataSource, TimeProvider clock) : IStageFlagStore
{
    public const string SourceName = "embedded";
    public const string NotifyChannel = "stage_flags";

    public async Task<FlagSnapshot> LoadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<FlagRow>(new CommandDefinition(
            "SELECT migration, stage, percent, version, updated_at AS UpdatedAt FROM stage_flags",
            cancellationToken: ct));
        var flags = new Dictionary<string, StageFlag>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            // The table's CHECK makes an unknown stage impossible; a newer app's stage name is not.
            if (StageRules.TryParse(row.Stage, out var stage))
            {
                flags[row.Migration] = new StageFlag(row.Migration, stage, row.Percent, row.Version, row.UpdatedAt);
            }
        }
        return new FlagSnapshot(flags, SourceName, clock.GetUtcNow());
    }

    public async Task<FlagSnapshot> LoadAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await LoadAsync(connection, ct);
    }

    /// <summary>Sets a stage; the table's trigger notifies every listening instance.</summary>
    public async Task<StageChange> SetStageAsync(string migration, Stage stage, int percent, string actor, StageFlag? expected, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var change = await connection.QuerySingleOrDefaultAsync<StageChangeRow>(new CommandDefinition("""
            WITH old AS (
              SELECT migration, stage, percent FROM stage_flags
               WHERE migration = @migration AND version = @version FOR UPDATE
            )
            UPDATE stage_flags f
               SET stage = @stage, percent = @percent, version = f.version + 1,
                   updated_at = now(), updated_by = @actor
              FROM old
             WHERE f.migration = old.migration
            RETURNING old.stage AS OldStage, old.percent AS OldPercent, f.version AS Version
            """, new { migration, stage = stage.Name(), percent, actor, version = expected?.Version }, cancellationToken: ct));
        if (change is null)
        {
            var now = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                "SELECT version FROM stage_flags WHERE migration = @migration", new { migration }, cancellationToken: ct));
            throw now is null
                ? new KeyNotFoundException($"No stage flag for migration '{migration}'.")
                : new StageFlagConflictException(migration, $"version {expected?.Version.ToString() ?? "none"} was read, it is {now} now");
        }
        StageRules.TryParse(change.OldStage, out var oldStage);
        return new StageChange(migration, oldStage, change.OldPercent, stage, percent, change.Version);
    }

    private sealed record FlagRow(string Migration, string Stage, int Percent, long Version, DateTime UpdatedAt);

    private sealed record StageChangeRow(string OldStage, int OldPercent, long Version);
}
