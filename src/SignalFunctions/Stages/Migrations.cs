namespace SignalFunctions.Stages;

/// <summary>The migrations that have a stage flag, with the key their rollout is bucketed by.</summary>
public static class KnownMigrations
{
    public const string SignalEvents = "signal-events";
    public const string ClickEvents = "click-events";

    public static readonly IReadOnlyDictionary<string, string> JourneyKeys = new Dictionary<string, string>
    {
        [SignalEvents] = "signal_id",
        [ClickEvents] = "click_id",
    };

    public static IEnumerable<string> Names => JourneyKeys.Keys;
}
