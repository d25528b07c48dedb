#!/usr/bin/env bash
# bench/brands.sh [--positions N] [--sample N] [--brands N]
#
# The brand-metrics benchmark: builds the app and the bench in Release, starts its own
# PostgreSQL cluster (fsync and synchronous_commit on) in a temporary directory on its own port, then
# bench/SignalFunctions.BrandsBench fills 1,000,000 extracted_positions rows (about 250,000 collector
# results) with demo-data and measures, in the same run: the engine's backfill (rows/s) vs the plan's
# per-row method on a sample, projected to the table; parity; the dashboard query over
# extracted_positions vs over mv_brand_daily_metrics (same answer checked); table and index sizes
# before and after; and the limit, the same fan-out as one statement over the table. Prints one
# table; exits 0 when the answers agree, parity is clean and the engine is at least 50× the plan's
# method. Everything it starts is stopped when it ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source bench/common.sh

PG_PORT="$(bench_port SIGNAL_BRANDS_BENCH_PG_PORT 55700 55779)"
bench_workdir brands-bench
bench_build src/SignalFunctions bench/SignalFunctions.BrandsBench
bench_start_postgres

timeout --signal=TERM --kill-after=30 40m \
  dotnet bench/SignalFunctions.BrandsBench/bin/Release/net10.0/SignalFunctions.BrandsBench.dll \
  --pg "Host=127.0.0.1;Port=$PG_PORT;Username=postgres" \
  --app src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll \
  "$@"
