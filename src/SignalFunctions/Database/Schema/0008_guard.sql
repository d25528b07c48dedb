-- Issue 4 §5: the guard, which steps a migration's stage back one step when it misbehaves.

-- Each instance's ingest measurements for one migration under one flag version (a new version is a
-- stage change, so a new window). Totals since the window began, overwritten by every flush: the
-- guard sums the rows of the current version, whichever instance it runs on (Guard/IngestMeter.cs).
CREATE TABLE guard_windows (
  migration          text   NOT NULL,
  flag_version       bigint NOT NULL,
  instance           text   NOT NULL,
  requests           bigint NOT NULL,
  server_errors      bigint NOT NULL,
  secondary_writes   bigint NOT NULL,
  secondary_failures bigint NOT NULL,
  -- Request counts per latency bucket (Guard/LatencyBuckets.cs).
  latency_buckets    bigint[] NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (migration, flag_version, instance)
);

-- Every step back the guard took, with the measure that tripped it. One per flag version: a second
-- instance, or a stale snapshot of the flag, cannot step the same stage back twice.
CREATE TABLE guard_actions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  migration    text   NOT NULL,
  flag_version bigint NOT NULL,
  from_stage   text   NOT NULL,
  to_stage     text   NOT NULL,
  rule         text   NOT NULL,
  reason       text   NOT NULL,
  measured     double precision NOT NULL,
  threshold    double precision NOT NULL,
  sample       bigint NOT NULL,
  acted_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (migration, flag_version)
);
CREATE INDEX guard_actions_migration ON guard_actions (migration, id DESC);
