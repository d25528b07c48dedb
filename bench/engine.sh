#!/usr/bin/env bash
# bench/engine.sh [--rows N] [--sample N] [--rate N] [--warmup S] [--minutes M]
#
# The migration engine's benchmark, in about 15 minutes: builds the app and the
# bench in Release, starts its own PostgreSQL cluster (fsync and synchronous_commit on) in a
# temporary directory on its own port, then bench/SignalFunctions.EngineBench runs, on 1,000,000
# legacy blog_attribution_events rows: (1) the engine's backfill vs one INSERT … SELECT (the
# limit) vs the seed's OFFSET + row-by-row method; (2) parity vs one hash-aggregate scan of both
# tables, equal and with 10 injected differences; (3) ingest at 1,000 events/s, idle, while
# the engine backfills (yielding to it), and idle again with the tables full. Prints one set of tables (also left in $SIGNAL_ENGINE_BENCH_RESULTS,
# default /tmp/signal-engine-bench.md); exits 0 when every check holds and every target is met.
# Engine settings come from the environment, e.g. Migrations__TargetBatchMilliseconds=150.
# The verbs run as `SignalFunctions.dll VERB …`; the ingest section's server is served as ./run.sh
# serves it, by the dev host (src/SignalFunctions.DevHost) with local.settings.sample.json.
# Everything it starts is stopped when it ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source bench/common.sh

# Its own port: the first free one from 55620, unless SIGNAL_ENGINE_BENCH_PG_PORT says.
PG_PORT="$(bench_port SIGNAL_ENGINE_BENCH_PG_PORT 55620 55699)"
bench_workdir engine-bench
bench_build src/SignalFunctions src/SignalFunctions.DevHost bench/SignalFunctions.EngineBench
bench_start_postgres

# The bench stops itself at --minutes (default 30); this is the backstop.
timeout --signal=TERM --kill-after=30 36m \
  dotnet bench/SignalFunctions.EngineBench/bin/Release/net10.0/SignalFunctions.EngineBench.dll \
  --pg "Host=127.0.0.1;Port=$PG_PORT;Username=postgres" \
  --app src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll \
  --devhost src/SignalFunctions.DevHost/bin/Release/net10.0/SignalFunctions.DevHost.dll \
  --settings local.settings.sample.json \
  --work "$work" \
  --results "${SIGNAL_ENGINE_BENCH_RESULTS:-/tmp/signal-engine-bench.md}" \
  "$@"
