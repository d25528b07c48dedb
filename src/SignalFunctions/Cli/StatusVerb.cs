using System.CommandLine;
using System.Text.Json;
using Dapper;
using Npgsql;
using SignalFunctions.Stages;

namespace SignalFunctions.Cli;

/// <summary>`status [--json]`: each migration's stage, rollout and repair queue.</summary>
public static class StatusVerb
{
    public sealed record MigrationStatus(
        string Migration, string Stage, int Percent, string PreviousStage, long Version, DateTime UpdatedAt, string UpdatedBy, long RepairPending);

    public static Command Command()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON for machines instead of a table." };
        var command = new Command("status", "Show each migration's stage, rollout percentage and repair queue.") { json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var rows = await ReadAsync(services.GetRequiredService<NpgsqlDataSource>(), ct);
            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions
                {
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    WriteIndented = true,
                }));
                return 0;
            }
            Console.WriteLine($"{"MIGRATION",-16}{"STAGE",-12}{"ROLLOUT",-28}{"VERSION",-9}{"UPDATED (UTC)",-22}{"REPAIR QUEUE",12}");
            foreach (var row in rows)
            {
                var rollout = row.Percent >= 100 ? "100%" : $"{row.Percent}% (rest {row.PreviousStage})";
                Console.WriteLine($"{row.Migration,-16}{row.Stage,-12}{rollout,-28}{row.Version,-9}{row.UpdatedAt,-22:yyyy-MM-dd HH:mm:ss}{row.RepairPending,12}");
            }
            return 0;
        });
        return command;
    }

    public static async Task<IReadOnlyList<MigrationStatus>> ReadAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(string Migration, string Stage, int Percent, long Version, DateTime UpdatedAt, string UpdatedBy, long RepairPending)>(
            new CommandDefinition("""
                SELECT f.migration, f.stage, f.percent, f.version, f.updated_at, f.updated_by,
                       (SELECT count(*) FROM repair_entries r WHERE r.migration = f.migration AND r.resolved_at IS NULL)
                  FROM stage_flags f
                 ORDER BY f.migration
                """, cancellationToken: ct));
        return rows.Select(r =>
        {
            StageRules.TryParse(r.Stage, out var stage);
            return new MigrationStatus(r.Migration, r.Stage, r.Percent, stage.Previous().Name(), r.Version,
                DateTime.SpecifyKind(r.UpdatedAt, DateTimeKind.Utc), r.UpdatedBy, r.RepairPending);
        }).ToList();
    }
}
