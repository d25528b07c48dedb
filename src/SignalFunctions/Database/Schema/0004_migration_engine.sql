-- The migration engine's own state: backfill checkpoints, parity reports, stage history.

-- Name-based journeys for legacy rows (uuid_generate_v5), the same values the app derives in C#.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- One row per migration; last_key is the keyset checkpoint, written in the batch's transaction.
CREATE TABLE backfill_progress (
  migration      text PRIMARY KEY,
  last_key       text,
  rows_scanned   bigint NOT NULL DEFAULT 0,
  rows_copied    bigint NOT NULL DEFAULT 0,
  rows_total     bigint,
  batch_size     integer NOT NULL DEFAULT 1000,
  batches        bigint NOT NULL DEFAULT 0,
  started_at     timestamptz,
  last_batch_at  timestamptz,
  completed_at   timestamptz,
  -- Rows per second over the last run, for the ETA.
  rate           double precision
);

CREATE TABLE parity_reports (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  migration       text NOT NULL,
  started_at      timestamptz NOT NULL,
  finished_at     timestamptz NOT NULL,
  ranges_checked  integer NOT NULL,
  rows_compared   bigint NOT NULL,
  missing_count   bigint NOT NULL,
  extra_count     bigint NOT NULL,
  different_count bigint NOT NULL,
  -- Capped lists; the counts are exact.
  missing_keys    text[] NOT NULL,
  extra_keys      text[] NOT NULL,
  different_keys  text[] NOT NULL,
  validation      jsonb NOT NULL,
  clean           boolean NOT NULL,
  -- Set when the repair job has fixed the listed keys from the authoritative side.
  repaired_at     timestamptz
);
CREATE INDEX parity_reports_latest ON parity_reports (migration, id DESC);

-- Every stage change, by whom and why (a forced gate is recorded as such).
CREATE TABLE stage_history (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  migration  text NOT NULL,
  from_stage text NOT NULL,
  to_stage   text NOT NULL,
  percent    integer NOT NULL,
  actor      text NOT NULL,
  forced     boolean NOT NULL DEFAULT false,
  reason     text,
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stage_history_migration ON stage_history (migration, id DESC);

-- Cut-over (old name becomes a view over the new table) state, so it runs once and undoes exactly.
CREATE TABLE cutovers (
  migration   text PRIMARY KEY,
  cut_over_at timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL
);

INSERT INTO stage_flags (migration, stage) VALUES
  ('signal-metrics', 'off'), ('signal-embeds', 'off'), ('signal-saves', 'off')
ON CONFLICT DO NOTHING;

-- The view refresh reads "what changed since last time" from here.
CREATE INDEX signal_events_recorded ON signal_events (recorded_at);
