using Microsoft.Extensions.Options;
using Npgsql;

namespace SignalFunctions.Guard;

/// <summary>Saves this instance's <see cref="IngestMeter"/> windows every Guard__FlushSeconds, and once more on shutdown.</summary>
public sealed partial class GuardWindowFlusher(
    IngestMeter meter, NpgsqlDataSource dataSource, IOptions<GuardOptions> options, ILogger<GuardWindowFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.FlushSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (options.Value.Enabled)
        {
            await FlushAsync(cancellationToken);
        }
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        try
        {
            await meter.FlushAsync(dataSource, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The counters stay in memory and go out with the next flush that reaches the database.
            LogFlushFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not save the guard's ingest measurements; retrying at the next flush")]
    private partial void LogFlushFailed(Exception exception);
}
