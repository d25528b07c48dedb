using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.AppConfiguration;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>App processes on App Configuration (the contract server), and what the flag tests ask of them.</summary>
public static class FlagKit
{
    /// <summary>Writes a migration's stage flag straight into the store, as the portal would.</summary>
    public static ContractServer.Entry SetFlag(this ContractServer server, string migration, Stage stage, int percent = 100) =>
        server.Seed(StageFeatureFlag.Key(migration), null, FeatureFlagKeys.Serialize(StageFeatureFlag.Create(migration, stage, percent)),
            FeatureFlagKeys.ContentType);

    /// <summary>The stage and share of a migration's flag as the store holds it.</summary>
    public static (Stage Stage, int Percent) StageIn(this ContractServer server, string migration, string? label = null)
    {
        var entry = server.Find(StageFeatureFlag.Key(migration), label) ?? throw new InvalidOperationException($"no flag for {migration} in the store");
        return StageFeatureFlag.StageOf(entry.Key, FeatureFlagKeys.Parse(entry.Key, entry.Value));
    }

    public static void SetAllFlags(this ContractServer server, Stage stage)
    {
        foreach (var migration in KnownMigrations.Names)
        {
            server.SetFlag(migration, stage);
        }
    }

    /// <summary>
    /// An app on App Configuration. <paramref name="credential"/>: an access key of its own, so the
    /// server's recorded requests say which instance sent them; <paramref name="settings"/>: more app settings.
    /// </summary>
    public static Task<AppProcess> StartAppAsync(TestDatabase db, ContractServer server, int refreshSeconds,
        string? credential = null, IReadOnlyDictionary<string, string>? settings = null) =>
        AppProcess.StartAsync(db.ConnectionString, new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["AppConfig__ConnectionString"] = credential is null ? server.ConnectionString : server.ConnectionStringFor(credential),
            ["Flags__RefreshSeconds"] = $"{refreshSeconds}",
        });

    public static async Task<JsonElement> FlagsAsync(this AppProcess app)
    {
        using var response = await app.Client.GetAsync("/api/health/details");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("flags");
    }

    public static async Task<string?> StageAsync(this AppProcess app, string migration = KnownMigrations.SignalEvents) =>
        (await app.FlagsAsync()).GetProperty("stages").TryGetProperty(migration, out var flag) ? flag.GetProperty("stage").GetString() : null;

    /// <summary>Polls until <paramref name="until"/> holds on the app; fails after <paramref name="limit"/>. Returns how long it took.</summary>
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

    public static Task<TimeSpan> WaitForStageAsync(this AppProcess app, Stage stage, TimeSpan limit) =>
        app.WaitForAsync(flags => flags.GetProperty("stages").TryGetProperty(KnownMigrations.SignalEvents, out var flag)
                                  && flag.GetProperty("stage").GetString() == stage.Name(), limit, $"stage {stage.Name()}");

    /// <summary>Posts one signal event; returns its id once accepted.</summary>
    public static async Task<Guid> PostSignalAsync(this AppProcess app)
    {
        var e = Events.Signal();
        using var response = await app.PostJsonAsync("/api/signal/events", Events.Json(e));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (Guid)e["id"]!;
    }

    /// <summary>Which tables hold the event: (legacy, new).</summary>
    public static async Task<(bool Legacy, bool New)> SidesOfAsync(this TestDatabase db, Guid id) => (
        await db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM blog_attribution_events WHERE id = @id)", new { id }),
        await db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM signal_events WHERE id = @id)", new { id }));

    public static string ValidationDelivery(string code) => new JsonArray(new JsonObject
    {
        ["id"] = Guid.NewGuid().ToString(),
        ["topic"] = "/subscriptions/s/resourceGroups/g/providers/Microsoft.AppConfiguration/configurationStores/store",
        ["subject"] = "",
        ["eventType"] = EventGridDelivery.ValidationEventType,
        ["eventTime"] = DateTimeOffset.UtcNow.ToString("O"),
        ["data"] = new JsonObject { ["validationCode"] = code, ["validationUrl"] = "https://rp-eastus.eventgrid.azure.net/validate?code=x" },
        ["dataVersion"] = "2",
        ["metadataVersion"] = "1",
    }).ToJsonString();

    /// <summary>One App Configuration event in the Event Grid schema.</summary>
    public static string KeyValueEvent(string eventType, string key, string? label, string? syncToken) => new JsonObject
    {
        ["id"] = Guid.NewGuid().ToString(),
        ["topic"] = "/subscriptions/s/resourceGroups/g/providers/Microsoft.AppConfiguration/configurationStores/store",
        ["subject"] = $"https://store.azconfig.io/kv/{Uri.EscapeDataString(key)}",
        ["eventType"] = eventType,
        ["eventTime"] = DateTimeOffset.UtcNow.ToString("O"),
        ["data"] = new JsonObject { ["key"] = key, ["label"] = label, ["etag"] = "e", ["syncToken"] = syncToken },
        ["dataVersion"] = "1",
        ["metadataVersion"] = "1",
    }.ToJsonString();

    /// <summary>Delivers an Event Grid batch to the app's webhook, with the header Event Grid sets.</summary>
    public static async Task<HttpResponseMessage> DeliverAsync(this AppProcess app, string json, string deliveryType = "Notification")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/flags/changed")
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(EventGridDelivery.EventTypeHeader, deliveryType);
        return await app.Client.SendAsync(request);
    }
}
