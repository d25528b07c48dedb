#!/usr/bin/env bash
# bench/clicks.sh [--clicks N] [--rounds N]
#
# The click table and CSV export benchmark, against the click-tracking plan's 50 ms per 100 rows
# (table) and 200 ms per 1,000 (CSV): builds the app, the dev host and the bench in Release, starts its own PostgreSQL cluster (fsync and synchronous_commit on) in a temporary
# directory on its own port, then bench/SignalFunctions.ClicksBench fills 100,000 clicks with timelines
# (demo-data, then the click-events backfill) and measures, against the app served as ./run.sh serves
# it: GET /api/clicks (the first page, filtered pages, a page deep by its cursor; median and p95 over
# --rounds, default 100, after a warm-up) and GET /api/clicks/export.csv (every click three times and a tenth of them,
# time to first and last byte, and the worker's resident memory before, at its peak and after).
# Prints one set of tables against the plan's figures (50 ms per 100 records for the admin table,
# 200 ms per 1,000 for the CSV) and the target of ten times better per record; exits 0 when every
# answer has its rows and every target is met. Everything it starts is stopped when it ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source bench/common.sh

PG_PORT="$(bench_port SIGNAL_CLICKS_BENCH_PG_PORT 55780 55859)"
bench_workdir clicks-bench
bench_build src/SignalFunctions src/SignalFunctions.DevHost bench/SignalFunctions.ClicksBench
bench_start_postgres

timeout --signal=TERM --kill-after=30 30m \
  dotnet bench/SignalFunctions.ClicksBench/bin/Release/net10.0/SignalFunctions.ClicksBench.dll \
  --pg "Host=127.0.0.1;Port=$PG_PORT;Username=postgres" \
  --app src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll \
  --devhost src/SignalFunctions.DevHost/bin/Release/net10.0/SignalFunctions.DevHost.dll \
  --settings local.settings.sample.json \
  --work "$work" \
  "$@"
