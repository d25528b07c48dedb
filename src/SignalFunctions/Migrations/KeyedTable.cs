namespace SignalFunctions.Migrations;

/// <summary>A table of the new side, and its column holding the migration's key.</summary>
public sealed record KeyedTable(string Table, string KeyColumn);
