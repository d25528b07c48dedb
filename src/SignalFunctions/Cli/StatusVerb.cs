using System.CommandLine;
using System.Text.Json;
using Npgsql;
using SignalFunctions.Migrations;
using SignalFunctions.Stages;

namespace SignalFunctions.Cli;

/// <summary>`status [--json]`: each migration's stage, rollout, backfill, parity, repair queue and the guard's steps back.</summary>
public static class StatusVerb
{
    public static Command Command()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON for machines instead of a table." };
        var command = new Command("status", "Show each migration's stage, rollout, backfill progress, latest parity, repair queue and the guard's recent steps back.") { json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var flags = await services.GetRequiredService<IStageFlagStore>().LoadAsync(ct);
            await using var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
            var states = await MigrationOverview.ReadAsync(connection, flags, ct);
            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(states, new JsonSerializerOptions
                {
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    WriteIndented = true,
                }));
                return 0;
            }
            // As wide as the longest name (and its cut-over mark) plus a gap, so columns line up.
            var name = Math.Max("MIGRATION".Length, states.Max(s => s.Migration.Length + 1)) + 2;
            Console.WriteLine($"{"MIGRATION".PadRight(name)}{"STAGE",-12}{"ROLLOUT",-26}{"BACKFILL",-30}{"PARITY",-26}{"REPAIR QUEUE",12}");
            foreach (var s in states)
            {
                var rollout = s.Percent >= 100 ? "100%" : $"{s.Percent}% (rest {s.PreviousStage})";
                var backfill = s.Backfill switch
                {
                    null => "-",
                    { Completed: true } b => $"complete ({b.RowsScanned:N0} rows)",
                    { RowsScanned: 0 } => "not started",
                    var b => $"{b.Percent ?? 0:0.0}% {b.RowsScanned:N0}/{b.RowsTotal:N0}" + (b.EtaSeconds is { } eta ? $" ETA {TimeSpan.FromSeconds(eta):hh\\:mm\\:ss}" : ""),
                };
                var parity = s.Parity switch
                {
                    null => s.Backfill is null ? "-" : "never run",
                    { Clean: true } p => $"clean, {p.FinishedAt:MM-dd HH:mm}",
                    var p => $"{p.Missing}/{p.Extra}/{p.Different} miss/extra/diff",
                };
                Console.WriteLine($"{(s.Migration + (s.CutOver ? "*" : "")).PadRight(name)}{s.Stage,-12}{rollout,-26}{backfill,-30}{parity,-26}{s.RepairPending,12}");
            }
            if (states.Any(s => s.CutOver))
            {
                Console.WriteLine("* cut over: the old table's name is a view over the new table");
            }
            var stepsBack = states.SelectMany(s => s.GuardActions.Select(a => (s.Migration, Action: a))).OrderByDescending(g => g.Action.ActedAt).ToList();
            if (stepsBack.Count > 0)
            {
                Console.WriteLine();
                Console.WriteLine("GUARD STEPS BACK (latest first)");
                foreach (var (migration, a) in stepsBack)
                {
                    Console.WriteLine($"{a.ActedAt:yyyy-MM-dd HH:mm:ss}  {migration.PadRight(name)}{a.FromStage} -> {a.ToStage}  {a.Rule}: {a.Reason}");
                }
            }
            return 0;
        });
        return command;
    }
}
