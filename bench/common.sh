# The prologue the bench scripts share: a PostgreSQL port of their own, a work directory removed
# (with its cluster, and its served app) however the script ends, and a Release build.
# Sourced from the repository root, after scripts/postgres.sh.

# bench_port VARIABLE FIRST LAST: the port in $VARIABLE when set, else the first free one in FIRST..LAST.
bench_port() {
  if [ -n "${!1:-}" ]; then echo "${!1}"; return; fi
  for candidate in $(seq "$2" "$3"); do
    if ! (echo >"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then echo "$candidate"; return; fi
  done
  echo "No free port in $2-$3: set $1." >&2
  return 1
}

# bench_workdir NAME: sets $work to a fresh directory the postgres user can read, cleaned up on exit.
bench_workdir() {
  work="$(mktemp -d "/tmp/signal-$1.XXXXXX")"
  chmod 755 "$work"
  trap bench_cleanup EXIT
}

bench_cleanup() {
  # The dev host's pid, while a bench serves the app; SIGTERM stops it and its worker.
  if [ -f "$work/app.pid" ]; then kill -TERM "$(cat "$work/app.pid")" 2>/dev/null || true; fi
  pg_stop "$work/postgres"
  rm -rf "$work"
}

# bench_build PROJECT...: builds each in Release, printing the build's output only when it fails.
bench_build() {
  pg_ensure_binaries
  echo "Building $* (Release)…" >&2
  local project build_log
  for project in "$@"; do
    if ! build_log="$(dotnet build "$project" -c Release -nologo -v quiet 2>&1)"; then
      echo "$build_log" >&2
      exit 1
    fi
  done
}

bench_start_postgres() {
  echo "Starting PostgreSQL on 127.0.0.1:$PG_PORT in $work/postgres…" >&2
  pg_start "$work/postgres" "$PG_PORT" >/dev/null
}
