#!/usr/bin/env bash
# ./run.sh            serve the functions on http://127.0.0.1:7071/api, with the timers running
# ./run.sh --urls U   serve on another address
# ./run.sh VERB …     run an ops verb (status, stage, db migrate, repair, …; --help lists them)
#
# Serving runs the app as Azure runs it: the isolated worker (src/SignalFunctions), started by a
# Functions host. Core Tools cannot be installed here, so the host is our development host
# (src/SignalFunctions.DevHost), which speaks the host's side of the worker's gRPC contract. App
# settings: local.settings.sample.json, then local.settings.json if you made one; the environment wins.
#
# Without ConnectionStrings__Signal, a project-local PostgreSQL cluster under .data/ is created
# on first use, started (or reused), and stopped on exit if this run started it.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/postgres.sh

PG_DIR="$PWD/.data/postgres"
PG_PORT="${SIGNAL_PG_PORT:-54329}"
started_here=""

cleanup() {
  if [ -n "$started_here" ]; then
    echo "Stopping the local PostgreSQL" >&2
    pg_stop "$PG_DIR"
  fi
}

if [ -z "${ConnectionStrings__Signal:-}" ]; then
  pg_ensure_binaries
  state="$(pg_start "$PG_DIR" "$PG_PORT")"
  # A verb is short-lived: leave a cluster it had to start running for the next one.
  if [ "$state" = started ] && { [ $# -eq 0 ] || [[ "$1" == -* && "$1" != --help && "$1" != -h ]]; }; then
    started_here=1
  fi
  trap cleanup EXIT
  pg_create_db "$PG_PORT" signal
  export ConnectionStrings__Signal="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=signal"
  # A page on localhost (any port) may send events to the local app.
  export Ingest__AllowedOrigins__0="${Ingest__AllowedOrigins__0:-http://localhost:*}"
  export Ingest__AllowedOrigins__1="${Ingest__AllowedOrigins__1:-http://127.0.0.1:*}"
fi

for project in src/SignalFunctions src/SignalFunctions.DevHost; do
  if ! build_log="$(dotnet build "$project" -c Release -nologo -v quiet 2>&1)"; then
    echo "$build_log" >&2
    exit 1
  fi
done
worker_dir=src/SignalFunctions/bin/Release/net10.0

if [ $# -gt 0 ] && [[ "$1" != -* || "$1" == --help || "$1" == -h ]]; then
  dotnet "$worker_dir/SignalFunctions.dll" "$@"
  exit $?
fi

settings=(--settings local.settings.sample.json)
[ -f local.settings.json ] && settings+=(--settings local.settings.json)

# Serve until Ctrl-C. A background job of a script ignores SIGINT, so the host is told with
# SIGTERM: it stops taking requests, the worker drains what it accepted, both exit; then the cluster stops.
dotnet src/SignalFunctions.DevHost/bin/Release/net10.0/SignalFunctions.DevHost.dll \
  --script-root "$worker_dir" "${settings[@]}" "$@" &
host_pid=$!
trap 'kill -TERM $host_pid 2>/dev/null || true' INT TERM
wait $host_pid || true
wait $host_pid 2>/dev/null || true
