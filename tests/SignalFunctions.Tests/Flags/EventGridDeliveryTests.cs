using System.Text;
using SignalFunctions.Flags;

namespace SignalFunctions.Tests.Flags;

/// <summary>The Event Grid webhook's body: the validation handshake, App Configuration's events, and precise refusals.</summary>
public sealed class EventGridDeliveryTests
{
    private static EventGridDelivery Parse(string json, string? header = null) => EventGridDelivery.Parse(Encoding.UTF8.GetBytes(json), header);

    [Fact]
    public void The_subscription_validation_event_yields_its_code()
    {
        var delivery = Parse(FlagKit.ValidationDelivery("512d38b6-c7b8-40c8-89fe-f46f9e9622b6"), "SubscriptionValidation");

        Assert.Equal("512d38b6-c7b8-40c8-89fe-f46f9e9622b6", delivery.ValidationCode);
        Assert.Empty(delivery.Changes);
    }

    [Fact]
    public void Key_value_modified_and_deleted_events_yield_key_label_and_sync_token()
    {
        var json = $"[{FlagKit.KeyValueEvent(EventGridDelivery.KeyValueModified, ".appconfig.featureflag/SignalFunctions.signal-events", null, "a=b;sn=4")}," +
                   $"{FlagKit.KeyValueEvent(EventGridDelivery.KeyValueDeleted, "SignalFunctions:Guard:MaxErrorRate", "prod", "a=c;sn=5")}," +
                   """{"id":"x","eventType":"Microsoft.Storage.BlobCreated","data":{}}]""";

        var delivery = Parse(json, "Notification");

        Assert.Null(delivery.ValidationCode);
        Assert.Equal(
            [
                new KeyValueChange(false, ".appconfig.featureflag/SignalFunctions.signal-events", null, "a=b;sn=4"),
                new KeyValueChange(true, "SignalFunctions:Guard:MaxErrorRate", "prod", "a=c;sn=5"),
            ],
            delivery.Changes);
        Assert.Equal(1, delivery.Ignored);
    }

    [Theory]
    [InlineData("not json", "body")]
    [InlineData("""{"eventType":"Microsoft.AppConfiguration.KeyValueModified"}""", "body")]
    [InlineData("[]", "body")]
    [InlineData("[42]", "[0]")]
    [InlineData("""[{"id":"1","data":{}}]""", "[0].eventType")]
    [InlineData("""[{"id":"1","eventType":"Microsoft.AppConfiguration.KeyValueModified"}]""", "[0].data")]
    [InlineData("""[{"id":"1","eventType":"Microsoft.AppConfiguration.KeyValueModified","data":{"label":null}}]""", "[0].data.key")]
    [InlineData("""[{"id":"1","eventType":"Microsoft.AppConfiguration.KeyValueDeleted","data":{"key":"k","syncToken":7}}]""", "[0].data.syncToken")]
    [InlineData("""[{"id":"1","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","data":{"validationUrl":"https://x"}}]""", "[0].data.validationCode")]
    public void A_malformed_delivery_is_refused_naming_the_field(string json, string field)
    {
        var ex = Assert.Throws<EventGridFormatException>(() => Parse(json));
        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void A_delivery_whose_header_contradicts_its_body_is_refused()
    {
        var ex = Assert.Throws<EventGridFormatException>(() => Parse(FlagKit.ValidationDelivery("code"), "Notification"));
        Assert.Equal(EventGridDelivery.EventTypeHeader, ex.Field);
    }
}
