using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using SignalFunctions.Database;
using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Flags;

/// <summary>
/// Wakes the App Configuration refresh loop at once instead of at its next poll. Event Grid
/// delivers a change to one instance behind the load balancer; that instance tells every other one
/// through PostgreSQL (NOTIFY flags_changed, which each instance LISTENs to), so the whole fleet
/// refreshes within milliseconds. The event's Sync-Tokens travel along, so each read sees the very
/// change the event announced, even on a replica that has not caught up yet.
/// </summary>
public sealed partial class FlagRefreshTrigger(
    AppConfigurationClient client, NpgsqlDataSource dataSource, TimeProvider clock, ILogger<FlagRefreshTrigger> logger)
{
    public const string NotifyChannel = "flags_changed";

    // Past this, a NOTIFY of ours that never came back (the listener was reconnecting) is forgotten,
    // so a backend process id reused by another instance's connection is not mistaken for ours.
    private static readonly TimeSpan OwnNotifyLifetime = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _signal = new(0, 1);

    // The backends this instance's own NOTIFYs went out from, and when: PostgreSQL delivers a
    // NOTIFY to every listener, the sender's own too, and this instance has refreshed already.
    private readonly ConcurrentDictionary<int, DateTimeOffset> _ownNotifies = new();

    /// <summary>This instance refreshes now; every other instance is told through PostgreSQL.</summary>
    public async Task PublishAsync(IReadOnlyList<string> syncTokens, CancellationToken ct)
    {
        Request(syncTokens);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            _ownNotifies[connection.ProcessID] = clock.GetUtcNow();
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_notify(@channel, @payload)",
                new { channel = NotifyChannel, payload = string.Join(",", syncTokens) }, cancellationToken: ct));
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            // The others still poll: they follow within Flags__RefreshSeconds.
            LogFanOutFailed(ex.Message);
        }
    }

    /// <summary>Refresh this instance now, after taking the given Sync-Tokens.</summary>
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

    /// <summary>LISTENs for the pushes other instances received, until stopped; reconnects after a second on failure.</summary>
    public async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                connection.Notification += (_, e) =>
                {
                    if (IsOwn(e.PID))
                    {
                        LogOwnEchoIgnored(e.PID);
                        return;
                    }
                    Request(e.Payload.Split(',', StringSplitOptions.RemoveEmptyEntries));
                };
                await connection.ExecuteAsync(new CommandDefinition($"LISTEN {NotifyChannel}", cancellationToken: ct));
                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogListenFailed(ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>True for the echo of a NOTIFY this instance sent (each is recognised once).</summary>
    private bool IsOwn(int backend) =>
        _ownNotifies.TryRemove(backend, out var sent) && clock.GetUtcNow() - sent < OwnNotifyLifetime;

    // Says the echo arrived and woke nothing: what a test waits for, rather than for a second read that must not come.
    [LoggerMessage(Level = LogLevel.Information, Message = "Flag change notification from backend {Backend} is this instance's own: already refreshed")]
    private partial void LogOwnEchoIgnored(int backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell the other instances about a flag change ({Error}); they follow at their next poll")]
    private partial void LogFanOutFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for flag pushes failed ({Error}); retrying in 1s, polling goes on")]
    private partial void LogListenFailed(string error);
}
