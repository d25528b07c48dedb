using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.Flags;

/// <summary>How a listing of App Configuration becomes the snapshot ingest obeys.</summary>
public sealed class FlagSnapshotBuildTests
{
    private static readonly DateTimeOffset At = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static KeyValue Flag(string migration, Stage stage, int percent = 100) =>
        new() { Key = StageFeatureFlag.Key(migration), Value = FeatureFlagKeys.Serialize(StageFeatureFlag.Create(migration, stage, percent)), ETag = "e", LastModified = At };

    private static KeyValue Raw(string migration, string json) => new() { Key = StageFeatureFlag.Key(migration), Value = json, ETag = "e", LastModified = At };

    [Fact]
    public void Valid_flags_and_settings_make_the_snapshot()
    {
        var snapshot = AppConfigurationFlagStore.Build(
            [Flag("signal-events", Stage.Shadow, 30), Flag("click-events", Stage.Live)],
            [new KeyValue { Key = "SignalFunctions:Guard:MaxErrorRate", Value = "0.05" }], null, "prod", "etag-1", At);

        Assert.Equal((Stage.Shadow, 30), (snapshot["signal-events"].Stage, snapshot["signal-events"].Percent));
        Assert.Equal(Stage.Live, snapshot["click-events"].Stage);
        Assert.Equal("0.05", snapshot.Settings["Guard:MaxErrorRate"]);
        Assert.Equal(("prod", "etag-1", AppConfigurationFlagStore.SourceName), (snapshot.Label, snapshot.ETag, snapshot.Source));
        Assert.Empty(snapshot.Rejected);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("""{"id":"SignalFunctions.signal-events","enabled":true,"variants":[{"name":"warp"}],"allocation":{"default_when_enabled":"warp"}}""")]
    [InlineData("""{"id":"SignalFunctions.other","enabled":true}""")]
    public void An_invalid_flag_is_rejected_and_keeps_its_previous_value(string json)
    {
        var previous = AppConfigurationFlagStore.Build([Flag("signal-events", Stage.DualWrite), Flag("click-events", Stage.Off)], [], null, null, "1", At);

        var snapshot = AppConfigurationFlagStore.Build([Raw("signal-events", json), Flag("click-events", Stage.DualWrite)], null, previous, null, "2", At);

        Assert.Equal(Stage.DualWrite, snapshot["signal-events"].Stage);
        Assert.Equal(Stage.DualWrite, snapshot["click-events"].Stage); // the valid flag beside it still applies
        Assert.Contains(StageFeatureFlag.Key("signal-events"), snapshot.Rejected.Keys);
    }

    [Fact]
    public void An_invalid_flag_without_a_previous_value_has_no_stage()
    {
        var snapshot = AppConfigurationFlagStore.Build([Raw("signal-events", "[]")], [], null, null, "1", At);

        Assert.False(snapshot.Flags.ContainsKey("signal-events"));
        Assert.Single(snapshot.Rejected);
    }

    [Fact]
    public void A_deleted_flag_keeps_its_last_stage_and_says_so()
    {
        var previous = AppConfigurationFlagStore.Build([Flag("signal-events", Stage.Live)], [], null, null, "1", At);

        var snapshot = AppConfigurationFlagStore.Build([], null, previous, null, "2", At);

        Assert.Equal(Stage.Live, snapshot["signal-events"].Stage);
        Assert.Contains("deleted", snapshot.Rejected[StageFeatureFlag.Key("signal-events")], StringComparison.Ordinal);
    }

    [Fact]
    public void Unlisted_settings_keep_their_previous_values()
    {
        var previous = AppConfigurationFlagStore.Build([], [new KeyValue { Key = "SignalFunctions:A", Value = "1" }], null, null, "1", At);

        var snapshot = AppConfigurationFlagStore.Build([Flag("signal-events", Stage.Off)], null, previous, null, "2", At);

        Assert.Equal("1", snapshot.Settings["A"]);
    }
}
