using System.Diagnostics;
using Markdig;
using Markdig.Extensions.AutoIdentifiers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalFunctions.Tests.Docs;

/// <summary>
/// README.md and docs/ as a newcomer meets them: the README's shell blocks marked `bash runnable`
/// work as written against a running app, and every relative link leads somewhere.
/// </summary>
public sealed class DocumentationTests(ITestOutputHelper output)
{
    /// <summary>The info string that marks a README block this test runs (GitHub highlights it as bash).</summary>
    private const string RunnableInfo = "bash";
    private const string RunnableArgument = "runnable";

    /// <summary>The address the README's commands use: ./run.sh serves there.</summary>
    private const string ReadmeAddress = "127.0.0.1:7071";

    private const string RunShName = "readme_run_sh";

    /// <summary>
    /// What ./run.sh does for a verb once its build is done: the worker's executable with the verb.
    /// The test run has built it already, so a block costs seconds rather than a build per line.
    /// </summary>
    private static string RunShFunction => $"{RunShName}() {{ dotnet '{Repo.AppDll}' \"$@\"; }}\n";

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseAutoIdentifiers(AutoIdentifierOptions.GitHub)
        .Build();

    private static string ReadmePath => Path.Combine(Repo.Root, "README.md");

    [Fact]
    public async Task Every_runnable_block_of_the_readme_succeeds_against_a_running_app()
    {
        var blocks = Parse(ReadmePath).Descendants<FencedCodeBlock>()
            .Where(b => b.Info == RunnableInfo && (b.Arguments ?? "").Split(' ').Contains(RunnableArgument))
            .Select(b => (Line: b.Line + 1, Text: b.Lines.ToString()))
            .ToList();
        // What a newcomer does first must be among them, or this test proves little.
        Assert.Contains(blocks, b => b.Text.Contains("curl", StringComparison.Ordinal) && b.Text.Contains("/api/signal/events", StringComparison.Ordinal));
        Assert.Contains(blocks, b => b.Text.Contains("./run.sh status", StringComparison.Ordinal));
        Assert.Contains(blocks, b => b.Text.Contains("./run.sh cutover", StringComparison.Ordinal));
        Assert.Contains(blocks, b => b.Text.Contains("./run.sh rollback", StringComparison.Ordinal));
        Assert.Contains(blocks, b => b.Text.Contains("--help", StringComparison.Ordinal));

        await using var db = await TestDatabase.CreateAsync();
        // Timers off: a timer's run would race the verbs of a block for a migration's lock.
        await using var app = await AppProcess.StartAsync(db.ConnectionString,
            FaultKit.TimersOff());
        foreach (var (line, text) in blocks)
        {
            var script = RunShFunction + text.Replace("./run.sh", RunShName, StringComparison.Ordinal)
                .Replace(ReadmeAddress, $"127.0.0.1:{app.Port}", StringComparison.Ordinal);
            var (exit, stdout, stderr) = await RunBashAsync(script, db.ConnectionString);
            output.WriteLine($"README.md line {line}: exit {exit}\n{stdout}{stderr}");
            Assert.True(exit == 0,
                $"The README block at line {line} failed with exit {exit}:\n{text}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- app\n{Tail(app.Output)}");
        }
    }

    [Fact]
    public void Every_relative_link_in_the_readme_and_docs_points_at_a_file_that_exists()
    {
        var documents = Directory.EnumerateFiles(Path.Combine(Repo.Root, "docs"), "*.md", SearchOption.AllDirectories)
            .Prepend(ReadmePath)
            .ToList();
        Assert.True(documents.Count > 10, $"Only {documents.Count} documents found under docs/");

        var checkedLinks = 0;
        var broken = new List<string>();
        foreach (var document in documents)
        {
            foreach (var link in Parse(document).Descendants<LinkInline>())
            {
                var url = link.Url ?? "";
                if (url.Length == 0 || Uri.TryCreate(url, UriKind.Absolute, out _))
                {
                    continue;
                }
                checkedLinks++;
                var hash = url.IndexOf('#', StringComparison.Ordinal);
                var (path, anchor) = hash < 0 ? (url, null) : (url[..hash], url[(hash + 1)..]);
                var target = path.Length == 0 ? document : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(document)!, Uri.UnescapeDataString(path)));
                // Markdig gives no line to a link inside a table cell.
                var where = $"{Path.GetRelativePath(Repo.Root, document)}{(link.Line > 0 ? $" line {link.Line + 1}" : "")}: ({url})";
                if (!target.StartsWith(Repo.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !(File.Exists(target) || Directory.Exists(target)))
                {
                    broken.Add($"{where}: no such file in the repository");
                }
                else if (anchor is not null && target.EndsWith(".md", StringComparison.Ordinal) && !HeadingIds(target).Contains(anchor))
                {
                    broken.Add($"{where}: no heading with id '{anchor}' in {Path.GetRelativePath(Repo.Root, target)}");
                }
            }
        }
        Assert.True(checkedLinks > 20, $"Only {checkedLinks} relative links found: is the parsing right?");
        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void The_readme_layout_names_every_folder_of_the_app()
    {
        var layout = Parse(ReadmePath).Descendants<FencedCodeBlock>()
            .Select(b => b.Lines.ToString())
            .Single(text => text.StartsWith("src/SignalFunctions/ ", StringComparison.Ordinal));
        var app = Path.Combine(Repo.Root, "src", "SignalFunctions");
        var folders = Directory.EnumerateDirectories(app, "*", SearchOption.AllDirectories)
            .Select(d => Path.GetRelativePath(app, d).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(d => !d.StartsWith("bin", StringComparison.Ordinal) && !d.StartsWith("obj", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(folders);

        var missing = folders.Where(f => !layout.Contains($"\n  {f}/ ", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"The README's layout (under src/SignalFunctions/) does not name: {string.Join(", ", missing.Select(f => f + "/"))}");
    }

    private static MarkdownDocument Parse(string path) => Markdown.Parse(File.ReadAllText(path), Pipeline);

    private static HashSet<string> HeadingIds(string path) =>
        Parse(path).Descendants<HeadingBlock>().Select(h => h.GetAttributes().Id).OfType<string>().ToHashSet(StringComparer.Ordinal);

    private static Task<(int Exit, string Out, string Err)> RunBashAsync(string script, string connectionString)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Repo.Root };
        foreach (var arg in new[] { "-e", "-u", "-o", "pipefail", "-c", script })
        {
            start.ArgumentList.Add(arg);
        }
        // The database ./run.sh and the app read: with it set, ./run.sh starts no cluster of its own.
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        return ChildProcess.RunAsync(start, TimeSpan.FromMinutes(5));
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];
}
