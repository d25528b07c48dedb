using System.Diagnostics;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>A wrong setting stops the app at start-up with a sentence naming it, never a stack trace.</summary>
public sealed class StartupSettingsTests : IClassFixture<TestDatabase>
{
    private readonly TestDatabase _db;

    public StartupSettingsTests(TestDatabase db) => _db = db;

    private static async Task<(int Exit, string Error)> StartAsync(IDictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Repo.AppDll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{Repo.FreePort()}");
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await error + await output);
    }

    [Theory]
    [InlineData("Ingest__Writers", "99", "Writers")]
    [InlineData("Ingest__MaxBodyBytes", "10", "MaxBodyBytes")]
    [InlineData("Flags__RefreshSeconds", "0", "RefreshSeconds")]
    [InlineData("RepairSchedule", "every minute", "RepairSchedule")]
    [InlineData("Guard__MaxErrorRate", "1.5", "MaxErrorRate")]
    [InlineData("GuardSchedule", "every minute", "GuardSchedule")]
    [InlineData("AppConfig__ConnectionString", "Endpoint=https://store.azconfig.io;Id=abc", "AppConfig__ConnectionString")]
    [InlineData("AppConfig__Endpoint", "store.azconfig.io", "AppConfig__Endpoint")]
    public async Task A_setting_out_of_range_stops_start_up_naming_it(string key, string value, string named)
    {
        var (exit, error) = await StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__Signal"] = _db.ConnectionString,
            [key] = value,
        });

        Assert.Equal(1, exit);
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_connection_string_says_how_to_provide_one()
    {
        var (exit, error) = await StartAsync(new Dictionary<string, string> { ["ConnectionStrings__Signal"] = "" });

        Assert.Equal(1, exit);
        Assert.Contains("ConnectionStrings__Signal", error, StringComparison.Ordinal);
        Assert.Contains("./run.sh", error, StringComparison.Ordinal);
    }
}
