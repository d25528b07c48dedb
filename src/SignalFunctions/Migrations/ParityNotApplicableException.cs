namespace SignalFunctions.Migrations;

/// <summary>Parity was asked of a migration it cannot compare (cut over); nothing was compared or recorded.</summary>
public sealed class ParityNotApplicableException(string message) : Exception(message);
