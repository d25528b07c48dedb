namespace SignalFunctions.Flags;

public sealed class FlagOptions
{
    /// <summary>
    /// How often flags are re-read even without a change notification (seconds, at least 1). An app
    /// setting read once at start-up (the poll loop's interval): a change needs a restart, and a
    /// SignalFunctions:Flags:RefreshSeconds key-value in App Configuration does not change it.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600)]
    public int RefreshSeconds { get; set; } = 5;

    /// <summary>App Configuration label the flags and settings are read and written with; unset means "no label".</summary>
    public string? Label { get; set; }
}
