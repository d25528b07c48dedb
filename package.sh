#!/usr/bin/env bash
# ./package.sh              build the Azure Functions deploy package, a dotnet-isolated app:
#                             artifacts/functionapp/      the worker's publish output: host.json,
#                                                         worker.config.json, functions.metadata,
#                                                         extensions.json, .azurefunctions/, SignalFunctions.dll
#                             artifacts/functionapp.zip   the same, for zip deploy or `func azure functionapp publish`
# ./package.sh --out DIR    the same under DIR instead of artifacts/ (the tests build into artifacts/test)
#
# functions.metadata and worker.config.json are written by the Functions worker SDK at build time
# from the [Function] methods; nothing here is written by hand. Each run starts from scratch; a
# failed run leaves the previous package untouched and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/apt.sh

usage() { echo "usage: ./package.sh [--out DIR]" >&2; exit 2; }
out_root=artifacts
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || usage; out_root="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage ;;
  esac
done

command -v zip >/dev/null 2>&1 || apt_install_missing zip

mkdir -p "$out_root"
out_root="$(cd "$out_root" && pwd)"
package="$out_root/functionapp"
zipfile="$out_root/functionapp.zip"
work="$(mktemp -d "$out_root/.package.XXXXXX")"
trap 'rm -rf "$work"' EXIT
staging="$work/functionapp"

echo "Publishing SignalFunctions (Release, dotnet-isolated worker)" >&2
# No build servers: nothing stays running after the script, and a caller reading our output
# (the tests) is not held open by an MSBuild node that inherited it.
if ! publish_log="$(dotnet publish src/SignalFunctions -c Release --disable-build-servers -nologo -v quiet -o "$staging" 2>&1)"; then
  echo "$publish_log" >&2
  echo "error: dotnet publish failed" >&2
  exit 1
fi

# What the Functions host reads from a dotnet-isolated package; a missing one deploys an app that runs nothing.
for required in host.json worker.config.json functions.metadata extensions.json .azurefunctions SignalFunctions.dll; do
  [ -e "$staging/$required" ] || { echo "error: the publish output has no $required" >&2; exit 1; }
done
grep -q '"language": *"dotnet-isolated"' "$staging/worker.config.json" \
  || { echo "error: worker.config.json does not declare dotnet-isolated" >&2; exit 1; }
[ ! -e "$staging/local.settings.json" ] || { echo "error: local.settings.json must never be published" >&2; exit 1; }
functions=$(grep -c '"scriptFile"' "$staging/functions.metadata" || true)
[ "$functions" -gt 0 ] || { echo "error: functions.metadata lists no functions" >&2; exit 1; }

# -X: no uid/gid or extra timestamps. The dot-folder .azurefunctions is included (zip -r . takes it).
(cd "$staging" && zip -q -r -X "$work/functionapp.zip" .)

rm -rf "$package" "$zipfile"
mv "$staging" "$package"
mv "$work/functionapp.zip" "$zipfile"

echo "Built $package"
echo "  worker.config.json    dotnet-isolated: dotnet SignalFunctions.dll"
echo "  functions.metadata    $functions functions"
echo "  host.json             route prefix api, function timeout $(grep -o '"functionTimeout": *"[^"]*"' "$package/host.json" | cut -d'"' -f4)"
echo "Built $zipfile ($(du -h "$zipfile" | cut -f1))"
