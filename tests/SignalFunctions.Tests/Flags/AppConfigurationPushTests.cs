using System.Diagnostics;
using System.Net;
using System.Text.Json;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// The Event Grid push, end to end: two instances whose poll interval (300 s)
/// is far beyond any wait here, so whatever they obey within a second came by push. Event Grid
/// delivers to one instance; the other learns through PostgreSQL.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class AppConfigurationPushTests(PushedInstances fleet) : IClassFixture<PushedInstances>
{
    private static string Notification(string key, string? syncToken = "primary=MA==;sn=0", string? label = null) =>
        $"[{FlagKit.KeyValueEvent(EventGridDelivery.KeyValueModified, key, label, syncToken)}]";

    [Fact]
    public async Task A_flag_flipped_and_pushed_to_one_instance_reaches_both_within_a_second()
    {
        var entry = fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Live);
        var watch = Stopwatch.StartNew();
        using var response = await fleet.A.DeliverAsync(Notification(entry.Key, $"primary={Convert.ToBase64String("99"u8)};sn=99"));
        var waits = await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Live, TimeSpan.FromSeconds(10))));
        var obeyed = watch.Elapsed; // the writes below prove the stage, they are no part of the push's time

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        foreach (var app in fleet.Both)
        {
            Assert.Equal((true, true), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
        }
        Assert.True(obeyed < TimeSpan.FromSeconds(1), $"took {obeyed.TotalMilliseconds:0} ms (each: {string.Join(", ", waits.Select(w => $"{w.TotalMilliseconds:0} ms"))})");
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

    /// <summary>
    /// A flip sits in the store unannounced. Events for another label, for another app's flag and for
    /// keys outside SignalFunctions: are acknowledged by either instance without a read (none reaches
    /// the store, so neither instance learns of the flip); the event for our flag, under our label
    /// (none), is obeyed by both within a second.
    /// </summary>
    [Fact]
    public async Task Pushes_for_another_label_or_a_key_that_is_not_ours_are_ignored_and_one_for_our_flag_is_obeyed()
    {
        var key = StageFeatureFlag.Key(KnownMigrations.SignalEvents);
        fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Shadow);
        using (var settle = await fleet.A.DeliverAsync(Notification(key)))
        {
            await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Shadow, TimeSpan.FromSeconds(10))));
        }
        fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Rampdown);
        fleet.Store.ClearRequests();
        string[] notOurs =
        [
            FlagKit.KeyValueEvent(EventGridDelivery.KeyValueModified, key, "prod", null),
            FlagKit.KeyValueEvent(EventGridDelivery.KeyValueDeleted, $"{AppConfigurationFlagStore.SettingsPrefix}Guard:MaxErrorRate", "prod", null),
            FlagKit.KeyValueEvent(EventGridDelivery.KeyValueModified, ".appconfig.featureflag/OtherApp.Beta", null, null),
            FlagKit.KeyValueEvent(EventGridDelivery.KeyValueModified, "SomeOtherApp:Setting", null, null),
        ];

        foreach (var app in fleet.Both)
        {
            using var response = await app.DeliverAsync($"[{string.Join(",", notOurs)}]");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((false, 0, notOurs.Length),
                (answer.GetProperty("refresh").GetBoolean(), answer.GetProperty("events").GetInt32(), answer.GetProperty("ignored").GetInt32()));
        }
        // A push is obeyed within a second (the test above): two seconds without a read is no refresh.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Empty(fleet.Store.Requests);
        foreach (var app in fleet.Both)
        {
            Assert.Equal("shadow", await app.StageAsync());
        }

        var watch = Stopwatch.StartNew();
        using var ours = await fleet.B.DeliverAsync(Notification(key));
        await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Rampdown, TimeSpan.FromSeconds(10))));

        Assert.Equal(HttpStatusCode.Accepted, ours.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed.TotalMilliseconds:0} ms");
        // One refresh each (a refresh lists the settings once): the instance Event Grid delivered to
        // is not woken a second time by its own NOTIFY. A second read would come within the second.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var settingsReads = fleet.Store.Requests.Where(r => r.Target.Contains(Uri.EscapeDataString(AppConfigurationFlagStore.SettingsPrefix), StringComparison.Ordinal));
        Assert.Equal([(TwoInstances.CredentialA, 1), (TwoInstances.CredentialB, 1)],
            settingsReads.GroupBy(r => r.Credential).Select(g => (g.Key, g.Count())).Order());
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
