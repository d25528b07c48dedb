using SignalFunctions.Brands;
using SignalFunctions.Guard;
using SignalFunctions.Flags;
using SignalFunctions.Health;
using SignalFunctions.Hosting;
using SignalFunctions.Ingest;
using SignalFunctions.Migrations;
using SignalFunctions.Views;

namespace SignalFunctions;

/// <summary>
/// Every function of the app, declared once. The ASP.NET routes, the standalone timer schedule
/// and the function.json files of the deploy package are all made from this table.
/// </summary>
public static class Functions
{
    public static readonly IReadOnlyList<FunctionDefinition> All =
    [
        new HttpFunction("SignalEvents", "signal/events", ["post"], AuthLevel.Anonymous, Audience.Ingest, SignalEventsApi.PostSignalEvents),
        new HttpFunction("LegacyAttributionEvents", "blog/attribution/events", ["post"], AuthLevel.Anonymous, Audience.Ingest, SignalEventsApi.PostLegacyAttributionEvents),
        new HttpFunction("Clicks", "clicks", ["post"], AuthLevel.Anonymous, Audience.Ingest, ClicksApi.PostClick),
        new HttpFunction("ClickEvents", "clicks/{clickId}/events", ["post"], AuthLevel.Anonymous, Audience.Ingest, ClicksApi.PostClickEvent),
        // Server to server, authenticated by its HMAC signature rather than a function key.
        new HttpFunction("ClickWebhook", "clicks/webhook", ["post"], AuthLevel.Anonymous, Audience.Operations, ClicksApi.PostWebhook),
        new HttpFunction("SignalPath", "signal/{signalId}/path", ["get"], AuthLevel.Anonymous, Audience.Public, SignalEventsApi.GetPath),
        new HttpFunction("SignalScript", "signal.js", ["get"], AuthLevel.Anonymous, Audience.Public, SnippetApi.Get),
        new HttpFunction("Health", "health", ["get"], AuthLevel.Anonymous, Audience.Operations, HealthApi.Get),
        // Internal state of every migration: behind a function key in Azure.
        new HttpFunction("Migrations", "migrations", ["get"], AuthLevel.Function, Audience.Operations, MigrationsApi.Get),
        // Business numbers, not for the open web: a function key in Azure, and so no CORS (a key never sits in a browser).
        new HttpFunction("ContentReport", "reports/content/{contentId}", ["get"], AuthLevel.Function, Audience.Operations, ReportsApi.GetContentReport),
        // Event Grid's webhook for App Configuration changes: the subscription URL carries the function key.
        new HttpFunction("FlagsChanged", "flags/changed", ["post"], AuthLevel.Function, Audience.Operations, FlagsApi.PostChanged),
        new HttpFunction("FunnelReport", "reports/funnel", ["get"], AuthLevel.Function, Audience.Operations, ReportsApi.GetFunnel),
        new HttpFunction("BrandDailyReport", "reports/brands/{brandId}/daily", ["get"], AuthLevel.Function, Audience.Operations, BrandReportsApi.GetDaily),

        new TimerFunction("Backfill", "0 */1 * * * *", MigrationTimers.BackfillAsync),
        new TimerFunction("Parity", "0 */15 * * * *", MigrationTimers.ParityAsync),
        new TimerFunction("Repair", "0 */1 * * * *", MigrationTimers.RepairAsync),
        new TimerFunction("RefreshViews", "0 */5 * * * *", DeclaredViews.RunTimerAsync),
        new TimerFunction("Guard", "0 */1 * * * *", StageGuard.RunTimerAsync),
    ];

    public static IEnumerable<HttpFunction> Http => All.OfType<HttpFunction>();

    public static IEnumerable<TimerFunction> Timers => All.OfType<TimerFunction>();
}
