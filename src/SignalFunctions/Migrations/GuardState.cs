namespace SignalFunctions.Migrations;

/// <summary>The guard as it stands for one migration.</summary>
/// <param name="Watching">Whether its next pass judges this migration: it is on, and the stage is dual_write or later.</param>
/// <param name="LastAction">Its latest step back of this migration, if it ever took one.</param>
public sealed record GuardState(bool Enabled, bool Watching, GuardActionEntry? LastAction);
