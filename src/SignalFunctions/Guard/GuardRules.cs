using System.Globalization;

namespace SignalFunctions.Guard;

/// <summary>What the guard measured for one migration since its last stage change.</summary>
public sealed record GuardReading(
    long Requests, long ServerErrors, double P99Milliseconds,
    long SecondaryWrites, long SecondaryFailures,
    long RepairBacklog,
    long? ParityReportId, long ParityRowsCompared, long ParityMissing)
{
    public string Describe()
    {
        var p99 = Requests > 0 ? FormattableString.Invariant($"<= {P99Milliseconds:0} ms") : "-";
        var parity = ParityReportId is { } id ? $"parity #{id}: {ParityMissing} of {ParityRowsCompared} rows missing" : "no parity report since";
        return $"{Requests} requests, {ServerErrors} 5xx, p99 {p99}; {SecondaryWrites} secondary writes, {SecondaryFailures} failed; " +
               $"{RepairBacklog} repair entries queued; {parity}";
    }
}

/// <summary>A limit the reading went past: the rule, the measured value against its threshold, and the sample behind it.</summary>
public sealed record GuardTrip(string Rule, double Measured, double Threshold, long Sample, string Reason);

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
            && Over(r.ParityMissing, r.ParityRowsCompared, o.MaxParityLossRatio) is { } loss)
        {
            return new GuardTrip(ParityLoss, loss, o.MaxParityLossRatio, r.ParityRowsCompared, Text(
                $"parity report #{report} found {r.ParityMissing} of {r.ParityRowsCompared} compared rows missing ({loss:P1}, limit {o.MaxParityLossRatio:P1})"));
        }
        if (r.SecondaryWrites >= o.MinRequests && Over(r.SecondaryFailures, r.SecondaryWrites, o.MaxSecondaryFailureRate) is { } failing)
        {
            return new GuardTrip(SecondaryFailureRate, failing, o.MaxSecondaryFailureRate, r.SecondaryWrites, Text(
                $"{r.SecondaryFailures} of {r.SecondaryWrites} secondary writes failed ({failing:P1}, limit {o.MaxSecondaryFailureRate:P1})"));
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
        if (r.Requests >= o.MinRequests && r.P99Milliseconds > o.MaxP99Milliseconds)
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
