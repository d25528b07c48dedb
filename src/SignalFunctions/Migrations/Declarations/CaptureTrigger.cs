namespace SignalFunctions.Migrations.Declarations;

/// <summary>
/// Builds <see cref="DataMigration.InstallCaptureSql"/> and <see cref="DataMigration.RemoveCaptureSql"/>
/// for tables outside writers fill: statement-level triggers that collect the keys an outside
/// statement touched (from its transition tables) and make the new side equal for them, in the
/// writer's transaction: one set-based copy per statement, not per row. A failed copy is queued for
/// repair under a savepoint, like a failed secondary write (ARCHITECTURE.md): the writer's statement stands.
/// </summary>
public static class CaptureTrigger
{
    /// <param name="migration">The migration's name (repair entries, the install lock).</param>
    /// <param name="function">The trigger function's name.</param>
    /// <param name="sync">plpgsql statements making the new side equal to the old for the text[] <c>keys</c>.</param>
    public static (string Install, string Remove) Build(string migration, string function, IReadOnlyList<CapturedTable> tables, string sync)
    {
        var truncates = string.Join("\n", tables.Where(t => t.OnTruncate is not null).Select(t => $"""
              IF TG_OP = 'TRUNCATE' AND TG_TABLE_NAME = '{t.Table}' THEN
                {t.OnTruncate};
              END IF;
            """));
        var keysOf = string.Join("\n", tables.Select(t => $"""
              IF TG_TABLE_NAME = '{t.Table}' THEN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                  keys := keys || ARRAY({t.KeysOf("old_rows")});
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                  keys := keys || ARRAY({t.KeysOf("new_rows")});
                END IF;
              END IF;
            """));
        // Statement triggers fire for statements that touched no row too; a sync that writes the
        // legacy side (a derived column) would otherwise fire itself forever.
        var body = $$"""
            DECLARE
              keys text[] := '{}';
            BEGIN
              IF TG_OP = 'TRUNCATE' THEN
            {{truncates}}
                RETURN NULL;
              END IF;
            {{keysOf}}
              keys := ARRAY(SELECT DISTINCT k FROM unnest(keys) AS k WHERE k IS NOT NULL);
              IF cardinality(keys) = 0 THEN
                RETURN NULL;
              END IF;
              BEGIN
                {{sync}};
              EXCEPTION WHEN OTHERS THEN
                INSERT INTO repair_entries (migration, target_side, entity_key, operation, payload, error)
                SELECT '{{migration}}', 'new', k, '{{RepairJob.SyncKeyOperation}}', '{}'::jsonb, SQLSTATE || ': ' || SQLERRM
                  FROM unnest(keys) AS k;
              END;
              RETURN NULL;
            END
            """;
        var triggers = tables.SelectMany(t => new[]
        {
            (t.Table, $"{t.Table}_capture_insert", $"AFTER INSERT ON {t.Table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()"),
            (t.Table, $"{t.Table}_capture_update", $"AFTER UPDATE ON {t.Table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()"),
            (t.Table, $"{t.Table}_capture_delete", $"AFTER DELETE ON {t.Table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()"),
            (t.Table, $"{t.Table}_capture_truncate", $"AFTER TRUNCATE ON {t.Table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"),
        }).ToList();
        var createMissing = string.Join("\n", triggers.Select(t => $"""
              IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{t.Item1}'::regclass AND tgname = '{t.Item2}') THEN
                CREATE TRIGGER {t.Item2} {t.Item3};
              END IF;
            """));
        var dropPresent = string.Join("\n", tables.Select(t => $"""
              FOR trigger_name IN SELECT tgname FROM pg_trigger
                                   WHERE tgrelid = to_regclass('{t.Table}')
                                     AND tgname = ANY(ARRAY['{string.Join("', '", triggers.Where(x => x.Item1 == t.Table).Select(x => x.Item2))}'])
              LOOP
                EXECUTE format('DROP TRIGGER %I ON {t.Table}', trigger_name);
              END LOOP;
            """));

        // Replaces the function only when its text changed and creates only missing triggers:
        // this runs on every backfill tick, and CREATE TRIGGER locks out the outside writers.
        var install = $"""
            DO $install$
            DECLARE
              body CONSTANT text := $body${body}$body$;
            BEGIN
              PERFORM pg_advisory_xact_lock(hashtext('capture'), hashtext('{migration}'));
              IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE oid = to_regprocedure('{function}()') AND prosrc = body) THEN
                EXECUTE format('CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS %L', body);
              END IF;
            {createMissing}
            END
            $install$
            """;
        // DROP TRIGGER takes the table's strongest lock even when there is nothing to drop.
        var remove = $"""
            DO $remove$
            DECLARE
              trigger_name name;
            BEGIN
              PERFORM pg_advisory_xact_lock(hashtext('capture'), hashtext('{migration}'));
            {dropPresent}
              IF to_regprocedure('{function}()') IS NOT NULL THEN
                DROP FUNCTION {function}();
              END IF;
            END
            $remove$
            """;
        return (install, remove);
    }
}
