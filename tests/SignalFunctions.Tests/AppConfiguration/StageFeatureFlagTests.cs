using System.Text.Json.Nodes;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>
/// A migration's flag in App Configuration's feature flag format, and the strict reading of it
/// (a flag whose JSON is invalid or names an unknown stage is rejected whole, never half-read).
/// </summary>
public sealed class StageFeatureFlagTests
{
    private const string Key = ".appconfig.featureflag/SignalFunctions.signal-events";

    [Fact]
    public void A_partial_rollout_is_written_as_variants_and_a_seeded_percentile_allocation()
    {
        var json = JsonNode.Parse(FeatureFlagKeys.Serialize(StageFeatureFlag.Create("signal-events", Stage.Live, 30)))!;

        Assert.Equal("SignalFunctions.signal-events", (string?)json["id"]);
        Assert.True((bool?)json["enabled"]);
        Assert.Empty(json["conditions"]!["client_filters"]!.AsArray());
        Assert.Equal(StageRules.Names, json["variants"]!.AsArray().Select(v => (string?)v!["name"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {
              "percentile": [{"variant": "live", "from": 0, "to": 30}, {"variant": "shadow", "from": 30, "to": 100}],
              "default_when_enabled": "shadow",
              "default_when_disabled": "shadow",
              "seed": "SignalFunctions.signal-events"
            }
            """), json["allocation"]), json["allocation"]!.ToJsonString());
        Assert.Equal(".appconfig.featureflag/SignalFunctions.signal-events", StageFeatureFlag.Key("signal-events"));
        Assert.Equal("application/vnd.microsoft.appconfig.ff+json;charset=utf-8", FeatureFlagKeys.ContentType);
    }

    [Fact]
    public void Every_stage_and_share_reads_back_as_written()
    {
        foreach (var stage in Enum.GetValues<Stage>())
        {
            foreach (var percent in new[] { 0, 1, 37, 99, 100 })
            {
                var json = FeatureFlagKeys.Serialize(StageFeatureFlag.Create("signal-events", stage, percent));
                var expected = stage == Stage.Off ? (Stage.Off, 100) : (stage, percent);

                Assert.Equal(expected, StageFeatureFlag.StageOf(Key, FeatureFlagKeys.Parse(Key, json)));
            }
        }
    }

    [Fact]
    public void A_key_value_reads_as_the_migrations_stage_flag()
    {
        var modified = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var keyValue = new KeyValue
        {
            Key = Key,
            Value = FeatureFlagKeys.Serialize(StageFeatureFlag.Create("signal-events", Stage.DualWrite, 20)),
            ContentType = FeatureFlagKeys.ContentType,
            ETag = "e",
            LastModified = modified,
        };

        var flag = StageFeatureFlag.Read(keyValue);

        Assert.Equal(new StageFlag("signal-events", Stage.DualWrite, 20, StageFeatureFlag.VersionOf(keyValue), modified), flag);
        // Two writes within one second (the service's last-modified may be whole seconds): the ETag tells them apart.
        Assert.NotEqual(flag.Version, StageFeatureFlag.Read(keyValue with { ETag = "f" }).Version);
        Assert.Equal(flag.Version, StageFeatureFlag.Read(keyValue with { LastModified = modified.AddMilliseconds(1) }).Version);
        Assert.Equal("signal-events", StageFeatureFlag.Migration(Key));
        Assert.Null(StageFeatureFlag.Migration(".appconfig.featureflag/Other.flag"));
    }

    [Fact]
    public void Rewriting_a_flag_keeps_its_description_and_fields_we_do_not_own()
    {
        var existing = FeatureFlagKeys.Parse(Key, """
            {"id":"SignalFunctions.signal-events","description":"Ops notes","display_name":"Signal events","enabled":true,
             "telemetry":{"enabled":true,"metadata":{"team":"growth"}},
             "variants":[{"name":"off"},{"name":"dual_write"}],"allocation":{"default_when_enabled":"off"}}
            """);

        var json = JsonNode.Parse(FeatureFlagKeys.Serialize(StageFeatureFlag.Create("signal-events", Stage.DualWrite, 100, existing)))!;

        Assert.Equal("Ops notes", (string?)json["description"]);
        Assert.Equal("Signal events", (string?)json["display_name"]);
        Assert.Equal("growth", (string?)json["telemetry"]!["metadata"]!["team"]);
        Assert.Equal(6, json["variants"]!.AsArray().Count);
    }

    [Fact]
    public void Fields_the_portal_may_add_do_not_change_the_reading()
    {
        var flag = FeatureFlagKeys.Parse(Key, """
            {"id":"SignalFunctions.signal-events","enabled":true,"display_name":"x","telemetry":{"enabled":false},
             "conditions":{"requirement_type":"Any","client_filters":[]},
             "variants":[{"name":"off","configuration_value":null},{"name":"dual_write","status_override":"None"},{"name":"shadow"}],
             "allocation":{"percentile":[{"variant":"shadow","from":0,"to":10},{"variant":"dual_write","from":10,"to":100},
                                         {"variant":"off","from":100,"to":100}],
                           "seed":"SignalFunctions.signal-events"}}
            """);

        Assert.Equal((Stage.Shadow, 10), StageFeatureFlag.StageOf(Key, flag));
    }

    [Theory]
    [InlineData("""{"id":"SignalFunctions.signal-events","enabled":tru}""", "not valid feature flag JSON")]
    [InlineData("""{"id":"SignalFunctions.signal-events","enabled":"true"}""", "not valid feature flag JSON (at $.enabled")]
    [InlineData("""{"enabled":true}""", "not valid feature flag JSON")]
    [InlineData("""{"id":"SignalFunctions.other","enabled":true}""", "its id 'SignalFunctions.other' does not match the key")]
    [InlineData("", "the value is empty")]
    [InlineData("null", "JSON null")]
    public void Invalid_json_is_rejected_with_a_precise_reason(string json, string reason)
    {
        var rejected = Assert.Throws<FeatureFlagFormatException>(() => FeatureFlagKeys.Parse(Key, json));

        Assert.Contains(reason, rejected.Message);
        Assert.StartsWith($"Feature flag '{Key}' is rejected: ", rejected.Message);
    }

    [Theory]
    [InlineData("""
        "variants":[{"name":"off"},{"name":"canary"}],"allocation":{"default_when_enabled":"off"}
        """, "variants[1].name 'canary' names an unknown stage (stages: off, dual_write, shadow, live, rampdown, complete)")]
    [InlineData("""
        "variants":[{"name":"off"},{"name":"live"}],
        "allocation":{"percentile":[{"variant":"Live","from":0,"to":100}]}
        """, "allocation.percentile[0].variant 'Live' names an unknown stage")]
    [InlineData("""
        "variants":[{"name":"off"}],"allocation":{"default_when_enabled":"blue"}
        """, "allocation.default_when_enabled 'blue' names an unknown stage")]
    [InlineData("""
        "variants":[{"name":"off"}],"allocation":{"default_when_enabled":"live"}
        """, "allocation.default_when_enabled 'live' is not one of the flag's variants")]
    [InlineData("""
        "variants":[{"name":"off"},{"name":"off"}],"allocation":{"default_when_enabled":"off"}
        """, "variants[1].name 'off' is listed twice")]
    [InlineData("""
        "variants":[{"name":"off"}]
        """, "it has no allocation, so it names no stage")]
    [InlineData("""
        "variants":[{"name":"off"}],"allocation":{}
        """, "allocation.default_when_enabled is not set")]
    [InlineData("""
        "conditions":{"client_filters":[{"name":"Microsoft.Percentage","parameters":{"Value":50}}]},
        "variants":[{"name":"off"}],"allocation":{"default_when_enabled":"off"}
        """, "conditions.client_filters has 'Microsoft.Percentage'")]
    [InlineData("""
        "variants":[{"name":"off"},{"name":"live"}],
        "allocation":{"default_when_enabled":"off","user":[{"variant":"live","users":["a"]}]}
        """, "allocation.user / allocation.group")]
    [InlineData("""
        "variants":[{"name":"shadow"},{"name":"live"}],"allocation":{"seed":"SignalFunctions.signal-events",
        "percentile":[{"variant":"live","from":0,"to":40},{"variant":"shadow","from":30,"to":100}]}
        """, "ranges overlap at 30")]
    [InlineData("""
        "variants":[{"name":"shadow"},{"name":"live"}],"allocation":{"seed":"SignalFunctions.signal-events",
        "percentile":[{"variant":"live","from":0,"to":12.5},{"variant":"shadow","from":12.5,"to":100}]}
        """, "a stage share is a whole percent")]
    [InlineData("""
        "variants":[{"name":"shadow"},{"name":"live"}],"allocation":{"seed":"SignalFunctions.signal-events",
        "percentile":[{"variant":"shadow","from":0,"to":70},{"variant":"live","from":70,"to":100}]}
        """, "splits journeys as shadow 0-70, live 70-100")]
    [InlineData("""
        "variants":[{"name":"off"},{"name":"dual_write"},{"name":"shadow"}],"allocation":{"seed":"SignalFunctions.signal-events",
        "percentile":[{"variant":"shadow","from":0,"to":10},{"variant":"dual_write","from":10,"to":50},{"variant":"off","from":50,"to":100}]}
        """, "splits journeys as shadow 0-10, dual_write 10-50, off 50-100")]
    [InlineData("""
        "variants":[{"name":"shadow"},{"name":"live"}],
        "allocation":{"percentile":[{"variant":"live","from":0,"to":30},{"variant":"shadow","from":30,"to":100}]}
        """, "allocation.seed is '', not 'SignalFunctions.signal-events'")]
    [InlineData("""
        "variants":[{"name":"live"}],"allocation":{"percentile":[{"variant":"live","from":0,"to":30}]}
        """, "allocation.default_when_enabled is not set, so some journeys would get no stage")]
    public void A_flag_that_is_not_exactly_a_stage_and_a_share_is_rejected(string body, string reason)
    {
        var flag = FeatureFlagKeys.Parse(Key, $$"""{"id":"SignalFunctions.signal-events","enabled":true,{{body}}}""");

        var rejected = Assert.Throws<FeatureFlagFormatException>(() => StageFeatureFlag.StageOf(Key, flag));

        Assert.Contains(reason, rejected.Message);
    }

    [Fact]
    public void A_disabled_flag_without_default_when_disabled_names_no_stage()
    {
        var flag = FeatureFlagKeys.Parse(Key, """
            {"id":"SignalFunctions.signal-events","enabled":false,"variants":[{"name":"live"}],"allocation":{"default_when_enabled":"live"}}
            """);

        var rejected = Assert.Throws<FeatureFlagFormatException>(() => StageFeatureFlag.StageOf(Key, flag));

        Assert.Contains("allocation.default_when_disabled is not set", rejected.Message);
    }

    [Fact]
    public void A_gap_in_the_percentiles_goes_to_default_when_enabled()
    {
        var flag = FeatureFlagKeys.Parse(Key, """
            {"id":"SignalFunctions.signal-events","enabled":true,"variants":[{"name":"shadow"},{"name":"live"}],
             "allocation":{"percentile":[{"variant":"live","from":0,"to":25}],"default_when_enabled":"shadow",
                           "seed":"SignalFunctions.signal-events"}}
            """);

        Assert.Equal((Stage.Live, 25), StageFeatureFlag.StageOf(Key, flag));
    }
}
