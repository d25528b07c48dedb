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
