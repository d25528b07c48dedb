using System.Collections.Concurrent;
using System.Net;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// Steady ingest from a few senders over loopback until stopped (and never longer than its limit):
/// remembers every event id that got a 202, so a test can prove none was lost.
/// </summary>
public sealed class EventLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _senders;

    public ConcurrentBag<Guid> Accepted { get; } = [];
    public ConcurrentBag<HttpStatusCode> Refused { get; } = [];

    public EventLoad(AppProcess app, int senders = 4, TimeSpan? limit = null)
    {
        _stop = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(60));
        _senders = Enumerable.Range(0, senders).Select(_ => Task.Run(() => SendAsync(app))).ToArray();
    }

    private async Task SendAsync(AppProcess app)
    {
        while (!_stop.IsCancellationRequested)
        {
            var e = Events.Signal();
            try
            {
                using var response = await app.PostJsonAsync("/api/signal/events", Events.Json(e));
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    Accepted.Add((Guid)e["id"]!);
                }
                else
                {
                    Refused.Add(response.StatusCode);
                }
            }
            catch (HttpRequestException)
            {
                Refused.Add(0);
            }
        }
    }

    /// <summary>Waits until <paramref name="count"/> events in all got a 202: load measured in events, not in time.</summary>
    public async Task UntilAcceptedAsync(int count)
    {
        while (Accepted.Count < count)
        {
            Assert.False(_stop.IsCancellationRequested, $"the load stopped at {Accepted.Count} accepted events, short of {count} (refused: {Refused.Count})");
            await Task.Delay(20);
        }
    }

    public async Task<IReadOnlyCollection<Guid>> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_senders);
        return Accepted;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
