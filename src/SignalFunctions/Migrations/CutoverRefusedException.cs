namespace SignalFunctions.Migrations;

public sealed class CutoverRefusedException(string message) : Exception(message);
