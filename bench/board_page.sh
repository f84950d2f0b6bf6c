#!/usr/bin/env bash
# Board page benchmark, release build, real headless Chromium (chromium-headless-shell):
#  1. page load to first data: /board/imooc opened ROUNDS times in a fresh tab, from the
#     navigation to every panel drawn with data (ms, p50 and max);
#  2. the server's CPU over SECONDS (from /proc: the sluice process's user + system time)
#     with no page open, with PAGES tabs of one board (they share its one refresher), and
#     with PAGES distinct boards open (copies of boards/imooc.yaml: one refresher each),
#     every board refreshing every second.
# The tables are the board jobs' output over the real sample plus the sample re-timed over
# half an hour of the next day (run in batch mode, so they hold what the stream jobs write).
#
#   bench/board_page.sh [ROUNDS] [PAGES] [SECONDS]     (default: 10 10 30)
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/sluice-target), SLUICE_CHROMIUM.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$script_dir")
cd "$root"

rounds=${1:-10}
pages=${2:-10}
seconds=${3:-30}
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
build_release
scripts/browser-deps.sh
chromium=${SLUICE_CHROMIUM:-/usr/bin/chromium-headless-shell}

work=$(mktemp -d)
trap 'kill ${server:-0} 2>/dev/null && wait ${server:-0} 2>/dev/null; rm -rf "$work"' EXIT
wh=$work/wh
say "the board's tables: the sample and half an hour re-timed, cleaned and aggregated (batch)"
python3 - testdata/imooc/10000_access.log "$work/raw.log" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in lines:
        out.write(line + "\n")
    for i, line in enumerate(lines):
        at = i * 180 // 1000
        stamp = "11/Nov/2016:00:%02d:%02d +0800" % (at // 60, at % 60)
        out.write(re.sub(r"\[[^\]]*\]", "[" + stamp + "]", line, count=1) + "\n")
PY
"$sluice" run jobs/clean.sql --no-progress --set "raw_path=$work/raw.log" --set "warehouse=$wh" >/dev/null
for job in pv_uv hot_courses online_users region_pv; do
    "$sluice" run "jobs/$job.sql" --no-progress --set "warehouse=$wh" >/dev/null
done

boards=(--board boards/imooc.yaml)
for i in $(seq 2 "$pages"); do
    sed "s/^name: imooc\$/name: imooc-$i/" boards/imooc.yaml >"$work/imooc-$i.yaml"
    boards+=(--board "$work/imooc-$i.yaml")
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$sluice" serve --listen "127.0.0.1:$port" --state-dir "$work/state" --set "warehouse=$wh" \
    "${boards[@]}" >"$out/board_page_server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done

say "page load to first data x $rounds; server CPU with $pages pages open for $seconds s"
python3 "$script_dir/board_page.py" "$chromium" "http://127.0.0.1:$port" "$server" \
    "$rounds" "$pages" "$seconds" "$work/chromium"
