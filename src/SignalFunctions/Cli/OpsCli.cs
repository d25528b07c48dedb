using System.CommandLine;
using Microsoft.Extensions.Options;
using SignalFunctions.Database;
using SignalFunctions.Migrations;
using SignalFunctions.Stages;

namespace SignalFunctions.Cli;

/// <summary>
/// The ops verbs: `./run.sh VERB …` runs one against the app's database instead of serving.
/// Usage errors print what is wrong and the verb's usage, and exit 2.
/// </summary>
public static class OpsCli
{
    public const int UsageError = 2;

    /// <summary>
    /// Anything but an option list is a verb, or a usage error. The Functions host starts the worker
    /// with options only (--functions-uri …, --functions-worker-id …); help and version are the CLI's.
    /// </summary>
    public static bool IsVerb(string[] args) =>
        args.Length > 0 && (!args[0].StartsWith('-') || args[0] is "--help" or "-h" or "-?" or "--version");

    public static async Task<int> RunAsync(string[] args)
    {
        var root = BuildCommands();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"error: {error.Message}");
            }
            Console.Error.WriteLine($"Run './run.sh {CommandPath(parsed.CommandResult)} --help' for usage.".Replace("  ", " ", StringComparison.Ordinal));
            return UsageError;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            Console.Error.WriteLine($"error: the database is unreachable ({ex.Message}). Check ConnectionStrings__Signal, or start it with ./run.sh.");
            return 1;
        }
        catch (Exception ex) when (ex is SchemaDriftException or Migrations.CutoverRefusedException or Migrations.CaptureBusyException or Flags.AppConfiguration.AppConfigurationException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or KeyNotFoundException or OptionsValidationException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    private static string CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var current = result; current is not null && current.Parent is not null; current = current.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, current.Command.Name);
        }
        return string.Join(' ', names);
    }

    public static RootCommand BuildCommands()
    {
        var root = new RootCommand("""
            SignalFunctions: zero-downtime PostgreSQL table migrations, with staged dual-write ingest.
            Without a verb, it is the Azure Functions isolated worker that the Functions host starts.
            """);
        root.Subcommands.Add(StatusVerb.Command());
        root.Subcommands.Add(StageVerb.Command());
        root.Subcommands.Add(FlagsVerb.Command());
        root.Subcommands.Add(DbVerb.Command());
        root.Subcommands.Add(RepairVerb.Command());
        root.Subcommands.Add(GuardVerb.Command());
        foreach (var command in MigrationVerbs.Commands())
        {
            root.Subcommands.Add(command);
        }
        root.Subcommands.Add(PartitionsVerb.Command());
        root.Subcommands.Add(RefreshViewsVerb.Command());
        root.Subcommands.Add(DemoDataVerb.Command());
        return root;
    }

    /// <summary>
    /// The services a verb needs (settings from the environment, the database, the flag store),
    /// with the schema brought up to date first, so a verb works on a fresh database too.
    /// </summary>
    public static async Task<ServiceProvider> ServicesAsync(CancellationToken ct)
    {
        var services = Services();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync(ct);
        return services;
    }

    public static ServiceProvider Services()
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
                // Logs on stderr: stdout is the verb's answer (e.g. --json for a script).
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace))
            .AddSignalCore(configuration);
        return services.BuildServiceProvider();
    }

    public static Argument<string> MigrationArgument()
    {
        var argument = new Argument<string>("MIGRATION") { Description = $"One of: {string.Join(", ", KnownMigrations.Names)}" };
        argument.AcceptOnlyFromAmong([.. KnownMigrations.Names]);
        return argument;
    }
}
