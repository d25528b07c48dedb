#!/usr/bin/env bash
# bench/flags.sh [--rounds N] [--refresh S]   |   bench/flags.sh --eval
#
# How fast a stage change reaches a running fleet. For each flag source, two app
# processes on one database: the embedded store (PostgreSQL, LISTEN/NOTIFY), App Configuration
# polled every S seconds (default 5, the default Flags__RefreshSeconds), and App Configuration with
# the Event Grid push delivered to one instance (poll interval 300 s, so only the push counts).
# App Configuration is the in-process contract server the tests use, on loopback. Each of N rounds
# (default 10) flips signal-events off <-> complete and times, on each instance, the first ingest
# write that lands only in the table the new stage writes. Prints median and max per instance
# beside the targets: embedded <= 1 s, polling <= S + 1 s, push <= 1 s.
# Each app process is served as ./run.sh serves it: the dev host (src/SignalFunctions.DevHost) with
# local.settings.sample.json starts the worker and forwards HTTP to it; stopped with SIGTERM.
# Builds in Release and starts its own PostgreSQL in a temporary directory; stops all it starts.
# bench/flags.sh --eval instead prints the ns per stage evaluation on ingest's hot path
# (FeatureManagement's variant vs the bare bucket), in-process, in a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source bench/common.sh

for arg in "$@"; do
  case "$arg" in -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
done

if [ "${1:-}" = "--eval" ]; then
  # No database, no app process: the cost of routing one journey, in-process.
  if ! build_log="$(dotnet build bench/SignalFunctions.FlagsBench -c Release -nologo -v quiet 2>&1)"; then
    echo "$build_log" >&2
    exit 1
  fi
  exec dotnet bench/SignalFunctions.FlagsBench/bin/Release/net10.0/SignalFunctions.FlagsBench.dll --eval
fi

PG_PORT="$(bench_port SIGNAL_FLAGS_BENCH_PG_PORT 55720 55799)"
bench_workdir flags-bench
bench_build src/SignalFunctions src/SignalFunctions.DevHost bench/SignalFunctions.FlagsBench
bench_start_postgres

dotnet bench/SignalFunctions.FlagsBench/bin/Release/net10.0/SignalFunctions.FlagsBench.dll \
  --pg "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres" \
  --app src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll \
  --devhost src/SignalFunctions.DevHost/bin/Release/net10.0/SignalFunctions.DevHost.dll \
  --settings local.settings.sample.json \
  "$@"
