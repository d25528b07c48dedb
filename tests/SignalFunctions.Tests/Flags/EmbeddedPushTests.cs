using System.Net;
using SignalFunctions.Flags;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Flags;

/// <summary>The Event Grid webhook on an app whose flags live in the embedded store.</summary>
public sealed class EmbeddedPushTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_change_event_is_a_409_saying_App_Configuration_is_not_configured()
    {
        using var response = await fixture.App.DeliverAsync(
            $"[{FlagKit.KeyValueEvent(EventGridDelivery.KeyValueModified, ".appconfig.featureflag/SignalFunctions.signal-events", null, "a=b;sn=1")}]");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("embedded store", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_validation_handshake_is_still_answered()
    {
        using var response = await fixture.App.DeliverAsync(FlagKit.ValidationDelivery("abc"), "SubscriptionValidation");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"validationResponse\":\"abc\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
