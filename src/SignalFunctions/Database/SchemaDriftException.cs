namespace SignalFunctions.Database;

public sealed class SchemaDriftException(string message) : Exception(message);
