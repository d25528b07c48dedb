using System.CommandLine;
using SignalFunctions.Migrations;
using SignalFunctions.Stages;

namespace SignalFunctions.Cli;

/// <summary>`repair [MIGRATION]`: replay the queued repair entries now, instead of waiting for the timer.</summary>
public static class RepairVerb
{
    public static Command Command()
    {
        var migration = OpsCli.MigrationArgument();
        migration.Arity = ArgumentArity.ZeroOrOne;
        var command = new Command("repair", "Replay queued repair entries of failed secondary writes, then fix the keys of the latest parity report from the side the stage trusts (all migrations when none is named). Exits 1 while entries remain or the keys could not be fixed, 3 when another repair run holds a lock (nothing was done there; run it again when that run ends).") { migration };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var job = services.GetRequiredService<RepairJob>();
            var remaining = 0;
            var keysFailed = false;
            var skipped = false;
            foreach (var name in parsed.GetValue(migration) is { } one ? [one] : KnownMigrations.Names)
            {
                var result = await job.RunAsync(name, TimeSpan.FromHours(1), ct);
                Console.WriteLine(result.Skipped
                    ? $"{name}: skipped, another repair run holds the lock; try again when it ends"
                    : $"{name}: {result.Repaired} repaired, {result.Failed} failed, {result.Remaining} remaining; {result.KeysFixed} parity keys fixed" +
                      (result.KeysError is { } error ? $", parity keys NOT fixed: {error}" : ""));
                remaining += result.Remaining;
                keysFailed |= result.KeysError is not null;
                skipped |= result.Skipped;
            }
            return remaining > 0 || keysFailed ? 1 : skipped ? 3 : 0;
        });
        return command;
    }
}
