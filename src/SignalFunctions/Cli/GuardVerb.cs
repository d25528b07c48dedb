using System.CommandLine;
using SignalFunctions.Guard;

namespace SignalFunctions.Cli;

/// <summary>`guard`: one pass of the Guard timer now, printing each migration's verdict.</summary>
public static class GuardVerb
{
    public static Command Command()
    {
        var command = new Command("guard", """
            Run one guard pass now, as the Guard timer does every minute: for each migration at dual_write or
            later, judge ingest errors and p99, secondary-write failures, the repair queue and the latest parity
            report since the last stage change, and step the stage back one step when one is past its limit
            (Guard__* settings). Exits 0 whether or not it stepped back; 1 when it could not run.
            """);
        command.SetAction(async (_, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var guard = services.GetRequiredService<StageGuard>();
            if (!guard.Enabled)
            {
                Console.WriteLine(StageGuard.DisabledLine);
                return 0;
            }
            var verdicts = await guard.RunAsync(ct);
            foreach (var verdict in verdicts)
            {
                Console.WriteLine(verdict.Line);
            }
            if (verdicts.Count == 0)
            {
                Console.WriteLine("Guard: no migration is at dual_write or later");
            }
            return 0;
        });
        return command;
    }
}
