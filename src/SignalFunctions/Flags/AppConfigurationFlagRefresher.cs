using Microsoft.Extensions.Options;
using SignalFunctions.Database;
using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Flags;

/// <summary>
/// Keeps <see cref="FlagState"/> current from App Configuration: polls
/// every Flags__RefreshSeconds with page ETags (an unchanged store costs one 304 per poll), refreshes
/// at once when the Event Grid push asks, applies each snapshot whole and saves it as last-known-good.
/// App Configuration down, slow, throttling or answering garbage: the current snapshot stays, the
/// error shows in /api/health, and polls back off. A cold start without App Configuration starts
/// from the last-known-good copy; with none, there is no snapshot and ingest answers 503.
/// </summary>
public sealed partial class AppConfigurationFlagRefresher(
    AppConfigurationFlagStore store,
    LastKnownGood lastKnownGood,
    FlagState state,
    FlagRefreshTrigger trigger,
    IOptions<FlagOptions> options,
    TimeProvider clock,
    ILogger<AppConfigurationFlagRefresher> logger) : BackgroundService
{
    // Settings (guard thresholds, reader switches) need not follow within seconds: their listing is
    // checked every sixth poll and on every push, so most polls of an unchanged store are one 304.
    private const int SettingsEveryPolls = 6;

    // One read may not hold the loop longer than this, whatever the client's retries would allow.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(15);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan SaveConfirmationsEvery = TimeSpan.FromMinutes(1);

    private StoreRead? _last;
    private DateTimeOffset _savedAt;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Serve real stages from the first request: read App Configuration before the app listens.
        try
        {
            await RefreshAsync(withSettings: true, cancellationToken);
        }
        catch (Exception ex) when (IsReadFailure(ex, cancellationToken))
        {
            await StartFromLastKnownGoodAsync(Describe(ex), cancellationToken);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var refresh = TimeSpan.FromSeconds(options.Value.RefreshSeconds);
        var listening = trigger.ListenAsync(stoppingToken);
        try
        {
            await PollAsync(refresh, stoppingToken);
        }
        finally
        {
            await listening;
        }
    }

    private async Task PollAsync(TimeSpan refresh, CancellationToken stoppingToken)
    {
        var failures = 0;
        var polls = 0;
        TimeSpan? serverWait = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var pushed = await trigger.WaitAsync(failures == 0 ? refresh : Backoff(refresh, failures, serverWait), stoppingToken);
                await RefreshAsync(withSettings: pushed || ++polls % SettingsEveryPolls == 0, stoppingToken);
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever the failure, the loop goes on: a loop that died would leave this instance
                // on its snapshot for good, with nothing in /api/health to say so.
                if (!IsReadFailure(ex, stoppingToken))
                {
                    LogUnexpected(ex);
                }
                failures++;
                serverWait = (ex as AppConfigurationException)?.RetryAfter;
                var error = Describe(ex);
                if (state.Current is null)
                {
                    // Still nothing to serve (the database was down at start too?): try the copy again.
                    await StartFromLastKnownGoodAsync(error, stoppingToken);
                }
                else
                {
                    state.Failed($"{error} Serving the snapshot from {state.Current.Source}.");
                }
                LogRefreshFailed(error, Backoff(refresh, failures, serverWait).TotalSeconds);
            }
        }
    }

    private async Task RefreshAsync(bool withSettings, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ReadTimeout);
        // After a start from the last-known-good copy, a rejected flag keeps that copy's value.
        var previous = _last ?? (state.Current is { } current ? new StoreRead(current, null, null) : null);
        var read = await store.ReadAsync(previous, withSettings || _last is null, timeout.Token);
        var now = clock.GetUtcNow();
        if (read is null)
        {
            _last = _last! with { Snapshot = _last.Snapshot.ConfirmedAt(now) };
            state.Apply(_last.Snapshot);
            if (now - _savedAt >= SaveConfirmationsEvery)
            {
                await SaveAsync(_last.Snapshot, ct);
            }
            return;
        }
        var before = state.Current;
        state.Apply(read.Snapshot);
        _last = read;
        FlagChangeLog.LogChanges(logger, before, read.Snapshot);
        await SaveAsync(read.Snapshot, ct);
    }

    private async Task SaveAsync(FlagSnapshot snapshot, CancellationToken ct)
    {
        try
        {
            await lastKnownGood.SaveAsync(store.Endpoint, snapshot, ct);
            _savedAt = snapshot.LoadedAt;
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            // The snapshot is applied all the same; the next change (or confirmation) saves it.
            LogSaveFailed(ex.Message);
        }
    }

    private async Task StartFromLastKnownGoodAsync(string error, CancellationToken ct)
    {
        try
        {
            if (await lastKnownGood.LoadAsync(store.Endpoint, store.Label, ct) is { } saved)
            {
                state.Apply(saved.Snapshot);
                state.Failed($"{error} Serving the last-known-good flags saved {saved.SavedAt:u}.");
                LogStartedFromLastKnownGood(error, saved.SavedAt);
                return;
            }
            state.Failed($"{error} There is no last-known-good copy in PostgreSQL either, so no stage is known: ingest answers 503 until App Configuration answers.");
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            state.Failed($"{error} The last-known-good copy could not be read either (the database is unreachable: {ex.Message}).");
        }
        LogNoFlags(state.LastError!);
    }

    /// <summary>Doubling from the refresh interval up to two minutes, ±20 % jitter, never sooner than the server asked.</summary>
    internal static TimeSpan Backoff(TimeSpan refresh, int failures, TimeSpan? serverWait)
    {
        var doubled = refresh.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 16));
        var wait = TimeSpan.FromSeconds(Math.Min(doubled, MaxBackoff.TotalSeconds) * (0.8 + Random.Shared.NextDouble() * 0.4));
        return serverWait is { } asked && asked > wait ? asked : wait;
    }

    private static bool IsReadFailure(Exception ex, CancellationToken ct) =>
        ex is AppConfigurationException or FeatureFlagFormatException or System.Text.Json.JsonException
        || (ex is OperationCanceledException && !ct.IsCancellationRequested);

    private static string Describe(Exception ex) => ex switch
    {
        OperationCanceledException => $"App Configuration did not answer within {ReadTimeout.TotalSeconds:0} s.",
        AppConfigurationException { Status: 429 or 503 } => $"App Configuration is throttling: {ex.Message}",
        AppConfigurationException or FeatureFlagFormatException or System.Text.Json.JsonException => $"App Configuration read failed: {ex.Message}",
        _ => $"Flag refresh failed ({ex.GetType().Name}: {ex.Message}).",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Flag refresh failed ({Error}); keeping the current snapshot, next try in {RetrySeconds:0.0}s")]
    private partial void LogRefreshFailed(string error, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Flag refresh failed unexpectedly; keeping the current snapshot and retrying with backoff")]
    private partial void LogUnexpected(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not save the last-known-good flags ({Error}); serving them all the same")]
    private partial void LogSaveFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Started from the last-known-good flags saved {SavedAt}: {Error}")]
    private partial void LogStartedFromLastKnownGood(string error, DateTimeOffset savedAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "No stage flags: {Reason}")]
    private partial void LogNoFlags(string reason);
}
