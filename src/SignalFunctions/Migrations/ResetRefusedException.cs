namespace SignalFunctions.Migrations;

public sealed class ResetRefusedException(string message) : Exception(message);
