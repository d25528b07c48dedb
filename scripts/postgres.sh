# Project-local PostgreSQL clusters, sourced by run.sh, test.sh and bench/run.sh.
# initdb and pg_ctl refuse to run as root: as root, they run as the postgres user.

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

pg_ensure_binaries() {
  if pg_bindir >/dev/null; then return 0; fi
  source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
  apt_install_missing postgresql && pg_bindir >/dev/null
}

# pg_as_owner CMD...: run a PostgreSQL server tool as the cluster owner.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pg_start DIR PORT: create the cluster in DIR on first use, start it unless it already runs.
# Prints "started" or "reused" so the caller knows whether stopping it is its job.
pg_start() {
  local dir="$1" port="$2" bin
  bin="$(pg_bindir)" || { echo "error: no PostgreSQL binaries" >&2; return 1; }
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    pg_as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null \
      || { echo "error: initdb failed for $dir" >&2; return 1; }
    cat >> "$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
CONF
  fi
  if pg_as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    echo reused
    return 0
  fi
  pg_as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { echo "error: PostgreSQL did not start; see $dir/server.log" >&2; tail -5 "$dir/server.log" >&2; return 1; }
  echo started
}

pg_stop() {
  local dir="$1" bin
  bin="$(pg_bindir)" || return 0
  [ -f "$dir/postmaster.pid" ] || return 0
  pg_as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_create_db PORT NAME: create the database if it does not exist.
pg_create_db() {
  local port="$1" name="$2" bin
  bin="$(pg_bindir)"
  if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" postgres | grep -q 1; then
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE \"$name\"" postgres >/dev/null
  fi
}
