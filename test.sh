#!/usr/bin/env bash
# Every test: unit, database, HTTP (real Kestrel processes), hosted-mode contract and browser,
# against a real PostgreSQL the tests start themselves (or SIGNAL_TEST_DB when set).
# Installs what the tests need when missing. Exits non-zero on any failure.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Clicks").
set -euo pipefail
cd "$(dirname "$0")"
source scripts/postgres.sh

need_apt=()
pg_bindir >/dev/null || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing ${need_apt[*]}; install them (apt-get install ${need_apt[*]}) or run as root" >&2
    exit 1
  fi
  echo "Installing ${need_apt[*]} from Debian packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

dotnet build SignalFunctions.sln -c Release -nologo -v quiet -clp:"NoSummary;ErrorsOnly"
dotnet test SignalFunctions.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@"
