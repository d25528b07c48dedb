namespace SignalFunctions.Migrations;

/// <summary>One data-modifying statement of a fan-out copy, run as the CTE <paramref name="Name"/>.</summary>
public sealed record CopyStep(string Name, string Sql);
