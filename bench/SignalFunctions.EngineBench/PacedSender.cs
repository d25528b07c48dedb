using System.Diagnostics;
using System.Net;
using System.Text;

namespace SignalFunctions.EngineBench;

/// <summary>
/// Ingest at a fixed rate, open-loop: request i is due at start + i/rate whether or not earlier
/// ones have answered, and its latency is measured from that due time, not from when it went
/// out. A stalled server therefore shows as latency instead of as fewer requests (no coordinated
/// omission, as in wrk2's -R, which Debian's wrk lacks). Requests beyond the open connections
/// wait in the client's queue, on the clock.
/// </summary>
internal sealed class PacedSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly Uri _endpoint;
    private readonly double _ticksPerRequest;
    private readonly long[] _due;
    private readonly long[] _done;
    private readonly int[] _status;
    private readonly Guid[] _ids;
    private readonly Guid[] _contents = [.. Enumerable.Range(0, 100).Select(_ => Guid.NewGuid())];
    private int _sent;
    private int _inFlight;

    public PacedSender(Uri baseAddress, int rate, int connections, TimeSpan longest)
    {
        _client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _endpoint = new Uri("api/signal/events", UriKind.Relative);
        _ticksPerRequest = (double)Stopwatch.Frequency / rate;
        var capacity = (int)(rate * longest.TotalSeconds);
        _due = new long[capacity];
        _done = new long[capacity];
        _status = new int[capacity];
        _ids = new Guid[capacity];
    }

    public long Started { get; private set; }

    /// <summary>Sends until stopped (or out of room), then waits for the answers still on their way.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        Started = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested && _sent < _due.Length)
        {
            var now = Stopwatch.GetTimestamp();
            // Everything due by now goes out now; a late wake-up sends a few at once, each still
            // timed from its own due time.
            while (_sent < _due.Length && Started + (long)(_sent * _ticksPerRequest) <= now)
            {
                var index = _sent++;
                _due[index] = Started + (long)(index * _ticksPerRequest);
                Interlocked.Increment(ref _inFlight);
                _ = SendAsync(index);
            }
            await Task.Delay(1, CancellationToken.None);
        }
        var drain = Stopwatch.StartNew();
        while (Volatile.Read(ref _inFlight) > 0 && drain.Elapsed < TimeSpan.FromSeconds(35))
        {
            await Task.Delay(10, CancellationToken.None);
        }
    }

    private async Task SendAsync(int index)
    {
        var id = Guid.NewGuid();
        _ids[index] = id;
        var body = $$"""
            {"id":"{{id}}","signal_id":"{{Guid.NewGuid()}}","content_id":"{{_contents[index % _contents.Length]}}","target_type":"tutor","target_id":"{{Guid.NewGuid()}}","event_type":"impression","source_component":"tutor_embed","session_id":"s{{index % 1000}}"}
            """;
        try
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await _client.PostAsync(_endpoint, content);
            _status[index] = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            _status[index] = -1;
        }
        finally
        {
            _done[index] = Stopwatch.GetTimestamp();
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>The requests due within [from, to) (Stopwatch timestamps); an error is any answer but 202.</summary>
    public LatencySummary Summarize(long from, long to)
    {
        var latencies = new List<double>();
        var errors = 0;
        for (var i = 0; i < _sent; i++)
        {
            if (_due[i] < from || _due[i] >= to)
            {
                continue;
            }
            if (_status[i] != (int)HttpStatusCode.Accepted)
            {
                errors++;
            }
            latencies.Add(_done[i] == 0 ? double.PositiveInfinity : (_done[i] - _due[i]) * 1000.0 / Stopwatch.Frequency);
        }
        latencies.Sort();
        double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
        return new LatencySummary(latencies.Count, errors, (to - from) / (double)Stopwatch.Frequency,
            At(0.50), At(0.90), At(0.99), At(0.999), latencies.Count == 0 ? double.NaN : latencies[^1]);
    }

    /// <summary>Ids of the events the app accepted (202), to look for in both tables.</summary>
    public Guid[] AcceptedIds() =>
        [.. Enumerable.Range(0, _sent).Where(i => _status[i] == (int)HttpStatusCode.Accepted).Select(i => _ids[i])];

    public void Dispose() => _client.Dispose();
}
