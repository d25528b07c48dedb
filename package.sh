#!/usr/bin/env bash
# ./package.sh              build the Azure Functions deploy package:
#                             artifacts/functionapp/      host.json, one folder per function with its
#                                                         function.json, the self-contained linux-x64
#                                                         executable SignalFunctions, appsettings.json
#                             artifacts/functionapp.zip   the same, for zip deploy (execute bit kept)
# ./package.sh --out DIR    the same under DIR instead of artifacts/ (the tests build into artifacts/test)
#
# The function.json files are generated from the function table by the packaged executable itself
# (`SignalFunctions functions-json`), never written by hand. Each run starts from scratch; a failed
# run leaves the previous package untouched and exits non-zero.
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

executable=SignalFunctions
# host.json starts exactly this file; a rename on one side only would deploy a package the host can't start.
if ! grep -Eq "\"defaultExecutablePath\"[[:space:]]*:[[:space:]]*\"$executable\"" host.json; then
  echo "error: host.json customHandler.description.defaultExecutablePath must be \"$executable\"" >&2
  exit 1
fi

# zip stores the Unix mode of each file (the execute bit); zipinfo shows it back for the check below.
need_apt=()
command -v zip >/dev/null 2>&1 || need_apt+=(zip)
command -v zipinfo >/dev/null 2>&1 || need_apt+=(unzip)
apt_install_missing "${need_apt[@]}"

mkdir -p "$out_root"
out_root="$(cd "$out_root" && pwd)"
package="$out_root/functionapp"
zipfile="$out_root/functionapp.zip"
work="$(mktemp -d "$out_root/.package.XXXXXX")"
trap 'rm -rf "$work"' EXIT
staging="$work/functionapp"
mkdir -p "$staging"

echo "Publishing $executable (Release, linux-x64, self-contained single file)" >&2
# No build servers: nothing stays running after the script, and a caller reading our output
# (the tests) is not held open by an MSBuild node that inherited it.
if ! publish_log="$(dotnet publish src/SignalFunctions -c Release -r linux-x64 --self-contained \
    -p:PublishSingleFile=true --disable-build-servers -nologo -v quiet -o "$work/publish" 2>&1)"; then
  echo "$publish_log" >&2
  echo "error: dotnet publish failed" >&2
  exit 1
fi
[ -f "$work/publish/$executable" ] || { echo "error: dotnet publish produced no $executable" >&2; exit 1; }

install -m 0755 "$work/publish/$executable" "$staging/$executable"
install -m 0644 "$work/publish/appsettings.json" "$staging/appsettings.json"
install -m 0644 host.json "$staging/host.json"
"$staging/$executable" functions-json --out "$staging" >/dev/null

functions=()
for dir in "$staging"/*/; do
  [ -f "$dir/function.json" ] || { echo "error: $dir has no function.json" >&2; exit 1; }
  functions+=("$(basename "$dir")")
done
[ ${#functions[@]} -gt 0 ] || { echo "error: functions-json wrote no functions" >&2; exit 1; }

# -X: no uid/gid or extra timestamps; the Unix mode is still stored in each entry's external attributes.
(cd "$staging" && zip -q -r -X "$work/functionapp.zip" .)
mode="$(zipinfo "$work/functionapp.zip" "$executable" | awk '{print $1}')"
if [[ "$mode" != -rwx* ]]; then
  echo "error: $executable is stored in the zip as '$mode', without its execute bit" >&2
  exit 1
fi

rm -rf "$package" "$zipfile"
mv "$staging" "$package"
mv "$work/functionapp.zip" "$zipfile"

echo "Built $package"
echo "  host.json             customHandler $executable, HTTP requests forwarded, route prefix api"
echo "  $executable       $(du -h "$package/$executable" | cut -f1), $(stat -c %A "$package/$executable")"
echo "  appsettings.json"
echo "  ${#functions[@]} functions:        ${functions[*]}"
echo "Built $zipfile ($(du -h "$zipfile" | cut -f1); $executable stored as $mode)"
