namespace SignalFunctions.Migrations.Declarations;

/// <summary>
/// The seed's renames of the blog tables other systems write (signal-platform-rename-plan.md): the
/// same rows with the same ids, the article columns renamed, content_type 'article' added. One
/// builder, so the three declarations differ only in their columns, keys and rules.
///
/// Both tables have a natural key of their own (UNIQUE) beside the id. A copy that would collide
/// with another row holding that natural key replaces it: only the side being copied from is
/// right, and the collision would otherwise fail the copy (and, in the trigger, the outside
/// writer). Only rows with a legacy home (content_type 'article') are ever replaced.
/// </summary>
internal static class ContentTableMigration
{
    public sealed record Column(string Legacy, string Target);

    private const string HasLegacyHome = "t.content_type = 'article'";

    /// <param name="columns">Every legacy column, id first, with its name in the new table.</param>
    /// <param name="legacyUnique">The legacy table's UNIQUE columns.</param>
    /// <param name="targetUnique">The new table's UNIQUE columns.</param>
    public static DataMigration Declare(
        string name, string source, string target, IReadOnlyList<Column> columns,
        IReadOnlyList<string> legacyUnique, IReadOnlyList<string> targetUnique, IReadOnlyList<ValidationRule> rules)
    {
        var targetOf = columns.ToDictionary(c => c.Legacy, c => c.Target);
        var legacyOf = columns.ToDictionary(c => c.Target, c => c.Legacy);
        var targetColumns = "content_type, " + string.Join(", ", columns.Select(c => c.Target));
        var legacyColumns = string.Join(", ", columns.Select(c => c.Legacy));
        var asTarget = "'article', " + string.Join(", ", columns.Select(c => $"s.{c.Legacy}"));
        var targetRow = "t.content_type, " + string.Join(", ", columns.Select(c => $"t.{c.Target}"));
        var asSource = string.Join(", ", columns.Select(c => c.Legacy == c.Target ? $"t.{c.Target}" : $"t.{c.Target} AS {c.Legacy}"));
        var updateTarget = "ON CONFLICT (id) DO UPDATE SET " + string.Join(", ",
            columns.Where(c => c.Target != "id").Select(c => c.Target).Prepend("content_type").Select(c => $"{c} = EXCLUDED.{c}"));
        var updateSource = "ON CONFLICT (id) DO UPDATE SET " + string.Join(", ",
            columns.Where(c => c.Legacy != "id").Select(c => $"{c.Legacy} = EXCLUDED.{c.Legacy}"));
        // content_type is in HasLegacyHome already; a NULL never collides, and = never matches it.
        var targetClash = string.Join(" AND ", targetUnique.Where(c => c != "content_type")
            .Select(c => $"t.{c} = s.{legacyOf[c]}").Prepend("t.id <> s.id").Prepend(HasLegacyHome));
        var sourceClash = string.Join(" AND ", legacyUnique.Select(c => $"s.{c} = t.{targetOf[c]}").Prepend("s.id <> t.id"));
        var sourceImage = $"ROW({asTarget})::text";
        var targetImage = $"ROW({targetRow})::text";

        // Target rows for the keys made equal to the source rows, gone where the source has none.
        string TargetFromSource(string keys) => $"""
            DELETE FROM {target} t WHERE t.id = ANY({keys}) AND {HasLegacyHome}
               AND NOT EXISTS (SELECT 1 FROM {source} s WHERE s.id = t.id);
            DELETE FROM {target} t USING {source} s WHERE s.id = ANY({keys}) AND {targetClash};
            INSERT INTO {target} ({targetColumns})
            SELECT {asTarget} FROM {source} s WHERE s.id = ANY({keys})
            {updateTarget}
            """;

        var capture = CaptureTrigger.Build(name, $"{source}_capture",
            [new CapturedTable(source, rows => $"SELECT r.id::text FROM {rows} r", OnTruncate: $"DELETE FROM {target} t WHERE {HasLegacyHome}")],
            TargetFromSource("keys::uuid[]"));

        return new DataMigration
        {
            Name = name,
            Source = source,
            Target = target,
            Key = "id",
            KeyType = "uuid",
            CopyBatchSql = $"""
                INSERT INTO {target} ({targetColumns})
                SELECT {asTarget} FROM batch s
                ON CONFLICT DO NOTHING
                RETURNING 1
                """,
            TargetFilter = HasLegacyHome,
            SourceImage = sourceImage,
            TargetImage = targetImage,
            UpsertTargetSql = TargetFromSource("@keys::uuid[]"),
            UpsertSourceSql = $"""
                DELETE FROM {source} s USING {target} t WHERE t.id = ANY(@keys::uuid[]) AND {HasLegacyHome} AND {sourceClash};
                INSERT INTO {source} ({legacyColumns})
                SELECT {asSource} FROM {target} t WHERE t.id = ANY(@keys::uuid[]) AND {HasLegacyHome}
                {updateSource}
                """,
            DeleteTargetSql = $"DELETE FROM {target} t WHERE t.id = ANY(@keys::uuid[]) AND {HasLegacyHome}",
            DeleteSourceSql = $"DELETE FROM {source} WHERE id = ANY(@keys::uuid[])",
            Rules = rules,
            InstallCaptureSql = capture.Install,
            RemoveCaptureSql = capture.Remove,
            CutoverSql = $"""
                ALTER TABLE {source} RENAME TO {source}_backup;
                CREATE VIEW {source} AS SELECT {asSource} FROM {target} t WHERE {HasLegacyHome}
                """,
            // Rows the view shows otherwise, or that were deleted from the target while cut over,
            // leave the backup first, so no natural key is held twice when the target's version comes
            // back; so does a row holding the natural key of another id the view shows (the side
            // copied from wins, as in every copy here). Rows only the backup has stay, for parity and
            // repair; the rest equals the view row for row.
            RollbackSql = $"""
                DELETE FROM {source}_backup s
                 WHERE EXISTS (SELECT 1 FROM {target} t WHERE t.id = s.id AND {HasLegacyHome} AND {targetImage} <> {sourceImage})
                    OR ({CutoverDeletes.WasDeleted(name, target, "s.id")} AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = s.id AND {HasLegacyHome}));
                DELETE FROM {source}_backup s USING {target} t WHERE {HasLegacyHome} AND {sourceClash};
                INSERT INTO {source}_backup ({legacyColumns})
                SELECT {asSource} FROM {target} t
                 WHERE {HasLegacyHome} AND NOT EXISTS (SELECT 1 FROM {source}_backup s WHERE s.id = t.id);
                DROP VIEW {source};
                ALTER TABLE {source}_backup RENAME TO {source}
                """,
        };
    }
}
