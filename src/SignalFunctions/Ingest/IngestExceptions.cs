namespace SignalFunctions.Ingest;

/// <summary>The write could not be attempted or did not commit because the database is unreachable.</summary>
public sealed class DatabaseUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No stage flags have been loaded yet: writing would mean guessing a stage.</summary>
public sealed class FlagsUnavailableException(string message) : Exception(message);
