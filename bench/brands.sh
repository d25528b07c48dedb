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

PG_PORT="${SIGNAL_BRANDS_BENCH_PG_PORT:-}"
if [ -z "$PG_PORT" ]; then
  for candidate in $(seq 55700 55779); do
    if ! (echo >"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then PG_PORT="$candidate"; break; fi
  done
fi
work="$(mktemp -d /tmp/signal-brands-bench.XXXXXX)"
chmod 755 "$work"

cleanup() {
  pg_stop "$work/postgres"
  rm -rf "$work"
}
trap cleanup EXIT

pg_ensure_binaries
echo "Building the app and the bench (Release)…" >&2
for project in src/SignalFunctions bench/SignalFunctions.BrandsBench; do
  if ! build_log="$(dotnet build "$project" -c Release -nologo -v quiet 2>&1)"; then
    echo "$build_log" >&2
    exit 1
  fi
done

echo "Starting PostgreSQL on 127.0.0.1:$PG_PORT in $work/postgres…" >&2
pg_start "$work/postgres" "$PG_PORT" >/dev/null

timeout --signal=TERM --kill-after=30 40m \
  dotnet bench/SignalFunctions.BrandsBench/bin/Release/net10.0/SignalFunctions.BrandsBench.dll \
  --pg "Host=127.0.0.1;Port=$PG_PORT;Username=postgres" \
  --app src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll \
  "$@"
