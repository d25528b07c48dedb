-- Issue 4 §4: the last-known-good copy of the flags read from App Configuration. Every snapshot an
-- instance applies is saved here, so an instance that starts while App Configuration is
-- unreachable serves the stages the fleet last obeyed instead of guessing one.
-- One row per store and label: pointing the app at another store (or label) never starts it from
-- flags that belong to a different environment.
CREATE TABLE flag_snapshots (
  store        text        NOT NULL,
  label        text        NOT NULL,
  flags        jsonb       NOT NULL,
  settings     jsonb       NOT NULL,
  rejected     jsonb       NOT NULL,
  etag         text,
  loaded_at    timestamptz NOT NULL,
  saved_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (store, label)
);
