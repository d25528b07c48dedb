namespace SignalFunctions.Migrations;

public sealed record RuleResult(string Name, string Severity, long Violations, string Description);
