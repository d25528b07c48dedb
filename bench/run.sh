#!/usr/bin/env bash
# bench/run.sh [--seconds N] [--windows N] [--warmup N] [--only a,b,c,d] [--app-env KEY=VALUE] [--app DLL] …
# bench/run.sh --occurred-at omit                      events without occurred_at: the first-seen path
# bench/run.sh --only e --depth 1000000,50000000 [--plain-depth 50000000]   insert speed as signal_events grows
#
# The ingest benchmark, in about three minutes: builds the app, the dev host and the
# bench in Release, starts its own PostgreSQL cluster (fsync and synchronous_commit on) in a
# temporary directory on its own port, then bench/SignalFunctions.Bench drives everything over
# loopback with wrk and prints one table: (a) single events, (b) 100-event batches, each in stage
# off and dual_write, (c) binary COPY of the same rows, (d) a bare endpoint that discards the same
# bodies; the app's resident memory, who used the CPU, the WAL per event, the row checks and the targets.
# (e), only when asked for: past months of signal_events filled directly with generated rows, then
# batches and single events at stage complete, per depth; the partition operations timed; optionally
# the same rows in a plain table. It sets max_wal_size and maintenance_work_mem on its own cluster,
# and needs about 20 GB of disk per 50,000,000 rows (all of it removed at the end).
# The app is served as ./run.sh serves it: the dev host (src/SignalFunctions.DevHost) starts the
# worker from its build output with local.settings.sample.json (the bench's settings in the
# environment win) and forwards every request to it; the worker's and the host's CPU and memory
# are reported apart.
# Options go to the bench (BenchSettings.cs lists them; a wrong one prints them). Installs wrk with apt
# when it is missing. Everything it starts is stopped when it ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

PG_PORT="${SIGNAL_BENCH_PG_PORT:-55479}"
work="$(mktemp -d /tmp/signal-bench.XXXXXX)"
chmod 755 "$work"

cleanup() {
  # The bench stops the dev host itself; this is for a bench that was killed. The host stops the worker.
  if [ -f "$work/devhost.pid" ]; then kill -TERM "$(cat "$work/devhost.pid")" 2>/dev/null || true; fi
  pg_stop "$work/postgres"
  rm -rf "$work"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: wrk is missing; install it (apt-get install wrk) or run as root" >&2
    exit 1
  fi
  echo "Installing wrk from Debian packages" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
pg_ensure_binaries

echo "Building the app, the dev host and the bench (Release)…" >&2
for project in src/SignalFunctions src/SignalFunctions.DevHost bench/SignalFunctions.Bench; do
  if ! build_log="$(dotnet build "$project" -c Release -nologo -v quiet 2>&1)"; then
    echo "$build_log" >&2
    exit 1
  fi
done

echo "Starting PostgreSQL on 127.0.0.1:$PG_PORT in $work/postgres…" >&2
pg_start "$work/postgres" "$PG_PORT" >/dev/null

dotnet bench/SignalFunctions.Bench/bin/Release/net10.0/SignalFunctions.Bench.dll run \
  --pg "Host=127.0.0.1;Port=$PG_PORT;Username=postgres" \
  --app src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll \
  --devhost src/SignalFunctions.DevHost/bin/Release/net10.0/SignalFunctions.DevHost.dll \
  --settings local.settings.sample.json \
  --wrk-script bench/ingest.lua \
  --work "$work" \
  --results "${SIGNAL_BENCH_RESULTS:-/tmp/signal-bench-results.md}" \
  "$@"
