using System.CommandLine;
using SignalFunctions.Migrations;
using SignalFunctions.Stages;

namespace SignalFunctions.Cli;

/// <summary>`stage MIGRATION STAGE [--percent N]`: move a migration forward or back.</summary>
public static class StageVerb
{
    public static Command Command()
    {
        var migration = OpsCli.MigrationArgument();
        var stage = new Argument<string>("STAGE") { Description = $"One of: {string.Join(", ", StageRules.Names)}" };
        stage.AcceptOnlyFromAmong([.. StageRules.Names]);
        var percent = new Option<int>("--percent")
        {
            Description = "Share of journeys (bucketed by their key) on STAGE; the rest stay on the stage before it.",
            DefaultValueFactory = _ => 100,
        };
        percent.Validators.Add(result =>
        {
            // A token that is not a number is already a parse error; only judge the range of a number.
            if (result.Tokens is [var token] && int.TryParse(token.Value, out var value) && value is < 0 or > 100)
            {
                result.AddError("--percent must be a whole number from 0 to 100.");
            }
        });
        var force = new Option<bool>("--force") { Description = "Advance even though a gate failed (recorded in the stage history)." };
        var reason = new Option<string?>("--reason") { Description = "Why, for the stage history." };
        var command = new Command("stage", """
            Set a migration's stage where the flags live: App Configuration when AppConfig__ConnectionString or
            AppConfig__Endpoint is set (If-Match on the flag's ETag; a locked flag is refused), else the embedded store.
            Instances obey within a second (embedded store, or App Configuration with the Event Grid push wired),
            or within Flags__RefreshSeconds (App Configuration polling).
            Stages, in order: off, dual_write, shadow, live, rampdown, complete. Moving back is lossless until complete.
            Gates: past dual_write needs a complete backfill; past shadow a clean parity report begun after the
            last backfill batch and an empty repair queue. Going below dual_write for any share of journeys
            restarts the backfill at the next dual_write, since those journeys' writes skip the new table.
            A flag changed by someone else while this runs is not overwritten: run the command again.
            A flag the app rejects (e.g. an SDK helper dropped its variants and allocation) is replaced whole,
            over the ETag just read, and the output and stage history say what was replaced.
            """) { migration, stage, percent, force, reason };
        command.SetAction(async (parsed, ct) =>
        {
            StageRules.TryParse(parsed.GetValue(stage), out var newStage);
            await using var services = await OpsCli.ServicesAsync(ct);
            var result = await services.GetRequiredService<StageControl>().ChangeAsync(
                parsed.GetValue(migration)!, newStage, parsed.GetValue(percent), Actor(), parsed.GetValue(force), parsed.GetValue(reason), ct);
            if (result.Conflict is { } conflict)
            {
                Console.Error.WriteLine($"error: {conflict}. Check './run.sh status', then run the command again.");
                return 1;
            }
            if (result.Refused)
            {
                Console.Error.WriteLine($"error: not changed, because {string.Join("; and ", result.FailedGates)}.");
                Console.Error.WriteLine("Fix that, or pass --force to override (it is recorded).");
                return 1;
            }
            if (result.Forced)
            {
                Console.Error.WriteLine($"warning: forced past: {string.Join("; ", result.FailedGates)}");
            }
            Console.WriteLine(result.Change);
            return 0;
        });
        return command;
    }

    private static string Actor() => $"cli:{Environment.UserName}@{Environment.MachineName}";
}
