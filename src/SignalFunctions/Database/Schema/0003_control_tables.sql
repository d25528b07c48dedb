-- What the product itself keeps: the embedded stage flags and the repair queue.

CREATE TABLE stage_flags (
  migration  text PRIMARY KEY,
  stage      text NOT NULL CHECK (stage IN ('off', 'dual_write', 'shadow', 'live', 'rampdown', 'complete')),
  percent    integer NOT NULL DEFAULT 100 CHECK (percent BETWEEN 0 AND 100),
  version    bigint NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT current_user
);

-- Every change reaches every running instance through LISTEN stage_flags, whoever made it.
CREATE FUNCTION stage_flags_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('stage_flags', NEW.migration);
  RETURN NEW;
END $$;
CREATE TRIGGER stage_flags_changed AFTER INSERT OR UPDATE ON stage_flags
  FOR EACH ROW EXECUTE FUNCTION stage_flags_notify();

INSERT INTO stage_flags (migration, stage) VALUES ('signal-events', 'off'), ('click-events', 'off');

-- A secondary write that failed, kept in the same transaction as the authoritative write so
-- the repair job can replay it. payload is the row image (or operation) for the target side.
CREATE TABLE repair_entries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  migration       text NOT NULL,
  target_side     text NOT NULL CHECK (target_side IN ('legacy', 'new')),
  entity_key      text NOT NULL,
  operation       text NOT NULL,
  payload         jsonb NOT NULL,
  error           text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  resolved_at     timestamptz
);
CREATE INDEX repair_entries_pending ON repair_entries (migration, id) WHERE resolved_at IS NULL;
