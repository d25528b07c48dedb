using System.Diagnostics;
using System.Globalization;
using SignalFunctions.DevHost.Settings;

namespace SignalFunctions.DevHost.Worker;

/// <summary>
/// The worker process, started as the Functions host starts a dotnet-isolated worker: its
/// executable and app from worker.config.json, the four arguments the 2.x worker reads, the app
/// settings and the host's variables in its environment. Its output is passed through as it comes.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public Task Exited => _process.WaitForExitAsync();

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public static WorkerProcess Start(string scriptRoot, WorkerConfig config, AppSettings settings, Uri rpcUri, string workerId, Action<string> output)
    {
        var start = new ProcessStartInfo(config.ExecutablePath)
        {
            WorkingDirectory = scriptRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(scriptRoot, config.WorkerPath));
        start.ArgumentList.Add("--functions-uri");
        start.ArgumentList.Add(rpcUri.ToString());
        start.ArgumentList.Add("--functions-worker-id");
        start.ArgumentList.Add(workerId);
        start.ArgumentList.Add("--functions-request-id");
        start.ArgumentList.Add(Guid.NewGuid().ToString());
        // Left out, the 2.x worker reads 0 and cannot receive a single message.
        start.ArgumentList.Add("--functions-grpc-max-message-length");
        start.ArgumentList.Add(int.MaxValue.ToString(CultureInfo.InvariantCulture));

        start.Environment.Clear();
        foreach (var (name, value) in settings.Values)
        {
            start.Environment[name] = value;
        }
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = scriptRoot;
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = scriptRoot;
        start.Environment["AzureWebJobsScriptRoot"] = scriptRoot;
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = config.Language;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output(e.Data); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new DevHostException($"Cannot start the worker ({config.ExecutablePath} {config.WorkerPath}): {ex.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process);
    }

    /// <summary>SIGTERM, as a container stop sends it: the worker stops taking work and drains what it accepted.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        // Let the last lines of output through before the host goes.
        _process.WaitForExit();
        _process.Dispose();
    }
}
