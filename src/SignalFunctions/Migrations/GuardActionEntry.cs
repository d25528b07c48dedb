namespace SignalFunctions.Migrations;

/// <summary>A step back the guard took: which limit, measured against what, on how large a sample.</summary>
public sealed record GuardActionEntry(string FromStage, string ToStage, string Rule, string Reason, double Measured, double Threshold, long Sample, DateTime ActedAt);
