namespace SignalFunctions.Migrations.Declarations;

/// <summary>
/// The capture trigger of a table outside systems write (<see cref="DataMigration.InstallCaptureSql"/>):
/// statement-level, from the transition tables' keys, so each outside statement costs one set-based
/// copy, not a copy per row. A failed copy is queued for repair under a savepoint, like a failed
/// secondary write (ARCHITECTURE.md): the outside writer's statement stands.
/// </summary>
internal static class StatementCapture
{
    /// <param name="name">The migration.</param>
    /// <param name="source">The table outside systems write.</param>
    /// <param name="key">The key column of <paramref name="source"/>, as the migration's keys.</param>
    /// <param name="syncKeys">SQL making the target equal to the source for the keys in the text[] given.</param>
    /// <param name="truncate">SQL emptying what the target holds of the source.</param>
    public static (string Install, string Remove) Declare(string name, string source, string key, Func<string, string> syncKeys, string truncate)
    {
        var function = $"{source}_capture";
        var body = $$"""
            DECLARE
              keys text[] := '{}';
            BEGIN
              IF TG_OP = 'TRUNCATE' THEN
                {{truncate}};
                RETURN NULL;
              END IF;
              IF TG_OP IN ('UPDATE', 'DELETE') THEN
                keys := keys || ARRAY(SELECT o.{{key}}::text FROM old_rows o);
              END IF;
              IF TG_OP IN ('INSERT', 'UPDATE') THEN
                keys := keys || ARRAY(SELECT n.{{key}}::text FROM new_rows n);
              END IF;
              BEGIN
                {{syncKeys("keys")}};
              EXCEPTION WHEN OTHERS THEN
                INSERT INTO repair_entries (migration, target_side, entity_key, operation, payload, error)
                SELECT DISTINCT '{{name}}', 'new', k, '{{RepairJob.SyncKeyOperation}}', '{}'::jsonb, SQLSTATE || ': ' || SQLERRM
                  FROM unnest(keys) AS k;
              END;
              RETURN NULL;
            END
            """;
        string[] triggers = [$"{source}_capture_insert", $"{source}_capture_update", $"{source}_capture_delete", $"{source}_capture_truncate"];
        string[] definitions =
        [
            $"AFTER INSERT ON {source} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            $"AFTER UPDATE ON {source} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            $"AFTER DELETE ON {source} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            $"AFTER TRUNCATE ON {source} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ];
        var createMissing = string.Join("\n", triggers.Zip(definitions).Select(p => $"""
              IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{source}'::regclass AND tgname = '{p.First}') THEN
                CREATE TRIGGER {p.First} {p.Second};
              END IF;
            """));
        // Replaces the function only when its text changed and creates only missing triggers:
        // this runs on every backfill tick, and CREATE TRIGGER locks out the outside writers.
        var install = $"""
            DO $install$
            DECLARE
              body CONSTANT text := $body${body}$body$;
            BEGIN
              PERFORM pg_advisory_xact_lock(hashtext('capture'), hashtext('{name}'));
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
              PERFORM pg_advisory_xact_lock(hashtext('capture'), hashtext('{name}'));
              FOR trigger_name IN SELECT tgname FROM pg_trigger
                                   WHERE tgrelid = to_regclass('{source}') AND tgname = ANY(ARRAY['{string.Join("', '", triggers)}'])
              LOOP
                EXECUTE format('DROP TRIGGER %I ON {source}', trigger_name);
              END LOOP;
              IF to_regprocedure('{function}()') IS NOT NULL THEN
                DROP FUNCTION {function}();
              END IF;
            END
            $remove$
            """;
        return (install, remove);
    }
}
