using System.CommandLine;
using Microsoft.Extensions.Options;
using SignalFunctions.Flags;
using SignalFunctions.Migrations;
using SignalFunctions.Stages;

namespace SignalFunctions.Cli;

/// <summary>The engine's verbs: backfill, parity, cutover, rollback, reset.</summary>
public static class MigrationVerbs
{
    public static IEnumerable<Command> Commands() => [Backfill(), Parity(), Cutover(), Rollback(), Cleanup(), Reset()];

    private static Argument<string> DeclaredMigration()
    {
        var argument = new Argument<string>("MIGRATION") { Description = $"One of: {string.Join(", ", MigrationCatalog.All.Select(m => m.Name))}" };
        argument.AcceptOnlyFromAmong([.. MigrationCatalog.All.Select(m => m.Name)]);
        return argument;
    }

    private static Command Backfill()
    {
        var migration = DeclaredMigration();
        var untilDone = new Option<bool>("--until-done") { Description = "Keep going past the time budget until every row is copied." };
        var command = new Command("backfill", """
            Copy the migration's existing rows to the new table now, in keyset batches with a checkpoint
            per batch (a kill loses at most one batch; the next run resumes). Shows rows, rate and ETA.
            While ingest runs, it yields after each batch for as long as ingest's latency asks
            (Migrations__MaxIngestSlowdown), and the progress line says by how much.
            Without --until-done, stops at the time budget (Migrations__BudgetSeconds) like the timer.
            Runs from dual_write (all journeys) until complete: before that, some writes skip the new
            table, and a backfill then would be stale the moment it ends.
            """) { migration, untilDone };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var m = MigrationCatalog.Find(parsed.GetValue(migration)!)!;
            var flag = (await services.GetRequiredService<IStageFlagStore>().LoadAsync(ct)).Flags.GetValueOrDefault(m.Name);
            if (flag is null || flag.Lowest < Stage.DualWrite)
            {
                var at = flag is null ? "has no stage flag" : $"is at {flag.Stage.Name()} ({flag.Percent}%)";
                Console.Error.WriteLine($"error: {m.Name} {at}, so some writes skip {m.Target}; run './run.sh stage {m.Name} dual_write' first, then the backfill.");
                return 1;
            }
            var budget = parsed.GetValue(untilDone)
                ? TimeSpan.MaxValue
                : TimeSpan.FromSeconds(services.GetRequiredService<IOptions<MigrationOptions>>().Value.BudgetSeconds);
            var bar = new ProgressLine();
            var run = await services.GetRequiredService<Migrations.Backfill>().RunAsync(m, budget, bar, ct);
            bar.Finish(run.Progress);
            Console.WriteLine($"{m.Name}: {run.Outcome}; {run.RowsThisRun:N0} rows in {run.Elapsed.TotalSeconds:0.0} s" +
                              (run.Paused > TimeSpan.Zero ? $" (paused {run.Paused.TotalSeconds:0} s while the database was busy)" : ""));
            return run.Progress.Completed ? 0 : 1;
        });
        return command;
    }

    /// <summary>`parity` exit code when another run of the same migration holds the parity lock: nothing was compared.</summary>
    public const int ParityLockHeld = 3;

    /// <summary>`parity` exit code when the migration is cut over: there is no old side to compare.</summary>
    public const int ParityCutOver = 4;

    private static Command Parity()
    {
        var migration = DeclaredMigration();
        var partition = new Option<string?>("--partition")
        {
            Description = "Compare only the rows whose time lies in this partition of the new table (e.g. signal_events_p2026_08), " +
                          "on both sides. Such a report opens no stage gate: those judge by a whole-table one.",
        };
        var command = new Command("parity", $"""
            Compare old and new by checksums over key ranges and run the validation rules; prints the
            missing, extra and different keys.
            Exit codes: 0 equal (and no error rule fires), 1 not equal (or --partition names no partition of
            the new table), {ParityLockHeld} another parity run of the migration (the Parity timer, another instance)
            holds its lock, so nothing was compared, {ParityCutOver} the migration is cut over, so its old side is no
            copy of its own to compare: roll back first.
            """) { migration, partition };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var m = MigrationCatalog.Find(parsed.GetValue(migration)!)!;
            ParityReport? report;
            try
            {
                report = await services.GetRequiredService<Migrations.Parity>().RunAsync(m, ct, parsed.GetValue(partition));
            }
            catch (ParityNotApplicableException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return ParityCutOver;
            }
            catch (ParityScopeException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
            if (report is null)
            {
                Console.Error.WriteLine($"error: another parity run of {m.Name} holds its lock (the Parity timer or another instance); nothing was compared. Try again when it ends.");
                return ParityLockHeld;
            }
            var scope = report.Scope is null ? "" : $", partition {report.Scope} only";
            Console.WriteLine($"{m.Name}{scope}: {report.RowsCompared:N0} rows compared over {report.RangesChecked:N0} ranges in {report.DurationSeconds:0.00} s");
            if (report.RowsFenced > 0)
            {
                Console.WriteLine($"  left out: {report.RowsFenced:N0} rows written after {report.ComparedThrough:HH:mm:ss}Z (in flight, within the fence); the next run compares them");
            }
            Print("missing in " + m.Target, report.MissingCount, report.MissingKeys);
            Print("extra in " + m.Target, report.ExtraCount, report.ExtraKeys);
            Print("different", report.DifferentCount, report.DifferentKeys);
            foreach (var rule in report.Validation)
            {
                Console.WriteLine($"  rule {rule.Name} ({rule.Severity}): {rule.Violations} violations{(rule.Violations > 0 ? " - " + rule.Description : "")}");
            }
            Console.WriteLine(report.Clean ? "clean" : $"NOT clean: run './run.sh repair {m.Name}' to fix the keys from the side the stage trusts");
            if (report.Scope is not null)
            {
                Console.WriteLine($"scope: {report.Scope} only; the stage gates judge by a whole-table report ('./run.sh parity {m.Name}')");
            }
            return report.Clean ? 0 : 1;
        });
        return command;
    }

    private static void Print(string what, long count, IReadOnlyList<string> keys)
    {
        Console.WriteLine($"  {what}: {count}");
        foreach (var key in keys)
        {
            Console.WriteLine($"    {key}");
        }
        if (count > keys.Count)
        {
            Console.WriteLine($"    … and {count - keys.Count} more");
        }
    }

    private static Command Cutover()
    {
        var migration = DeclaredMigration();
        var command = new Command("cutover", "At complete: rename the old table to *_backup and put a view with its name over the new table, so old readers keep working. One transaction; refuses to run twice.") { migration };
        command.SetAction(async (parsed, ct) => await RunCutoverAsync(parsed.GetValue(migration)!, (c, m) => c.CutOverAsync(m, $"cli:{Environment.UserName}", ct), ct));
        return command;
    }

    private static Command Rollback()
    {
        var migration = DeclaredMigration();
        var command = new Command("rollback", "Undo a cut-over exactly: bring the backup up to date from the new table, drop the view, restore the old table's name. One transaction.") { migration };
        command.SetAction(async (parsed, ct) => await RunCutoverAsync(parsed.GetValue(migration)!, (c, m) => c.RollBackAsync(m, ct), ct));
        return command;
    }

    private static Command Reset()
    {
        var migration = DeclaredMigration();
        var command = new Command("reset", """
            Redo a backfill from scratch: empty what the backfill and the capture put on the new side
            (rows that live only there stay), and clear the backfill checkpoint and the parity history.
            Only up to shadow (from live on the new side is read), and only for a migration whose
            declaration says what its new side is. One transaction.
            """) { migration };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            try
            {
                Console.WriteLine(await services.GetRequiredService<MigrationReset>().ResetAsync(MigrationCatalog.Find(parsed.GetValue(migration)!)!, ct));
                return 0;
            }
            catch (ResetRefusedException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command Cleanup()
    {
        var migration = DeclaredMigration();
        var command = new Command("cleanup", """
            The plan's last phase: archive the old tables. Renames every *_backup table the cut-over left to *_archived
            and drops all their indexes (rows kept; drop the tables yourself once nobody needs them). Only at complete
            (100%), after the cut-over, with a clean parity report from before the cut-over (after it the old name is a
            view over the new table); refuses otherwise and says why. Afterwards rollback is refused for good. Prints
            the old tables' size before and after.
            """) { migration };
        command.SetAction(async (parsed, ct) => await RunCutoverAsync(parsed.GetValue(migration)!, async (_, m, services) =>
        {
            var result = await services.GetRequiredService<Migrations.Archive>().RunAsync(m, $"cli:{Environment.UserName}", ct);
            return $"{m.Name}: {string.Join(", ", result.Backups)} archived as {result.ArchivedAs}, indexes dropped: {result.BytesBefore / 1048576.0:0.0} MB → {result.BytesAfter / 1048576.0:0.0} MB.";
        }, ct));
        return command;
    }

    private static Task<int> RunCutoverAsync(string name, Func<Migrations.Cutover, DataMigration, Task<string>> action, CancellationToken ct) =>
        RunCutoverAsync(name, (cutover, m, _) => action(cutover, m), ct);

    private static async Task<int> RunCutoverAsync(string name, Func<Migrations.Cutover, DataMigration, ServiceProvider, Task<string>> action, CancellationToken ct)
    {
        await using var services = await OpsCli.ServicesAsync(ct);
        try
        {
            Console.WriteLine(await action(services.GetRequiredService<Migrations.Cutover>(), MigrationCatalog.Find(name)!, services));
            return 0;
        }
        catch (CutoverRefusedException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    /// <summary>A progress bar on a terminal; a line every few seconds in a log.</summary>
    private sealed class ProgressLine : IProgress<BackfillProgress>
    {
        private readonly bool _terminal = !Console.IsOutputRedirected;
        private DateTime _lastLine = DateTime.MinValue;

        public void Report(BackfillProgress value)
        {
            if (_terminal)
            {
                Console.Write("\r" + Render(value) + "   ");
            }
            else if (DateTime.UtcNow - _lastLine > TimeSpan.FromSeconds(5))
            {
                Console.WriteLine(Render(value));
                _lastLine = DateTime.UtcNow;
            }
        }

        public void Finish(BackfillProgress value)
        {
            if (_terminal)
            {
                Console.WriteLine("\r" + Render(value) + "   ");
            }
            else
            {
                Console.WriteLine(Render(value));
            }
        }

        public static string Render(BackfillProgress p)
        {
            const int width = 30;
            var percent = p.Percent ?? 0;
            var filled = (int)(percent / 100 * width);
            var eta = p.Completed ? "done" : $"ETA {EtaText.Of(p.Eta)}";
            return $"[{new string('#', filled)}{new string('.', width - filled)}] {percent,5:0.0}% " +
                   $"{p.RowsScanned:N0}/{p.RowsTotal?.ToString("N0") ?? "?"} rows, {p.RowsPerSecond ?? 0:N0} rows/s, {eta}, batch {p.BatchSize:N0}" +
                   (p.PausedBy is { } busy ? $", paused: {busy}" : p.Yielding is { } yielding ? $", {yielding}" : "");
        }
    }
}
