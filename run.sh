#!/usr/bin/env bash
# ./run.sh            serve the functions on http://127.0.0.1:7071/api, with the timers running
# ./run.sh --urls U   serve on another address
# ./run.sh VERB …     run an ops verb (status, stage, db migrate, repair, …; --help lists them)
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

if ! build_log="$(dotnet build src/SignalFunctions -c Release -nologo -v quiet 2>&1)"; then
  echo "$build_log" >&2
  exit 1
fi
app=(dotnet src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll)

if [ $# -gt 0 ] && [[ "$1" != -* || "$1" == --help || "$1" == -h ]]; then
  "${app[@]}" "$@"
  exit $?
fi

# Serve until Ctrl-C. A background job of a script ignores SIGINT, so the app is told with
# SIGTERM, drains what it accepted, and exits; then the cluster stops.
"${app[@]}" "$@" &
app_pid=$!
trap 'kill -TERM $app_pid 2>/dev/null || true' INT TERM
wait $app_pid || true
wait $app_pid 2>/dev/null || true
