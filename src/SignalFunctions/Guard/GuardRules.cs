using System.Globalization;

namespace SignalFunctions.Guard;

/// <summary>
/// The guard's decision, apart from any I/O. The first limit passed wins, most serious first: data
/// lost, then secondary writes failing, the repair queue growing, and ingest errors and latency.
/// A rate is judged only on a minimum sample, so one error in two requests trips nothing.
/// </summary>
public static class GuardRules
{
    public const string ParityLoss = "parity_loss";
    public const string SecondaryFailureRate = "secondary_failure_rate";
    public const string RepairBacklog = "repair_backlog";
    public const string ErrorRate = "error_rate";
    public const string P99Latency = "p99_latency";

    public static GuardTrip? Check(GuardReading r, GuardOptions o)
    {
        if (r.ParityReportId is { } report && r.ParityRowsCompared >= o.MinParityRows
            && Over(r.ParityLost, r.ParityRowsCompared, o.MaxParityLossRatio) is { } loss)
        {
            // The report keeps totals over all its ranges, not per range: the ratio is the report's.
            return new GuardTrip(ParityLoss, loss, o.MaxParityLossRatio, r.ParityRowsCompared, Text(
                $"parity report #{report} found {r.ParityMissing} missing and {r.ParityDifferent} different of {r.ParityRowsCompared} compared rows ({loss:P1} lost, limit {o.MaxParityLossRatio:P1})"));
        }
        if (r.AllSecondaryWrites >= o.MinRequests && Over(r.AllSecondaryFailures, r.AllSecondaryWrites, o.MaxSecondaryFailureRate) is { } failing)
        {
            var capture = r.CaptureFailures > 0 ? $", {r.CaptureFailures} of them outside writers' rows the capture trigger could not mirror" : "";
            return new GuardTrip(SecondaryFailureRate, failing, o.MaxSecondaryFailureRate, r.AllSecondaryWrites, Text(
                $"{r.AllSecondaryFailures} of {r.AllSecondaryWrites} secondary writes failed{capture} ({failing:P1}, limit {o.MaxSecondaryFailureRate:P1})"));
        }
        if (r.RepairBacklog > o.MaxRepairBacklog)
        {
            return new GuardTrip(RepairBacklog, r.RepairBacklog, o.MaxRepairBacklog, r.RepairBacklog, Text(
                $"{r.RepairBacklog} repair entries queued since the last stage change and not repaired (limit {o.MaxRepairBacklog})"));
        }
        if (r.Requests >= o.MinRequests && Over(r.ServerErrors, r.Requests, o.MaxErrorRate) is { } errors)
        {
            return new GuardTrip(ErrorRate, errors, o.MaxErrorRate, r.Requests, Text(
                $"{r.ServerErrors} of {r.Requests} ingest requests answered 5xx ({errors:P1}, limit {o.MaxErrorRate:P1})"));
        }
        // Over only when the p99's whole bucket is (LatencyBuckets: exact when the limit is an edge, as
        // every round limit is; a limit between edges acts as the edge above it, never trips early).
        if (r.Requests >= o.MinRequests && (r.P99AboveMilliseconds ?? r.P99Milliseconds) >= o.MaxP99Milliseconds
            && r.P99Milliseconds > o.MaxP99Milliseconds)
        {
            return new GuardTrip(P99Latency, r.P99Milliseconds, o.MaxP99Milliseconds, r.Requests, Text(
                $"ingest p99 over {r.Requests} requests is about {r.P99Milliseconds:0} ms (limit {o.MaxP99Milliseconds} ms)"));
        }
        return null;
    }

    private static double? Over(long part, long whole, double limit) =>
        whole > 0 && (double)part / whole is var ratio && ratio > limit ? ratio : null;

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
