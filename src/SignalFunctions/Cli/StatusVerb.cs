using System.CommandLine;
using System.Text.Json;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Migrations;
using SignalFunctions.Partitions;

namespace SignalFunctions.Cli;

/// <summary>`status [--json]`: each migration's stage, rollout, backfill, parity, repair queue, what blocks its next stage, the guard's steps back, and signal_events' partitions.</summary>
public static class StatusVerb
{
    public static Command Command()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON for machines instead of a table." };
        var command = new Command("status", "Show each migration's stage, rollout, backfill progress, latest parity, repair queue, what blocks its next stage and the guard's recent steps back; then signal_events' partitions: the range covered, retention, what is due and what holds it back, the last retirements.") { json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var flags = await services.GetRequiredService<IStageFlagStore>().LoadAsync(ct);
            await using var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
            var partitions = await services.GetRequiredService<PartitionRetention>().SummaryAsync(connection, flags, ct);
            var states = await MigrationOverview.ReadAsync(connection, flags, services.GetRequiredService<StageGuard>().Enabled, partitions, ct);
            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(states, new JsonSerializerOptions
                {
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    WriteIndented = true,
                }));
                return 0;
            }
            if (states.Count == 0)
            {
                // A store without flags (a new App Configuration store) has nothing to show yet.
                Console.WriteLine("No migration has a stage flag yet; create one with './run.sh stage MIGRATION off'.");
                Section("EVENT PARTITIONS", PartitionLines(partitions));
                return 0;
            }
            // As wide as the longest name (and its cut-over mark) plus a gap, so columns line up.
            var name = Math.Max("MIGRATION".Length, states.Max(s => s.Migration.Length + 1)) + 2;
            Console.WriteLine($"{"MIGRATION".PadRight(name)}{"STAGE",-12}{"ROLLOUT",-26}{"BACKFILL",-36}{"ROWS/S",-10}{"PARITY",-26}{"REPAIR QUEUE",12}");
            foreach (var s in states)
            {
                var rollout = s.Percent >= 100 ? "100%" : $"{s.Percent}% (rest {s.PreviousStage})";
                var backfill = s.Backfill switch
                {
                    null => "-",
                    { Completed: true } b => $"complete ({b.RowsScanned:N0} rows)",
                    { RowsScanned: 0 } => "not started",
                    var b => $"{b.Percent ?? 0:0.0}% {b.RowsScanned:N0}/{b.RowsTotal:N0}" + (b.EtaSeconds is { } eta ? $" ETA {EtaText.Of(TimeSpan.FromSeconds(eta))}" : ""),
                };
                var rate = s.Backfill?.RowsPerSecond is { } r ? $"{r:N0}" : "-";
                var parity = s.Parity switch
                {
                    null => s.Backfill is null ? "-" : "never run",
                    { Clean: true } p => $"clean, {p.FinishedAt:MM-dd HH:mm}",
                    var p => $"{p.Missing}/{p.Extra}/{p.Different} miss/extra/diff",
                };
                Console.WriteLine($"{(s.Migration + (s.CutOver ? "*" : "")).PadRight(name)}{s.Stage,-12}{rollout,-26}{backfill,-36}{rate,-10}{parity,-26}{s.RepairPending,12}");
            }
            if (states.Any(s => s.CutOver))
            {
                Console.WriteLine("* cut over: the old table's name is a view over the new table");
            }
            Section("NEXT STAGE (what './run.sh stage MIGRATION NEXT' would say now)", states
                .Select(s => s.Migration.PadRight(name) + s switch
                {
                    { NextStage: null } => "none: complete is the last stage",
                    { NextStageBlockedBy: [] } => $"{s.NextStage}: the gates pass",
                    _ => $"{s.NextStage}: blocked, because {string.Join("; and ", s.NextStageBlockedBy)}",
                }));
            Section("BACKFILL ERRORS (the last failed batch; cleared when one commits)", states
                .Where(s => s.Backfill?.LastError is not null)
                .Select(s => $"{s.Migration.PadRight(name)}{s.Backfill!.LastErrorAt:yyyy-MM-dd HH:mm:ss}Z  {s.Backfill.LastError}"));
            Section("PARITY REPAIR ERRORS (the latest report's keys could not be fixed)", states
                .Where(s => s.Parity?.RepairError is not null)
                .Select(s => $"{s.Migration.PadRight(name)}{s.Parity!.RepairError}"));
            Section("VALIDATION (rules with violations in the latest parity report)", states
                .SelectMany(s => (s.Parity?.Validation ?? []).Where(v => v.Violations > 0)
                    .Select(v => $"{s.Migration.PadRight(name)}{v.Name} ({v.Severity}): {v.Violations:N0} - {v.Description}")));
            Section("GUARD STEPS BACK (latest first)", states
                .SelectMany(s => s.GuardActions.Select(a => (s.Migration, Action: a)))
                .OrderByDescending(g => g.Action.ActedAt)
                .Select(g => $"{g.Action.ActedAt:yyyy-MM-dd HH:mm:ss}  {g.Migration.PadRight(name)}{g.Action.FromStage} -> {g.Action.ToStage}  {g.Action.Rule}: {g.Action.Reason}"));
            Section($"EVENT PARTITIONS ({partitions.Table}, on created_at, UTC)", PartitionLines(partitions));
            return 0;
        });
        return command;
    }

    /// <summary>Range covered, retention, what is due (and what holds it back), the last retirements.</summary>
    private static IEnumerable<string> PartitionLines(PartitionsSummary p)
    {
        const int Label = 12;
        if (!p.Partitioned)
        {
            yield return $"{p.Table} is not partitioned: a table that held rows before partitioning came is converted as docs/partitions.md says.";
            yield break;
        }
        yield return $"{"covered",-Label}{PartitionInfo.RangeOf(p.CoveredFrom, p.CoveredTo)}, {p.Partitions.Count} partitions, {p.MonthsAhead} months ahead of this one";
        yield return $"{"retention",-Label}" + (p.RetireBefore is not { } before
            ? "none: every partition is kept (Events__RetentionMonths=0)"
            : $"{p.RetentionMonths} months: partitions ending on or before {before:yyyy-MM-dd} are " + (p.RetentionAction == EventsOptions.Drop
                ? "dropped"
                : p.ArchiveDirectory is { } directory ? $"archived to {directory}, then dropped" : "archived once Events__ArchiveDirectory is set (till then only reported)"));
        foreach (var due in p.Due)
        {
            yield return $"{"due",-Label}{due.Name} ({due.Range}, {due.RowsText})";
        }
        if (p.KeptBecause is { } reason)
        {
            yield return $"{"kept",-Label}{reason}";
        }
        foreach (var a in p.Archives)
        {
            yield return $"{"retired",-Label}{a.StartedAt:yyyy-MM-dd HH:mm}  {PartitionRetention.Describe(a)}";
        }
    }

    /// <summary>A titled block under the table, only when it has lines.</summary>
    private static void Section(string title, IEnumerable<string> lines)
    {
        var list = lines.ToList();
        if (list.Count == 0)
        {
            return;
        }
        Console.WriteLine();
        Console.WriteLine(title);
        foreach (var line in list)
        {
            Console.WriteLine(line);
        }
    }
}
