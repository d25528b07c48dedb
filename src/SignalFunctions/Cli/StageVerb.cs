using System.CommandLine;
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
            if (result.GetValueOrDefault<int>() is < 0 or > 100)
            {
                result.AddError("--percent must be a whole number from 0 to 100.");
            }
        });
        var command = new Command("stage", """
            Set a migration's stage. Every running instance obeys within a second.
            Stages, in order: off, dual_write, shadow, live, rampdown, complete. Moving back is lossless until complete.
            """) { migration, stage, percent };
        command.SetAction(async (parsed, ct) =>
        {
            StageRules.TryParse(parsed.GetValue(stage), out var newStage);
            await using var services = await OpsCli.ServicesAsync(ct);
            var change = await services.GetRequiredService<IStageFlagStore>().SetStageAsync(
                parsed.GetValue(migration)!, newStage, parsed.GetValue(percent), Actor(), ct);
            Console.WriteLine(change);
            return 0;
        });
        return command;
    }

    private static string Actor() => $"cli:{Environment.UserName}@{Environment.MachineName}";
}
