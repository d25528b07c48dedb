namespace SignalFunctions.Migrations;

/// <summary>
/// How a rollback tells a row deleted while cut over from one only the old side ever had (one
/// mechanism for every migration). From the cut-over until its rollback or cleanup, each of a
/// migration's <see cref="DataMigration.DeletesRecordedOn"/> tables records in cutover_deletes
/// (schema 0014, 0015) the keys deleted from it, or moved off by an UPDATE of the key, and refuses
/// TRUNCATE, which fires no delete trigger. <see cref="Cutover"/> installs the triggers in the
/// cut-over's transaction and removes them and the keys in the rollback's; <see cref="Archive"/>
/// removes them with the rollback they served. A declaration's <see cref="DataMigration.RollbackSql"/>
/// deletes an old row the new side lacks only where <see cref="WasDeleted"/> says so; any other row
/// only the old side has stays, for parity and repair.
/// </summary>
public static class CutoverDeletes
{
    private static readonly string[] Suffixes = ["_cutover_deletes", "_cutover_rekeys", "_cutover_truncate"];

    /// <summary>The triggers recording <paramref name="m"/>'s deletes and refusing TRUNCATE; null when it records none.</summary>
    public static string? InstallSql(DataMigration m) => m.DeletesRecordedOn.Count == 0 ? null : string.Join(";\n", m.DeletesRecordedOn.Select(t => $"""
        CREATE TRIGGER {t.Table}{Suffixes[0]} AFTER DELETE ON {t.Table} REFERENCING OLD TABLE AS gone
          FOR EACH STATEMENT EXECUTE FUNCTION record_cutover_deletes('{m.Name}', '{t.KeyColumn}');
        CREATE TRIGGER {t.Table}{Suffixes[1]} AFTER UPDATE OF {t.KeyColumn} ON {t.Table}
          FOR EACH ROW WHEN (OLD.{t.KeyColumn} IS DISTINCT FROM NEW.{t.KeyColumn}) EXECUTE FUNCTION record_cutover_rekey('{m.Name}', '{t.KeyColumn}');
        CREATE TRIGGER {t.Table}{Suffixes[2]} BEFORE TRUNCATE ON {t.Table}
          FOR EACH STATEMENT EXECUTE FUNCTION refuse_cutover_truncate('{m.Name}')
        """));

    /// <summary>Removes the triggers and forgets the keys; harmless where there are none.</summary>
    public static string RemoveSql(DataMigration m) => string.Join(";\n", m.DeletesRecordedOn
        .SelectMany(t => Suffixes.Select(suffix => $"DROP TRIGGER IF EXISTS {t.Table}{suffix} ON {t.Table}"))
        .Append($"DELETE FROM cutover_deletes WHERE migration = '{m.Name}'"));

    /// <summary>
    /// A condition for rollback SQL: the key <paramref name="key"/> (an expression) was deleted from
    /// <paramref name="table"/> while <paramref name="migration"/> was cut over. It may have been
    /// written again since (a rebuild deletes and inserts): check the table too.
    /// </summary>
    public static string WasDeleted(string migration, string table, string key) => $"""
        EXISTS (SELECT 1 FROM cutover_deletes d WHERE d.migration = '{migration}' AND d.table_name = '{table}' AND d.key = ({key})::text)
        """;
}
