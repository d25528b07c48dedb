using System.CommandLine;
using SignalFunctions.Cli;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Cli;

/// <summary>
/// Help and usage errors of every ops verb, sub-verbs included, read from the command tree itself:
/// a verb added to OpsCli is covered here without a line of this file changing.
/// </summary>
public sealed class VerbUsageTests
{
    // Help and usage errors never reach the database: this one answers nothing.
    private static readonly string NeverOpened = $"Host=127.0.0.1;Port={Repo.FreePort()};Username=postgres;Database=never;Timeout=2";

    /// <summary>Every command below the root, as the words an operator types, e.g. "db migrate".</summary>
    public static TheoryData<string> Verbs() => [.. VerbPaths()];

    private static List<string> VerbPaths()
    {
        var data = new List<string>();
        void Walk(Command command, string path)
        {
            foreach (var sub in command.Subcommands)
            {
                var subPath = path.Length == 0 ? sub.Name : $"{path} {sub.Name}";
                data.Add(subPath);
                Walk(sub, subPath);
            }
        }
        Walk(OpsCli.BuildCommands(), "");
        return data;
    }

    [Fact]
    public void The_tree_holds_the_verbs_of_the_issue()
    {
        // A guard on the walk itself: were it to find nothing, every theory below would pass vacuously.
        Assert.Superset(new HashSet<string> { "status", "stage", "backfill", "parity", "repair", "cutover", "rollback", "refresh-views", "demo-data", "db migrate" },
            VerbPaths().ToHashSet());
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Help_exits_0_and_prints_the_verbs_usage(string verb)
    {
        var (exit, output, error) = await OpsCommand.RunAsync(NeverOpened, [.. verb.Split(' '), "--help"]);

        Assert.True(exit == 0, $"{verb} --help exited {exit}: {output}{error}");
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        // The usage line names the verb (the root's name comes first).
        Assert.Contains($" {verb}", output.Split('\n').SkipWhile(l => !l.StartsWith("Usage:", StringComparison.Ordinal)).Skip(1).First(), StringComparison.Ordinal);
        Assert.Empty(error);
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task An_unknown_option_exits_2_naming_the_option_and_where_help_is(string verb)
    {
        var (exit, output, error) = await OpsCommand.RunAsync(NeverOpened, [.. verb.Split(' '), "--no-such-option"]);

        Assert.True(exit == OpsCli.UsageError, $"{verb} --no-such-option exited {exit}: {output}{error}");
        Assert.Contains("--no-such-option", error, StringComparison.Ordinal);
        Assert.Contains($"Run './run.sh {verb} --help' for usage.", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_root_help_lists_every_verb()
    {
        var (exit, output, _) = await OpsCommand.RunAsync(NeverOpened, "--help");

        Assert.Equal(0, exit);
        Assert.All(OpsCli.BuildCommands().Subcommands, verb => Assert.Contains(verb.Name, output, StringComparison.Ordinal));
    }
}
