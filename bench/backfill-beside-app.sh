#!/usr/bin/env bash
# bench/backfill-beside-app.sh [--rows N] [--rounds N] [--other DLL]
#
# The backfill's speed with the app served beside it and idle (timers off), as an operator runs it
# on a live system with no traffic yet: per round, a fresh database on the local cluster
# (./run.sh's, port 54329), `demo-data --rows N` legacy rows, stage dual_write, the dev host serving
# the app, then `backfill signal-events --until-done`, timed. With --other DLL (another build's
# SignalFunctions.dll, e.g. an older commit's), rounds alternate between it and this build, for an
# A/B in one run. Compare with `bench/engine.sh --rows N --only backfill` (the INSERT … SELECT limit).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

rows=300000 rounds=2 other=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --other) other="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

./run.sh db migrate >/dev/null   # builds both projects and starts the local cluster (left running)
port=54329
this=src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll
never="0 0 0 29 2 *"
host=""
trap '[ -n "$host" ] && kill -TERM "$host" 2>/dev/null || true' EXIT

run_round() {
  local label="$1" dll="$2"
  psql -h 127.0.0.1 -p "$port" -U postgres -qc "DROP DATABASE IF EXISTS signal_backfill_bench" -c "CREATE DATABASE signal_backfill_bench" 2>/dev/null
  export ConnectionStrings__Signal="Host=127.0.0.1;Port=$port;Username=postgres;Database=signal_backfill_bench"
  dotnet "$this" db migrate >/dev/null
  dotnet "$this" demo-data --rows "$rows" --positions 100 --campaigns 10 --decisions 10 >/dev/null
  dotnet "$this" stage signal-events dual_write >/dev/null
  BackfillSchedule="$never" ParitySchedule="$never" RepairSchedule="$never" RefreshViewsSchedule="$never" GuardSchedule="$never" \
    dotnet src/SignalFunctions.DevHost/bin/Release/net10.0/SignalFunctions.DevHost.dll --script-root "$(dirname "$this")" \
    --settings local.settings.sample.json --urls http://127.0.0.1:7301 >/dev/null 2>&1 &
  host=$!
  until curl -sf http://127.0.0.1:7301/api/health >/dev/null; do sleep 0.5; done
  sleep 3
  local start end line
  start=$(date +%s.%N)
  line=$(dotnet "$dll" backfill signal-events --until-done 2>&1 | tail -1)
  end=$(date +%s.%N)
  printf '%-6s %6.1f s wall  | %s\n' "$label" "$(echo "$end - $start" | bc)" "$line"
  kill -TERM "$host"; wait "$host" || true; host=""
}

echo "Backfill of $rows legacy rows beside the idle app, $rounds round(s) per build"
for _ in $(seq "$rounds"); do
  run_round this "$this"
  [ -z "$other" ] || run_round other "$other"
done
psql -h 127.0.0.1 -p "$port" -U postgres -qc "DROP DATABASE IF EXISTS signal_backfill_bench" 2>/dev/null
