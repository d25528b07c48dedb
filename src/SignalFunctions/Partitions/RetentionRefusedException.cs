namespace SignalFunctions.Partitions;

/// <summary>Retention would not, or could not, retire what was asked; the message says why and what to do.</summary>
public sealed class RetentionRefusedException(string message) : Exception(message);
