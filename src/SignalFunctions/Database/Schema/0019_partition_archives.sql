-- Each partition retention takes off signal_events (Partitions/PartitionRetention.cs), step by step:
-- detaching (recorded before DETACH … CONCURRENTLY starts), detached (a standalone table, its rows
-- no longer read through the parent), archived (written to a verified compressed file), dropped.
-- A run that dies part way leaves its row at the step reached, and the next run resumes from there.
CREATE TABLE partition_archives (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  parent      text NOT NULL,
  partition   text NOT NULL,
  range_from  timestamptz,                 -- NULL: MINVALUE (the history partition)
  range_to    timestamptz NOT NULL,
  state       text NOT NULL CHECK (state IN ('detaching', 'detached', 'archived', 'dropped')),
  rows        bigint,                      -- exact for an archive; PostgreSQL's estimate for a drop
  table_bytes bigint,
  file        text,                        -- the archive's path, set before the export starts
  file_bytes  bigint,
  sha256      text,                        -- of the compressed file
  actor       text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

-- A name comes back when a retired month is restored, so only one unfinished row per table.
CREATE UNIQUE INDEX partition_archives_unfinished ON partition_archives (parent, partition) WHERE state <> 'dropped';
