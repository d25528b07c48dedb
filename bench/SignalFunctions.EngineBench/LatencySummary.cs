namespace SignalFunctions.EngineBench;

public sealed record LatencySummary(int Requests, int Errors, double Seconds, double P50, double P90, double P99, double P999, double Max)
{
    public double Rate => Requests / Math.Max(0.001, Seconds);
}
