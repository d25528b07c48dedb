namespace SignalFunctions.Migrations.Declarations;

/// <summary>One legacy table an outside system writes, and how its changed rows name the migration's keys.</summary>
/// <param name="KeysOf">A SELECT of the keys (as text) touched by the rows of a transition table, given its name.</param>
/// <param name="OnTruncate">What a TRUNCATE of the table does to the new side; null to leave it.</param>
public sealed record CapturedTable(string Table, Func<string, string> KeysOf, string? OnTruncate = null);
