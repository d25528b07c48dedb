namespace SignalFunctions.Migrations;

/// <summary>Parity was asked to compare one partition it cannot: the migration has no time to cut by, or no such partition exists.</summary>
public sealed class ParityScopeException(string message) : Exception(message);
