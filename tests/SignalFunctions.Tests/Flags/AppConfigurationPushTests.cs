using System.Net;
using System.Text.Json;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Guard;
using SignalFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// The Event Grid push, end to end: two instances whose poll interval (300 s) is far beyond any
/// wait here, so whatever they obey came by push, however long a loaded machine took to deliver
/// it. Event Grid delivers to one instance; the other learns through PostgreSQL.
/// </summary>
public sealed class AppConfigurationPushTests(PushedInstances fleet, ITestOutputHelper output) : IClassFixture<PushedInstances>
{
    /// <summary>Well short of the 300 s poll: a flag obeyed within it was pushed.</summary>
    private static readonly TimeSpan PushLimit = TimeSpan.FromSeconds(30);

    /// <summary>The instance Event Grid delivered to has seen the echo of its own NOTIFY (and ignored it).</summary>
    private static int OwnEchoes(AppProcess app) =>
        app.Output.Split('\n').Count(line => line.Contains("is this instance's own: already refreshed", StringComparison.Ordinal));

    private static string Notification(string key, string? syncToken = "primary=MA==;sn=0", string? label = null) =>
        $"[{FlagKit.KeyValueEvent(EventGridDelivery.KeyValueModified, key, label, syncToken)}]";

    [Fact]
    public async Task A_flag_flipped_and_pushed_to_one_instance_reaches_both_by_push()
    {
        var entry = fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Live);
        using var response = await fleet.A.DeliverAsync(Notification(entry.Key, $"primary={Convert.ToBase64String("99"u8)};sn=99"));
        var waits = await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Live, PushLimit)));
        output.WriteLine($"obeyed after {string.Join(", ", waits.Select(w => $"{w.TotalMilliseconds:0} ms"))}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        foreach (var app in fleet.Both)
        {
            Assert.Equal((true, true), await fleet.Db.SidesOfAsync(await app.PostSignalAsync()));
        }
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
    /// keys outside SignalFunctions: are acknowledged by either instance without a refresh (none
    /// reaches the store, so neither instance learns of the flip); the event for our flag, under our
    /// label (none), is obeyed by both, each with one read.
    /// </summary>
    [Fact]
    public async Task Pushes_for_another_label_or_a_key_that_is_not_ours_are_ignored_and_one_for_our_flag_is_obeyed()
    {
        var key = StageFeatureFlag.Key(KnownMigrations.SignalEvents);
        fleet.Store.SetFlag(KnownMigrations.SignalEvents, Stage.Shadow);
        using (var settle = await fleet.A.DeliverAsync(Notification(key)))
        {
            await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Shadow, PushLimit)));
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
        // "refresh": false is decided before any refresh could be asked for, so there is nothing to
        // wait out; a refresh they asked for after all would show as a second read of each below.
        Assert.Empty(fleet.Store.Requests);
        foreach (var app in fleet.Both)
        {
            Assert.Equal("shadow", await app.StageAsync());
        }

        var echoes = OwnEchoes(fleet.B);
        using var ours = await fleet.B.DeliverAsync(Notification(key));
        await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Rampdown, PushLimit)));
        // Its own NOTIFY comes back to B too: once it has, and been let go, no second read can follow.
        await GuardKit.UntilAsync(() => Task.FromResult(OwnEchoes(fleet.B) > echoes), "B seeing the echo of its own NOTIFY", fleet.B);

        Assert.Equal(HttpStatusCode.Accepted, ours.StatusCode);
        // One refresh each (a refresh lists the settings once): the instance Event Grid delivered to
        // is not woken a second time by its own NOTIFY.
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
