namespace SignalFunctions.Migrations;

/// <summary>
/// A whole-number setting a declaration's SQL reads as <c>@Name</c>, configured per migration as
/// Migrations:Arguments:{migration}:{Name} (e.g. Migrations__Arguments__intelligence-events__windowDays),
/// else <paramref name="Default"/>; outside [Min, Max] the app does not start.
/// </summary>
public sealed record MigrationArgument(string Name, int Default, int Min, int Max, string Description);
