#!/usr/bin/env bash
# Job-server benchmark, release build:
#  1. API latency: p50/p99 of GET /api/v1/jobs while four stream jobs (the board jobs over
#     generated events, bench profile) run on the server;
#  2. the cost of metrics: bench/stream.sh's job (pv_uv.sql over generated events into a
#     memory sink) run on its own, without and with `--metrics-listen` scraped every 100 ms
#     (Prometheus scrapes every 15 s: this is far harsher), interleaved ROUNDS times.
#
#   bench/server.sh [REQUESTS] [ROUNDS] [MILLION_LINES]     (default: 2000 3 5)
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/sluice-target).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$script_dir")
cd "$root"

requests=${1:-2000}
rounds=${2:-3}
lines=$(awk -v n="${3:-5}" 'BEGIN { printf "%d", n * 1000000 }')
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
build_release

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

say "API latency: GET /api/v1/jobs x $requests with four jobs running"
port=$(free_port)
state=$(mktemp -d)
"$sluice" serve --profile bench --listen "127.0.0.1:$port" --state-dir "$state" \
    --set events=1000000000000 >"$out/server.log" 2>&1 &
server=$!
trap 'kill -9 $server 2>/dev/null || true; rm -rf "$state"' EXIT
export SLUICE_SERVER="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$SLUICE_SERVER/ready" >/dev/null && break; sleep 0.1; done
for job in pv_uv hot_courses online_users; do "$sluice" submit "jobs/$job.sql" >/dev/null; done
"$sluice" submit jobs/pv_uv.sql --name pv_uv_2 >/dev/null
sleep 3
"$sluice" jobs
python3 - "$port" "$requests" <<'EOF'
import http.client, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
took = []
for _ in range(n):
    t = time.perf_counter()
    conn.request("GET", "/api/v1/jobs")
    body = conn.getresponse().read()
    took.append((time.perf_counter() - t) * 1000)
took.sort()
pick = lambda q: took[min(len(took) - 1, int(q * len(took)))]
print(f"   {n} requests, {len(body)} bytes each: p50 {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, max {took[-1]:.2f} ms")
EOF
kill -TERM $server
wait $server || true

say "metrics cost: pv_uv.sql --mode stream over $lines generated lines, $rounds rounds"
scrape_port=$(free_port)
results=()
for round in $(seq "$rounds"); do
    for variant in plain scraped; do
        args=(run jobs/pv_uv.sql --mode stream --profile bench --no-progress --set "events=$lines")
        scraper=""
        if [[ $variant == scraped ]]; then
            args+=(--metrics-listen "127.0.0.1:$scrape_port")
            (while sleep 0.1; do curl -fs "http://127.0.0.1:$scrape_port/metrics" >/dev/null || true; done) &
            scraper=$!
        fi
        timed "metrics_${variant}_$round" "$sluice" "${args[@]}"
        if [[ -n $scraper ]]; then kill "$scraper"; wait "$scraper" 2>/dev/null || true; fi
        got=$(sed -n 's/^read \([0-9]*\) rows.*/\1/p' "$out/metrics_${variant}_$round.out" | tail -n 1)
        results+=("$(awk -v v="$variant" -v r="$round" -v e="$got" -v w="$WALL" -v m="$RSS_MB" 'BEGIN {
            printf "%-8s %-6d %10.2f %14.0f %12s", v, r, w, (w > 0 ? e / w : 0), m }')")
    done
done
say "results ($(nproc) cores)"
printf '%-8s %-6s %10s %14s %12s\n' "variant" "round" "wall s" "events/s" "peak RSS MB"
printf '%s\n' "${results[@]}"
