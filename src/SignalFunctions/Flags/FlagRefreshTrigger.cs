using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Flags;

/// <summary>
/// Wakes the App Configuration refresh loop at once (the Event Grid push), instead of at its next
/// poll. A Sync-Token from the event is handed to the client first, so the read that follows sees
/// the very change the event announced even on a replica that has not caught up.
/// </summary>
public sealed class FlagRefreshTrigger(AppConfigurationClient client)
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Request(IEnumerable<string> syncTokens)
    {
        foreach (var token in syncTokens)
        {
            client.AddSyncToken(token);
        }
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // A refresh is already requested; it will read this change too.
        }
    }

    /// <summary>True when a refresh was requested before <paramref name="timeout"/> passed.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
