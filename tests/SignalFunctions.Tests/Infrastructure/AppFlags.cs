using System.Diagnostics;
using System.Text.Json;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// The flags a running app obeys, as GET /api/health/details reports them, and waiting until a stage change
/// has reached it: a test that acts right after writing a flag would race the change's delivery.
/// </summary>
public static class AppFlags
{
    /// <summary>The health report's "flags", whatever the status (a 503 still carries the report).</summary>
    public static async Task<JsonElement> FlagsAsync(this AppProcess app)
    {
        using var response = await app.Client.GetAsync("/api/health/details");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("flags").Clone();
    }

    /// <summary>The stage the app reports for the migration; null while it has no flag for it.</summary>
    public static async Task<string?> StageAsync(this AppProcess app, string migration = KnownMigrations.SignalEvents) =>
        Flag(await app.FlagsAsync(), migration) is { } flag ? flag.GetProperty("stage").GetString() : null;

    /// <summary>Polls until <paramref name="until"/> holds on the app's flags; fails after <paramref name="limit"/>. Returns how long it took.</summary>
    public static async Task<TimeSpan> WaitForAsync(this AppProcess app, Func<JsonElement, bool> until, TimeSpan limit, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!until(await app.FlagsAsync()))
        {
            Assert.True(watch.Elapsed < limit, $"{what} not seen within {limit.TotalSeconds} s:\n{app.Output}");
            await Task.Delay(10);
        }
        return watch.Elapsed;
    }

    /// <summary>Polls until the app reports the migration at the stage (and, when given, the share). Returns how long it took.</summary>
    public static Task<TimeSpan> WaitForStageAsync(this AppProcess app, string migration, string stage, TimeSpan limit, int? percent = null) =>
        app.WaitForAsync(
            flags => Flag(flags, migration) is { } flag && flag.GetProperty("stage").GetString() == stage
                     && (percent is null || flag.GetProperty("percent").GetInt32() == percent),
            limit, $"{migration} at {stage}{(percent is null ? "" : $" {percent} %")}");

    /// <summary>Polls until the app reports signal-events at the stage. Returns how long it took.</summary>
    public static Task<TimeSpan> WaitForStageAsync(this AppProcess app, Stage stage, TimeSpan limit) =>
        app.WaitForStageAsync(KnownMigrations.SignalEvents, stage.Name(), limit);

    /// <summary>Sets the stage in the embedded store and waits until the app obeys it.</summary>
    public static async Task SetStageAndWaitAsync(this TestDatabase db, AppProcess app, string migration, string stage, int percent = 100)
    {
        await db.SetStageAsync(migration, stage, percent);
        await app.WaitForStageAsync(migration, stage, TimeSpan.FromSeconds(10), percent);
    }

    private static JsonElement? Flag(JsonElement flags, string migration) =>
        flags.TryGetProperty("stages", out var stages) && stages.TryGetProperty(migration, out var flag) ? flag : null;
}
