using System.Diagnostics;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Runs an ops verb the way an operator does: the app's executable with the database in the environment.</summary>
public static class OpsCommand
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(string connectionString, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Repo.AppDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    /// <summary>
    /// Starts `backfill MIGRATION --until-done` and returns at once, for a test to kill. Small
    /// batches, so a kill lands mid-run, between or inside batches.
    /// </summary>
    public static Process StartBackfill(string connectionString, string migration, int batchSize = 200)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Repo.AppDll, "backfill", migration, "--until-done" })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        start.Environment["Migrations__MinBatchSize"] = $"{batchSize}";
        start.Environment["Migrations__MaxBatchSize"] = $"{batchSize}";
        return Process.Start(start)!;
    }
}
