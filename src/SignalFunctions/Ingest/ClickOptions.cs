namespace SignalFunctions.Ingest;

/// <summary>Settings under "Clicks:".</summary>
public sealed class ClickOptions
{
    /// <summary>Shared secret of the qualification webhook; the sender signs the body with HMAC-SHA256.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>Newest chronology entries kept per click; older ones are dropped and counted.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10_000)]
    public int MaxEventsPerClick { get; set; } = 100;
}
