using System.Diagnostics;
using System.Net;
using System.Text.Json;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// The Event Grid push (issue 4, section 3), end to end: two instances whose poll interval (300 s)
/// is far beyond any wait here, so whatever they obey within a second came by push. Event Grid
/// delivers to one instance; the other learns through PostgreSQL.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class AppConfigurationPushTests(PushedInstances fleet) : IClassFixture<PushedInstances>
{
    private static string Notification(string key, string? syncToken = "primary=MA==;sn=0") =>
        $"[{FlagKit.KeyValueEvent(EventGridDelivery.KeyValueModified, key, null, syncToken)}]";

    [Fact]
    public async Task A_flag_flipped_and_pushed_to_one_instance_reaches_both_within_a_second()
    {
        var entry = fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Live);
        var watch = Stopwatch.StartNew();
        using var response = await fleet.A.DeliverAsync(Notification(entry.Key, $"primary={Convert.ToBase64String("99"u8)};sn=99"));
        var waits = await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Live, TimeSpan.FromSeconds(10))));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        foreach (var app in fleet.Both)
        {
            Assert.Equal((true, true), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed.TotalMilliseconds:0} ms (each: {string.Join(", ", waits.Select(w => $"{w.TotalMilliseconds:0} ms"))})");
        // The event's Sync-Token was echoed on the reads that followed it.
        Assert.Contains(fleet.Store.Requests, r => r.SyncToken?.Contains(Convert.ToBase64String("99"u8), StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task The_subscription_validation_handshake_is_answered_with_the_code()
    {
        using var response = await fleet.A.DeliverAsync(FlagKit.ValidationDelivery("512d38b6-c7b8-40c8-89fe-f46f9e9622b6"), "SubscriptionValidation");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("512d38b6-c7b8-40c8-89fe-f46f9e9622b6", body.GetProperty("validationResponse").GetString());
    }

    [Fact]
    public async Task A_change_to_a_key_the_app_does_not_read_is_acknowledged_without_a_refresh()
    {
        fleet.Store.ClearRequests();

        using var response = await fleet.A.DeliverAsync(Notification("SomeOtherApp:Setting"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("refresh").GetBoolean());
        Assert.Empty(fleet.Store.Requests);
    }

    [Theory]
    [InlineData("{\"eventType\":\"x\"}", "body")]
    [InlineData("[{\"eventType\":\"Microsoft.AppConfiguration.KeyValueModified\",\"data\":{}}]", "[0].data.key")]
    public async Task A_malformed_delivery_is_a_400_naming_the_field(string json, string field)
    {
        using var response = await fleet.A.DeliverAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), errors.ToString());
    }

    [Fact]
    public async Task A_delivery_that_is_not_JSON_content_is_a_415()
    {
        using var response = await fleet.A.Client.PostAsync("/api/flags/changed", new StringContent("[]", System.Text.Encoding.UTF8, "application/xml"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
