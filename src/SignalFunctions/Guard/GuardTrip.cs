namespace SignalFunctions.Guard;

/// <summary>A limit the reading went past: the rule, the measured value against its threshold, and the sample behind it.</summary>
public sealed record GuardTrip(string Rule, double Measured, double Threshold, long Sample, string Reason);
