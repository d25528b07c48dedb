namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>A clock that says what it is told: fixed dates for known answers, skewed ones for the ±15 minute check.</summary>
public sealed class SetClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
