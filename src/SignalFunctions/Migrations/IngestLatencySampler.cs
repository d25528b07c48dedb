using Dapper;
using Npgsql;
using SignalFunctions.Guard;

namespace SignalFunctions.Migrations;

/// <summary>
/// Ingest latency from the guard's histograms (guard_windows, which every instance overwrites with
/// its running totals every Guard__FlushSeconds), read again and again: what a read adds to the last
/// is the requests answered in between, on every instance, whichever process reads.
/// </summary>
public sealed class IngestLatencySampler(int minRequests)
{
    private Dictionary<(string Migration, long Version, string Instance), long[]>? _seen;
    private long[] _gathered = new long[LatencyBuckets.Count];
    private bool _dropNext;
    private DateTime _lastAnswered = DateTime.MinValue;

    /// <summary>Whether a read within <paramref name="within"/> found requests answered: ingest is running, so there is a latency to steer by.</summary>
    public bool IngestSeenWithin(TimeSpan within) => DateTime.UtcNow - _lastAnswered <= within;

    /// <summary>
    /// Starts a new window. The next flush may hold requests answered before now (the backfill was
    /// copying, or pausing), so what it adds is dropped.
    /// </summary>
    public void Restart()
    {
        _gathered = new long[LatencyBuckets.Count];
        _dropNext = true;
    }

    /// <summary>The latency histogram of the window, once it holds enough requests (and a new window starts); else null.</summary>
    public async Task<long[]?> ReadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<WindowRow>(new CommandDefinition(
            "SELECT migration, flag_version AS Version, instance, latency_buckets AS LatencyBuckets FROM guard_windows",
            cancellationToken: ct));
        // Only rows with today's fixed edges: an instance of an older build may have counted into others.
        var now = rows.Where(r => r.LatencyBuckets.Length == LatencyBuckets.Count)
            .ToDictionary(r => (r.Migration, r.Version, r.Instance), r => r.LatencyBuckets);
        var previous = _seen;
        _seen = now;
        if (previous is null)
        {
            return null;
        }
        var added = new long[LatencyBuckets.Count];
        foreach (var (key, counts) in now)
        {
            var before = previous.GetValueOrDefault(key);
            for (var i = 0; i < added.Length; i++)
            {
                added[i] += Math.Max(0, counts[i] - (before?[i] ?? 0));
            }
        }
        if (added.All(c => c == 0))
        {
            return null;
        }
        _lastAnswered = DateTime.UtcNow;
        if (_dropNext)
        {
            _dropNext = false;
            return null;
        }
        for (var i = 0; i < added.Length; i++)
        {
            _gathered[i] += added[i];
        }
        if (_gathered.Sum() < minRequests)
        {
            return null;
        }
        var window = _gathered;
        _gathered = new long[LatencyBuckets.Count];
        return window;
    }

    // Properties rather than a constructor: Dapper matches constructors by field type, and an array column's is System.Array.
    private sealed class WindowRow
    {
        public string Migration { get; init; } = "";
        public long Version { get; init; }
        public string Instance { get; init; } = "";
        public long[] LatencyBuckets { get; init; } = [];
    }
}
