using Microsoft.Extensions.Options;
using Npgsql;

namespace SignalFunctions.Flags;

/// <summary>
/// Keeps <see cref="FlagState"/> current from the embedded store: LISTEN stage_flags for changes
/// within milliseconds, and a periodic re-read as a safety net and to keep the snapshot age honest.
/// </summary>
public sealed partial class EmbeddedFlagWatcher(
    NpgsqlDataSource dataSource,
    EmbeddedFlagStore store,
    FlagState state,
    IOptions<FlagOptions> options,
    ILogger<EmbeddedFlagWatcher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Serve with real stages from the first request when the database is there at start-up.
        try
        {
            state.Apply(await store.LoadAsync(cancellationToken));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            state.Failed(ex.Message);
            LogLoadFailed(ex);
        }
        await base.StartAsync(cancellationToken);
    }

    // A fixed short retry, not a growing backoff: once the database is back, a stage change must
    // reach this instance within about a second, however long the outage was.
    // One connection attempt a second is nothing to the server.
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var refresh = TimeSpan.FromSeconds(options.Value.RefreshSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                // A notification can arrive while a reload runs; remember it so it is not lost.
                var pending = 0;
                connection.Notification += (_, _) => Interlocked.Exchange(ref pending, 1);
                await using (var listen = new NpgsqlCommand($"LISTEN {EmbeddedFlagStore.NotifyChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                while (!stoppingToken.IsCancellationRequested)
                {
                    Interlocked.Exchange(ref pending, 0);
                    var snapshot = await store.LoadAsync(connection, stoppingToken);
                    var previous = state.Current;
                    state.Apply(snapshot);
                    FlagChangeLog.LogChanges(logger, previous, snapshot);
                    if (Interlocked.CompareExchange(ref pending, 0, 0) == 0)
                    {
                        await connection.WaitAsync(refresh, stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Keep serving the last snapshot; its age shows in /api/health.
                state.Failed(ex.Message);
                LogWatchFailed(ex, RetryDelay.TotalSeconds);
                try
                {
                    await Task.Delay(RetryDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not load stage flags at start-up; ingest answers 503 until they load")]
    private partial void LogLoadFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage flag watch failed; serving the last snapshot, retrying in {RetrySeconds}s")]
    private partial void LogWatchFailed(Exception exception, double retrySeconds);
}
