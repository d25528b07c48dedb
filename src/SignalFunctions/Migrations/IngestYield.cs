using Dapper;
using Npgsql;
using SignalFunctions.Guard;

namespace SignalFunctions.Migrations;

/// <summary>
/// How long the backfill leaves the database to ingest after each batch, as a multiple of the
/// batch's duration, steered by ingest's own latency: ingest p99 is measured while the backfill
/// pauses (the baseline) and while it copies; over Migrations__MaxIngestSlowdown × the baseline, the
/// ratio doubles, well under it the ratio eases back toward Migrations__YieldRatio. It starts from
/// the top once ingest is found (a slow start: nothing is known yet of what ingest tolerates). A
/// fixed ratio either wastes a quiet database or, on a machine with less CPU, lets ingest's tail
/// grow fourfold.
/// </summary>
public sealed class IngestYield(MigrationOptions settings)
{
    // Traffic and the tables change over a long backfill; so does what ingest costs without it.
    private static readonly TimeSpan BaselineLifetime = TimeSpan.FromMinutes(2);

    /// <summary>The pause after each batch, as a multiple of the batch's duration.</summary>
    public double Ratio { get; private set; } = settings.YieldRatio;

    // The last three measurements without the backfill.
    private readonly Queue<double> _alone = new();

    /// <summary>
    /// Ingest p99 (ms, a bucket's upper edge) while the backfill paused: the median of the last three
    /// measurements (the lower of two). One taken during a checkpoint or a vacuum would otherwise
    /// let ingest slow down by as much until the next; yet what ingest costs alone does rise as the
    /// new table grows, and the baseline follows. Null until measured.
    /// </summary>
    public double? BaselineP99 => _alone.Count switch
    {
        0 => null,
        1 or 2 => _alone.Min(),
        _ => _alone.Order().ElementAt(1),
    };

    /// <summary>Ingest p99 (ms) over the last window measured while the backfill copied.</summary>
    public double? LastP99 { get; private set; }

    private DateTime? _baselineTried;

    public bool Steering => settings.MaxIngestSlowdown > 0;

    /// <summary>Ingest p99 may reach this while the backfill copies (ms); null without a baseline.</summary>
    public double? LimitP99 => BaselineP99 * settings.MaxIngestSlowdown;

    public bool BaselineDue(DateTime now) => Steering && (_baselineTried is not { } at || now - at >= BaselineLifetime);

    /// <summary>A window measured with the backfill paused, or null when too few requests came to tell.</summary>
    public void Baseline(IReadOnlyList<long>? window, DateTime now)
    {
        _baselineTried = now;
        if (window is not null)
        {
            if (_alone.Count == 0)
            {
                Ratio = Math.Max(settings.YieldRatio, settings.MaxYieldRatio);
            }
            _alone.Enqueue(P99Of(window));
            if (_alone.Count > 3)
            {
                _alone.Dequeue();
            }
        }
    }

    /// <summary>Judges one window measured while the backfill copied, and sets the next ratio.</summary>
    public void Judge(IReadOnlyList<long> window)
    {
        LastP99 = P99Of(window);
        if (LimitP99 is not { } limit)
        {
            return;
        }
        if (LastP99 > limit)
        {
            // Back off fast: every window over the limit is 1 % of a p99 spent.
            Ratio = Math.Min(settings.MaxYieldRatio, Math.Max(Ratio * 2, Ratio + 1));
        }
        else if (LastP99 <= limit * 0.75)
        {
            Ratio = Math.Max(settings.YieldRatio, Ratio * 0.8);
        }
    }

    /// <summary>For the progress line and logs: what the ratio answers to.</summary>
    public string? Describe() => LimitP99 is { } limit
        ? $"yielding {Ratio:0.#}× to ingest (p99 {LastP99?.ToString("0.#") ?? "?"} ms, limit {limit:0.#} ms, {BaselineP99:0.#} ms alone)"
        : null;

    private static double P99Of(IReadOnlyList<long> window) => LatencyBuckets.Quantile(window, 0.99).Upper;
}

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
