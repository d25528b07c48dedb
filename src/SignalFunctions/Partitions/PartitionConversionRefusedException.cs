namespace SignalFunctions.Partitions;

/// <summary>`partitions convert` stopped at a step it cannot do now; the message says what to do.</summary>
public sealed class PartitionConversionRefusedException(string message) : Exception(message);
