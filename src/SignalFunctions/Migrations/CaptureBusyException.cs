namespace SignalFunctions.Migrations;

/// <summary>The capture's DDL gave up waiting for the legacy table's lock; nothing changed.</summary>
public sealed class CaptureBusyException(string message, Exception inner) : Exception(message, inner);
