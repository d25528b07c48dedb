using System.CommandLine;
using SignalFunctions.Database;

namespace SignalFunctions.Cli;

/// <summary>`db migrate`: apply the schema files not applied yet.</summary>
public static class DbVerb
{
    public static Command Command()
    {
        var migrate = new Command("migrate", "Apply the schema files not applied yet (the app also does this at start-up). Re-running is a no-op.");
        migrate.SetAction(async (_, ct) =>
        {
            await using var services = OpsCli.Services();
            var applied = await services.GetRequiredService<SchemaMigrator>().MigrateAsync(ct);
            Console.WriteLine(applied.Count == 0 ? "Schema is up to date." : $"Applied: {string.Join(", ", applied)}");
            return 0;
        });
        return new Command("db", "Database schema commands.") { migrate };
    }
}
