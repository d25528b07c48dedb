namespace SignalFunctions.Guard;

/// <summary>
/// Fixed latency bucket edges, the same in every build and for every Guard__MaxP99Milliseconds: an
/// instance's meter (which reads its options once) and the guard (which reads them live) always
/// count into and read from the same buckets, whatever the threshold is changed to meanwhile.
/// Per decade from 1 ms to 1,000 s the edges are 1.0, 1.1 … 1.9, 2.0, 2.2, 2.4, 2.5, 2.6 … 4.8, 5.0, 5.5 … 9.5
/// (× 10^k ms): at most 10 % apart, and every round limit (1 s, 2 s, 5 s, 250 ms …) is an edge,
/// so "p99 over the limit" is decided exactly for it.
/// </summary>
public static class LatencyBuckets
{
    /// <summary>Upper edges in milliseconds, ascending; bucket i holds (Edges[i-1], Edges[i]], the last bucket everything above.</summary>
    public static readonly IReadOnlyList<double> Edges = BuildEdges();

    /// <summary>One bucket per edge and one above the top edge.</summary>
    public static int Count => Edges.Count + 1;

    private static double[] BuildEdges()
    {
        // Tenths are counted as integers so that every edge is an exact decimal value (1.1 × 1000 = 1100, not 1100.0000000000002).
        var tenths = Enumerable.Range(10, 10)                  // 1.0 … 1.9
            .Concat(Enumerable.Range(10, 15).Select(i => i * 2))   // 2.0 … 4.8
            .Append(25)                                             // and 2.5 (250 ms, 2.5 s)
            .Concat(Enumerable.Range(10, 10).Select(i => i * 5))   // 5.0 … 9.5
            .Order()
            .ToArray();
        var edges = new List<double>();
        for (var decade = 1; decade <= 100_000; decade *= 10)
        {
            edges.AddRange(tenths.Select(t => t * (double)decade / 10));
        }
        edges.Add(1_000_000);
        return [.. edges];
    }

    public static int IndexOf(double milliseconds)
    {
        // The first edge at or above the value: a bucket's upper edge is inclusive.
        var edges = (double[])Edges;
        var index = Array.BinarySearch(edges, milliseconds);
        return index >= 0 ? index : ~index;
    }

    /// <summary>
    /// The bucket holding the given quantile, as (lower, upper) edges: the quantile is above lower and at
    /// most upper. (0, 0) with no samples; (top, top) when it lies above the top edge.
    /// </summary>
    public static (double Lower, double Upper) Quantile(IReadOnlyList<long> counts, double quantile)
    {
        var total = counts.Sum();
        if (total == 0)
        {
            return (0, 0);
        }
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        var index = counts.Count - 1;
        for (var i = 0; i < counts.Count; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                index = i;
                break;
            }
        }
        return index < Edges.Count ? (index == 0 ? 0 : Edges[index - 1], Edges[index]) : (Edges[^1], Edges[^1]);
    }
}
