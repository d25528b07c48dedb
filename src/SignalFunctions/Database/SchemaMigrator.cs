using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using SignalFunctions.Hosting;

namespace SignalFunctions.Database;

/// <summary>
/// Applies the ordered schema files once each, recording a checksum so that an applied file that
/// was edited afterwards stops start-up instead of silently diverging.
/// </summary>
public sealed partial class SchemaMigrator(NpgsqlDataSource dataSource, ILogger<SchemaMigrator> logger)
{
    // Any constant works; it only has to be the same for every instance migrating at once.
    private const long MigrationLockKey = 0x5167_0001;

    public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct) => MigrateAsync(ct, stopBefore: null);

    /// <summary>
    /// Applies the files named before <paramref name="stopBefore"/> only (e.g. "0018"): tests build
    /// a database as it stood before a schema file, to fill it the way an existing one is.
    /// </summary>
    internal async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct, string? stopBefore)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Two instances starting together: the second waits, then finds everything applied. The lock
        // comes first: even CREATE TABLE IF NOT EXISTS races with itself.
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(@key)", new { key = MigrationLockKey }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("""
            CREATE TABLE IF NOT EXISTS schema_versions (
              file       text PRIMARY KEY,
              checksum   text NOT NULL,
              applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, transaction: tx, cancellationToken: ct));
        var applied = (await connection.QueryAsync<(string File, string Checksum)>(new CommandDefinition(
            "SELECT file, checksum FROM schema_versions", transaction: tx, cancellationToken: ct)))
            .ToDictionary(r => r.File, r => r.Checksum);

        var newlyApplied = new List<string>();
        foreach (var resource in EmbeddedFiles.Names("schema"))
        {
            var file = resource["schema/".Length..];
            if (stopBefore is not null && string.CompareOrdinal(file, stopBefore) >= 0)
            {
                break;
            }
            var sql = EmbeddedFiles.Read(resource);
            var checksum = Checksum(sql);
            if (applied.TryGetValue(file, out var recorded))
            {
                if (recorded != checksum)
                {
                    throw new SchemaDriftException(
                        $"Schema file {file} was changed after it was applied (recorded checksum {recorded}, " +
                        $"now {checksum}). Restore the file and put the change in a new numbered file.");
                }
                continue;
            }

            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO schema_versions (file, checksum) VALUES (@file, @checksum)",
                new { file, checksum }, tx, cancellationToken: ct));
            LogApplied(file);
            newlyApplied.Add(file);
        }
        await tx.CommitAsync(ct);
        if (newlyApplied.Count > 0)
        {
            // Types created by the schema (none yet, but enums would be) must be visible to the pool.
            await dataSource.ReloadTypesAsync(ct);
        }
        return newlyApplied;
    }

    /// <summary>
    /// Start-up: wait a while for a database that is still coming up, then apply the schema.
    /// False (after logging what to do) when the app must not start.
    /// </summary>
    public async Task<bool> MigrateAtStartupAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + StartupWait;
        while (true)
        {
            try
            {
                await MigrateAsync(ct);
                return true;
            }
            catch (SchemaDriftException ex)
            {
                LogDrift(ex.Message);
                return false;
            }
            catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex) && DateTime.UtcNow < deadline)
            {
                LogWaiting(ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), ct);
            }
            catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
            {
                LogUnreachable(ex.Message, StartupWait.TotalSeconds);
                return false;
            }
        }
    }

    private static readonly TimeSpan StartupWait = TimeSpan.FromSeconds(30);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Problem}")]
    private partial void LogDrift(string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database not reachable yet ({Error}); retrying")]
    private partial void LogWaiting(string error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Database unreachable for {Seconds} s ({Error}). Start PostgreSQL or fix ConnectionStrings__Signal, then start the app again.")]
    private partial void LogUnreachable(string error, double seconds);

    private static string Checksum(string sql) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n"))));

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema file {File}")]
    private partial void LogApplied(string file);
}
