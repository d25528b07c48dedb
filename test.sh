#!/usr/bin/env bash
# Every test: unit, database, HTTP (real Kestrel processes), hosted-mode contract and browser,
# against a real PostgreSQL the tests start themselves (or SIGNAL_TEST_DB when set).
# Installs what the tests need when missing. Exits non-zero on any failure.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Clicks").
set -euo pipefail
cd "$(dirname "$0")"
source scripts/postgres.sh
source scripts/apt.sh

need_apt=()
pg_bindir >/dev/null || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# The README's runnable blocks use curl (tests/SignalFunctions.Tests/Docs).
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
apt_install_missing "${need_apt[@]}"

dotnet build SignalFunctions.sln -c Release -nologo -v quiet -clp:"NoSummary;ErrorsOnly"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test SignalFunctions.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line for CI: "tests: N passed, N failed, N skipped".
count() { grep -E "^\s+$1: +[0-9]+" "$log" | tail -1 | grep -oE '[0-9]+' || echo 0; }
echo "tests: $(count Passed) passed, $(count Failed) failed, $(count Skipped) skipped"
exit "$status"
