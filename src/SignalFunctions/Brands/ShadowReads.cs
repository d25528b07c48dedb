using System.Collections.Concurrent;

namespace SignalFunctions.Brands;

/// <summary>Reads compared with the other side, and how many differed, per migration since this instance started, for /api/health.</summary>
public sealed class ShadowReads(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Counters> _counters = new(StringComparer.Ordinal);

    public void Compared(string migration, bool equal, string? difference)
    {
        var counters = _counters.GetOrAdd(migration, _ => new Counters());
        Interlocked.Increment(ref counters.Compared);
        if (!equal)
        {
            Interlocked.Increment(ref counters.Mismatches);
            counters.LastMismatch = difference;
            counters.LastMismatchAt = clock.GetUtcNow();
        }
    }

    public IReadOnlyDictionary<string, Counters> All => _counters;

    public sealed class Counters
    {
        public long Compared;
        public long Mismatches;
        public string? LastMismatch { get; set; }
        public DateTimeOffset? LastMismatchAt { get; set; }
    }
}
