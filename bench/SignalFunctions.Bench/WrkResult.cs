using System.Globalization;

namespace SignalFunctions.Bench;

/// <summary>What bench/ingest.lua writes when wrk ends.</summary>
public sealed record WrkResult(
    long Sent, long Answered, long EventsSent, long Accepted, long Duplicates, double ElapsedS,
    Dictionary<string, long> Statuses, long P50Us, long P90Us, long P99Us, long MaxUs, long SocketErrors, double CpuS)
{
    public long Status(int code) => Statuses.GetValueOrDefault(code.ToString(CultureInfo.InvariantCulture));

    /// <summary>Answered with something other than 202.</summary>
    public long NotAccepted => Answered - Status(202);
}
