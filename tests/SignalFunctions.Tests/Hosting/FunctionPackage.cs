using System.Diagnostics;
using System.IO.Compression;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>
/// The deploy package exactly as ./package.sh builds it, built once per test run into
/// artifacts/test/ (a publish takes tens of seconds) and shared by every hosting test, which run
/// the zip's contents as a zip deploy lays them out.
/// </summary>
public sealed class FunctionPackage
{
    private static readonly Lazy<Task<FunctionPackage>> Built = new(BuildAsync);

    /// <summary>What `./package.sh --out Root` made: Root/functionapp and Root/functionapp.zip.</summary>
    public string Root { get; }
    public string Folder => Path.Combine(Root, "functionapp");
    public string Zip => Path.Combine(Root, "functionapp.zip");

    /// <summary>The zip's contents, unpacked: what the host runs after a zip deploy.</summary>
    public string Deployed => Path.Combine(Root, "deployed");

    public TimeSpan BuildTime { get; }

    private FunctionPackage(string root, TimeSpan buildTime)
    {
        Root = root;
        BuildTime = buildTime;
    }

    public static Task<FunctionPackage> GetAsync() => Built.Value;

    private static async Task<FunctionPackage> BuildAsync()
    {
        // Under the git-ignored artifacts/, beside (never over) the developer's own package; each
        // run replaces it, so nothing piles up in /tmp when the test host is stopped abruptly.
        var root = Path.Combine(Repo.Root, "artifacts", "test");

        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(Repo.Root, "package.sh"));
        start.ArgumentList.Add("--out");
        start.ArgumentList.Add(root);
        // `dotnet test` runs us under MSBuild's variables; a nested publish must find its own SDK.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"./package.sh did not finish within 5 minutes:\n{await stderr}");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"./package.sh failed ({process.ExitCode}):\n{await stdout}{await stderr}");
        }
        var package = new FunctionPackage(root, watch.Elapsed);
        if (Directory.Exists(package.Deployed))
        {
            Directory.Delete(package.Deployed, recursive: true);
        }
        ZipFile.ExtractToDirectory(package.Zip, package.Deployed);
        return package;
    }
}
