namespace SignalFunctions.Migrations;

/// <summary>A SQL statement counting violations of one rule; errors block the stage gate, warnings are reported.</summary>
public sealed record ValidationRule(string Name, RuleSeverity Severity, string CountSql, string Description);
