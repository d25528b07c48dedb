namespace SignalFunctions.Ingest;

/// <summary>The write could not be attempted or did not commit because the database is unreachable.</summary>
public sealed class DatabaseUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
