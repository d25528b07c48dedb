using System.Diagnostics;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Runs an ops verb the way an operator does: the app's executable with the database in the environment.</summary>
public static class OpsCommand
{
    public static Task<(int Exit, string Out, string Err)> RunAsync(string connectionString, params string[] args) =>
        RunAsync(connectionString, new Dictionary<string, string>(), args);

    /// <summary>Runs a verb with these app settings in its environment too.</summary>
    public static Task<(int Exit, string Out, string Err)> RunAsync(string connectionString, IDictionary<string, string> settings, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet");
        start.ArgumentList.Add(Repo.AppDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        return ChildProcess.RunAsync(start, TimeSpan.FromSeconds(120));
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

    /// <summary>
    /// Waits until the running backfill has moved its checkpoint by at least <paramref name="rows"/>
    /// since <paramref name="from"/> (or has exited), so a kill that follows lands mid-run however
    /// fast or slow the machine is today.
    /// </summary>
    public static async Task WaitForProgressAsync(TestDatabase db, Process backfill, long from, long rows)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!backfill.HasExited && DateTime.UtcNow < deadline
               && await db.ScalarAsync<long>("SELECT coalesce(max(rows_scanned), 0) FROM backfill_progress") < from + rows)
        {
            await Task.Delay(10);
        }
    }
}
