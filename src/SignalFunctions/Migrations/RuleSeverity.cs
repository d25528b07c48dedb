namespace SignalFunctions.Migrations;

public enum RuleSeverity
{
    Warning,
    Error,
}
