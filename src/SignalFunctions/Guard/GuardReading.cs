namespace SignalFunctions.Guard;

/// <summary>What the guard measured for one migration since its last stage change.</summary>
public sealed record GuardReading(
    long Requests, long ServerErrors, double P99Milliseconds,
    long SecondaryWrites, long SecondaryFailures,
    long RepairBacklog,
    long? ParityReportId, long ParityRowsCompared, long ParityMissing)
{
    /// <summary>
    /// The p99's latency bucket is (P99AboveMilliseconds, P99Milliseconds]: the p99 is certainly over
    /// this lower edge. Null when only the upper edge is known (it then stands for both).
    /// </summary>
    public double? P99AboveMilliseconds { get; init; }

    /// <summary>Rows the latest parity report found on both sides but different: lost as surely as missing ones.</summary>
    public long ParityDifferent { get; init; }

    /// <summary>
    /// Keys an outside writer changed whose mirror by the capture trigger failed (queued for repair as
    /// sync_key entries) since the change: secondary writes that failed. A mirror that succeeds leaves
    /// no trace, so they count into the failure rate's numerator and denominator alike.
    /// </summary>
    public long CaptureFailures { get; init; }

    public long ParityLost => ParityMissing + ParityDifferent;

    public long AllSecondaryWrites => SecondaryWrites + CaptureFailures;

    public long AllSecondaryFailures => SecondaryFailures + CaptureFailures;

    public string Describe()
    {
        var p99 = Requests > 0 ? FormattableString.Invariant($"<= {P99Milliseconds:0} ms") : "-";
        var parity = ParityReportId is { } id
            ? $"parity #{id}: {ParityMissing} missing and {ParityDifferent} different of {ParityRowsCompared} rows"
            : "no parity report since";
        var capture = CaptureFailures > 0 ? $" ({CaptureFailures} of them capture-trigger mirrors)" : "";
        return $"{Requests} requests, {ServerErrors} 5xx, p99 {p99}; {AllSecondaryWrites} secondary writes, {AllSecondaryFailures} failed{capture}; " +
               $"{RepairBacklog} repair entries queued; {parity}";
    }
}
