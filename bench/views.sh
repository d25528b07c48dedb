#!/usr/bin/env bash
# bench/views.sh [--rows N] [--events N] [--rounds N]
#
# The view-refresh benchmark: on a database with demo data (default 1,000,000
# legacy rows, backfilled into signal_events through the engine), N new events (default 1,000)
# on one day, then an incremental refresh of signal_daily_rollup, against a full refresh after
# the same kind of change, both run by the RefreshViews timer in a warm worker, served as ./run.sh
# serves it (the dev host, src/SignalFunctions.DevHost, runs the timer through its admin API). Prints
# both timings (medians over --rounds, default 5) and the ratio, and checks that each incremental
# result is exactly what a full refresh computes (the full refresh that follows it rewrites no
# row, and the rollup's checksum is unchanged).
# Builds the app and the dev host in Release and starts its own PostgreSQL (fsync and
# synchronous_commit on) in a temporary directory on its own port; everything it starts is stopped
# when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

rows=1000000 events=1000 rounds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --events) events="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1; see bench/views.sh --help" >&2; exit 2 ;;
  esac
done

PG_PORT="${SIGNAL_VIEWS_BENCH_PG_PORT:-55483}"
work="$(mktemp -d /tmp/signal-views-bench.XXXXXX)"
chmod 755 "$work"
cleanup() {
  pg_stop "$work/postgres"
  rm -rf "$work"
}
trap cleanup EXIT

pg_ensure_binaries
echo "Building the app and the dev host (Release)…" >&2
for project in src/SignalFunctions src/SignalFunctions.DevHost; do
  if ! build_log="$(dotnet build "$project" -c Release -nologo -v quiet 2>&1)"; then
    echo "$build_log" >&2
    exit 1
  fi
done
echo "Starting PostgreSQL on 127.0.0.1:$PG_PORT in $work/postgres…" >&2
pg_start "$work/postgres" "$PG_PORT" >/dev/null
pg_create_db "$PG_PORT" signal
export ConnectionStrings__Signal="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=signal"
app=(dotnet src/SignalFunctions/bin/Release/net10.0/SignalFunctions.dll)
psql=("$(pg_bindir)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d signal -qAtX -v ON_ERROR_STOP=1)

"${app[@]}" db migrate >/dev/null
started=$(date +%s.%N)
"${app[@]}" demo-data --rows "$rows" --seed 42 | tail -1
demo_seconds=$(echo "$(date +%s.%N) - $started" | bc)
"${app[@]}" stage signal-events dual_write >/dev/null
"${app[@]}" backfill signal-events --until-done | tail -1
"${psql[@]}" -c "VACUUM ANALYZE signal_events"
initial="$("${app[@]}" refresh-views --full)"
echo "$initial"

# N events on one day ($1 days ago), over the demo articles with the same Zipf-like popularity,
# four events per journey (two impressions, a click, then a save or a convert).
insert_events() {
  "${psql[@]}" -c "
    INSERT INTO signal_events (id, signal_id, content_id, target_type, target_id, event_type, source_component, created_at)
    SELECT gen_random_uuid(), journey, article, 'tutor', gen_random_uuid(),
           (ARRAY['impression', 'impression', 'click', CASE WHEN random() < 0.3 THEN 'convert' ELSE 'save' END])[1 + i % 4],
           'tutor_embed',
           (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '$1 days') AT TIME ZONE 'UTC' + make_interval(secs => random() * 86399)
      FROM (SELECT i, md5('bench-' || clock_timestamp() || '-' || (i / 4))::uuid AS journey,
                   md5('demo-article-' || least(300, floor(power(301, random()))::int))::uuid AS article
              FROM generate_series(0, $events - 1) i) e"
}
checksum() {
  "${psql[@]}" -c "SELECT md5(string_agg(concat_ws(',', content_id, day, event_type, events, signals, conversions), ';'
                                          ORDER BY content_id, day, event_type)) FROM signal_daily_rollup"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The RefreshViews timer as the Functions host fires it, in one warm worker: the path that runs
# every five minutes (./run.sh refresh-views is the same code plus process start and JIT, ~0.2 s).
# Served as ./run.sh serves it: the dev host starts the worker. Every timer's schedule is a year
# out, so only the runs asked for here touch the database.
port="${SIGNAL_VIEWS_BENCH_APP_PORT:-55484}"
never="0 0 0 1 1 *"
BackfillSchedule="$never" ParitySchedule="$never" RepairSchedule="$never" RefreshViewsSchedule="$never" GuardSchedule="$never" \
  dotnet src/SignalFunctions.DevHost/bin/Release/net10.0/SignalFunctions.DevHost.dll \
  --script-root src/SignalFunctions/bin/Release/net10.0 --settings local.settings.sample.json \
  --urls "http://127.0.0.1:$port" >"$work/app.log" 2>&1 &
host_pid=$!
# SIGTERM to the dev host stops the worker too.
trap 'kill -TERM $host_pid 2>/dev/null || true; wait $host_pid 2>/dev/null || true; cleanup' EXIT
app_failed() { echo "error: $1; the app's log ends:" >&2; tail -40 "$work/app.log" >&2; exit 1; }
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break
  kill -0 "$host_pid" 2>/dev/null || app_failed "the dev host exited"
  sleep 0.2
done
curl -sf "http://127.0.0.1:$port/api/health" >/dev/null || app_failed "the app did not answer /api/health within 120 s"
# One run through the dev host's admin API, which answers 202 and runs it in the background; then its
# summary line from the worker's log, e.g. "RefreshViews signal_daily_rollup: incremental, 218 buckets
# recomputed (…), 643 rows written, 0 removed, in 61 ms".
refresh() {
  local done_before summaries_before
  done_before="$(grep -c "Executed 'Functions.RefreshViews'" "$work/app.log" || true)"
  summaries_before="$(grep -c 'RefreshViews: RefreshViews signal_daily_rollup: ' "$work/app.log" || true)"
  curl -sf -X POST "http://127.0.0.1:$port/admin/functions/RefreshViews" >/dev/null || app_failed "the admin API refused to run RefreshViews"
  for _ in $(seq 3000); do
    [ "$(grep -c "Executed 'Functions.RefreshViews'" "$work/app.log" || true)" -gt "$done_before" ] && break
    sleep 0.1
  done
  grep "Executed 'Functions.RefreshViews'" "$work/app.log" | tail -1 | grep -q '(Succeeded' || app_failed "RefreshViews did not succeed"
  # The worker's console logger writes on its own thread: the line may come just after the host's.
  for _ in $(seq 100); do
    [ "$(grep -c 'RefreshViews: RefreshViews signal_daily_rollup: ' "$work/app.log" || true)" -gt "$summaries_before" ] && break
    sleep 0.05
  done
  sed -nE 's/.*RefreshViews: (RefreshViews signal_daily_rollup: .*)$/\1/p' "$work/app.log" | tail -1
}
# The timer's own full path: the periodic full refresh, made due.
refresh_full() {
  "${psql[@]}" -c "UPDATE view_refreshes SET last_full_at = now() - interval '25 hours'"
  refresh
}
ms() { sed -E 's/.* in ([0-9.]+) (ms|s)$/\1 \2/' <<<"$1" | awk '{ print ($2 == "s") ? $1 * 1000 : $1 }'; }
written() { sed -E 's/.* ([0-9,]+) (rows )?written.*/\1/' <<<"$1" | tr -d ,; }
removed() { sed -E 's/.* ([0-9,]+) removed.*/\1/' <<<"$1" | tr -d ,; }

# Past the overlap window of the initial refresh, then warm up.
sleep 11
refresh >/dev/null
refresh >/dev/null

inc_times=() full_times=() buckets=() same=0
# Each change lands on a day of its own, of ordinary size. Each round ends as production's
# five-minute ticks do: a later run past the overlap window (Views__OverlapSeconds, 10 s) has
# already read the rows of the round before, so a timed incremental run reads only its own change.
for round in $(seq "$rounds"); do
  insert_events $((20 + 2 * round))
  inc="$(refresh)"
  [[ "$inc" == *": incremental, "* ]] || { echo "error: round $round was not incremental: $inc" >&2; exit 1; }
  before="$(checksum)"
  check="$(refresh_full)"
  if [ "$(written "$check")" = 0 ] && [ "$(removed "$check")" = 0 ] && [ "$(checksum)" = "$before" ]; then
    same=$((same + 1))
  fi
  insert_events $((21 + 2 * round))
  full="$(refresh_full)"
  [[ "$full" == *": full ("* ]] || { echo "error: round $round: no full refresh: $full" >&2; exit 1; }
  bucket_count="$(sed -E 's/.*incremental, ([0-9,]+) buckets.*/\1/' <<<"$inc" | tr -d ,)"
  inc_times+=("$(ms "$inc")") full_times+=("$(ms "$full")") buckets+=("$bucket_count")
  echo "round $round: incremental $(ms "$inc") ms ($bucket_count buckets, $(written "$inc") rows written), full $(ms "$full") ms ($(written "$full") rows written)"
  sleep 11
  refresh >/dev/null
done

inc_ms="$(printf '%s\n' "${inc_times[@]}" | median)"
full_ms="$(printf '%s\n' "${full_times[@]}" | median)"
events_total="$("${psql[@]}" -c "SELECT count(*) FROM signal_events")"
rollup_rows="$("${psql[@]}" -c "SELECT count(*) FROM signal_daily_rollup")"
echo
echo "signal_events: $events_total rows; signal_daily_rollup: $rollup_rows rows; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "demo-data --rows $rows: $(printf '%.1f' "$demo_seconds") s (including process start)"
printf '%-44s %10s\n' "refresh after $events new events on one day" "median ms"
printf '%-44s %10.1f\n' "incremental ($(printf '%s\n' "${buckets[@]}" | median | xargs printf '%.0f') buckets)" "$inc_ms"
printf '%-44s %10.1f\n' "full" "$full_ms"
printf '%-44s %9.1fx   (target: at least 10x)\n' "full / incremental" "$(echo "$full_ms / $inc_ms" | bc -l)"
echo "same result as a full refresh: $same of $rounds rounds"
[ "$same" = "$rounds" ]
