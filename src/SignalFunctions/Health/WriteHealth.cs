using System.Collections.Concurrent;
using SignalFunctions.Stages;

namespace SignalFunctions.Health;

/// <summary>Failed writes per migration and side since this instance started, for /api/health/details.</summary>
public sealed class WriteHealth(TimeProvider clock)
{
    private readonly ConcurrentDictionary<(string Migration, Side Side), SideCounters> _counters = new();

    public void Failed(string migration, Side side, int events, string error)
    {
        var counters = _counters.GetOrAdd((migration, side), _ => new SideCounters());
        Interlocked.Add(ref counters.Failures, events);
        counters.LastError = error;
        counters.LastFailureAt = clock.GetUtcNow();
    }

    public SideCounters For(string migration, Side side) =>
        _counters.TryGetValue((migration, side), out var counters) ? counters : new SideCounters();

    public sealed class SideCounters
    {
        public long Failures;
        public string? LastError { get; set; }
        public DateTimeOffset? LastFailureAt { get; set; }
    }
}
