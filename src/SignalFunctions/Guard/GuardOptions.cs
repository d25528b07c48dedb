using System.ComponentModel.DataAnnotations;

namespace SignalFunctions.Guard;

/// <summary>
/// Settings under "Guard:" for the automatic step back. The ingest, parity and error
/// limits are the blue-green seed plan's rollback conditions (error rate 5 %, response time 5 s,
/// data loss 1 %).
/// </summary>
public sealed class GuardOptions
{
    /// <summary>False turns the guard off: it measures nothing and never changes a stage.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Share of ingest requests answered 5xx since the last stage change.</summary>
    [Range(0.0, 1.0)]
    public double MaxErrorRate { get; set; } = 0.05;

    /// <summary>Ingest p99 latency since the last stage change.</summary>
    [Range(1, 600_000)]
    public int MaxP99Milliseconds { get; set; } = 5000;

    /// <summary>Keys missing or different on the target side, as a share of the rows the latest parity report compared.</summary>
    [Range(0.0, 1.0)]
    public double MaxParityLossRatio { get; set; } = 0.01;

    /// <summary>Share of secondary (non-authoritative) writes that failed and went to the repair queue.</summary>
    [Range(0.0, 1.0)]
    public double MaxSecondaryFailureRate { get; set; } = 0.05;

    /// <summary>Repair entries queued since the last stage change and still not repaired.</summary>
    [Range(1, long.MaxValue)]
    public long MaxRepairBacklog { get; set; } = 10_000;

    /// <summary>Fewest requests (or secondary writes) a rate is judged on: one error in two requests proves nothing.</summary>
    [Range(1, int.MaxValue)]
    public int MinRequests { get; set; } = 100;

    /// <summary>Fewest rows a parity report must have compared before its loss ratio counts.</summary>
    [Range(1, int.MaxValue)]
    public int MinParityRows { get; set; } = 100;

    /// <summary>
    /// How often each instance saves its ingest measurements (seconds): for the guard, and for the
    /// backfill, which yields to ingest by the latency it reads there and so reacts this fast.
    /// </summary>
    [Range(1, 300)]
    public int FlushSeconds { get; set; } = 2;
}
