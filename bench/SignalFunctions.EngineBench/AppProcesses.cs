using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SignalFunctions.EngineBench;

/// <summary>
/// The app as operators run it: ops verbs (`backfill … --until-done`, `parity …`, `stage …`), each
/// its own process, and the server as ./run.sh serves it (the dev host, which starts the worker
/// from the app's folder), all against the bench database. Settings come from the environment the
/// bench was started with (e.g. Migrations__TargetBatchMilliseconds), plus these.
/// </summary>
internal sealed class AppProcesses(string appDll, string devHostDll, string? settingsFile, string connectionString, string workDirectory)
{
    // The app's timers would start a backfill or parity of their own in the middle of a window.
    private static readonly Dictionary<string, string> NoTimers = new()
    {
        ["BackfillSchedule"] = "0 0 0 1 1 *",
        ["ParitySchedule"] = "0 0 0 1 1 *",
        ["RepairSchedule"] = "0 0 0 1 1 *",
    };

    public async Task<VerbResult> VerbAsync(TimeSpan timeout, CancellationToken ct, params string[] args)
    {
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(Start(appDll, args))!;
        var output = ProcessOutput.Of(process);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{string.Join(' ', args)}' did not finish within {timeout.TotalSeconds:0} s:\n{output}");
        }
        process.WaitForExit();
        return new VerbResult(process.ExitCode, output.ToString(), watch.Elapsed);
    }

    public async Task<ServedApp> ServeAsync(IReadOnlyDictionary<string, string> settings, CancellationToken ct)
    {
        var port = FreePort();
        List<string> args = ["--script-root", Path.GetDirectoryName(Path.GetFullPath(appDll))!];
        if (settingsFile is not null)
        {
            args.AddRange(["--settings", Path.GetFullPath(settingsFile)]);
        }
        args.AddRange(["--urls", $"http://127.0.0.1:{port}"]);
        // The dev host passes its environment on to the worker, over the settings file.
        var start = Start(devHostDll, args);
        foreach (var (key, value) in NoTimers.Concat(settings))
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        // engine.sh stops it (and so the worker) by this file when the bench itself is killed.
        var pidFile = Path.Combine(workDirectory, "app.pid");
        await File.WriteAllTextAsync(pidFile, process.Id.ToString(CultureInfo.InvariantCulture), ct);
        var app = new ServedApp(process, new Uri($"http://127.0.0.1:{port}/"), pidFile);
        try
        {
            await app.WaitUntilHealthyAsync(ct);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return app;
    }

    private ProcessStartInfo Start(string dll, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(appDll))!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.GetFullPath(dll));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment.Remove("ASPNETCORE_URLS");
        return start;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
