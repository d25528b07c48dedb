namespace SignalFunctions.Guard;

/// <summary>
/// Latency buckets 10 % wide with the p99 limit as one of their edges, so "p99 over the limit" is
/// decided exactly while the p99 shown is its bucket's upper edge (at most 10 % high). Every
/// instance builds the same edges from the same Guard__MaxP99Milliseconds setting.
/// </summary>
public sealed class LatencyBuckets(double limitMilliseconds)
{
    private const double Growth = 1.1;
    private const int BelowLimit = 100; // edges down to limit / 1.1^100: 0.4 ms for a 5 s limit
    private const int AboveLimit = 40;  // and up to limit × 1.1^40: 226 s for a 5 s limit
    private const int TopEdge = BelowLimit + AboveLimit;

    /// <summary>One bucket per edge (values up to it) and one above the top edge.</summary>
    public const int Count = TopEdge + 2;

    public double LimitMilliseconds { get; } = limitMilliseconds;

    private double Edge(int index) => LimitMilliseconds * Math.Pow(Growth, index - BelowLimit);

    public int IndexOf(double milliseconds)
    {
        if (milliseconds > Edge(TopEdge))
        {
            return TopEdge + 1;
        }
        var index = Math.Clamp((int)Math.Ceiling(Math.Log(milliseconds / LimitMilliseconds) / Math.Log(Growth)) + BelowLimit, 0, TopEdge);
        // Math.Log rounds: settle on the first edge at or above the value.
        while (index > 0 && milliseconds <= Edge(index - 1))
        {
            index--;
        }
        while (milliseconds > Edge(index))
        {
            index++;
        }
        return index;
    }

    /// <summary>The upper edge of the bucket holding the given quantile; the top edge when it lies above all of them.</summary>
    public double Quantile(IReadOnlyList<long> counts, double quantile)
    {
        var total = counts.Sum();
        if (total == 0)
        {
            return 0;
        }
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return Edge(Math.Min(i, TopEdge));
            }
        }
        return Edge(TopEdge);
    }
}
