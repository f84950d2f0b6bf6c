#!/usr/bin/env bash
# Live-board benchmark over real connections (release build): Kafka (scripts/kafka-dev.sh)
# -> stream_clean.sql -> Kafka -> pv_uv.sql -> Redis + MySQL, with the `stack` profile.
#
#   bench/board.sh [LINES] [LATENCY_SECONDS]     (defaults: 1000000 and 150)
#
# 1. Throughput: LINES generated lines are put on a raw topic first; then each job runs in
#    stream mode until it has caught up (scan.bounded.mode = latest-offset), timed with peak RSS.
# 2. Latency: a live feed (`sluice produce --rate 2000`, event times = wall clock) runs
#    through both jobs; every Redis key's arrival is stamped (keyspace notifications) and
#    compared with the moment its window could close (window end + watermark delay, 5 s).
#    Prints p50/p99 of window-close -> Redis-visible.
# Needs Redis on 127.0.0.1:6379 and MariaDB on 127.0.0.1:3306 (scripts/services.sh ensure).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$script_dir")
cd "$root"

lines=${1:-1000000}
live_s=${2:-150}
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
build_release
say "starting the services and the broker"
scripts/services.sh ensure
brokers=$(scripts/kafka-dev.sh start)
run_id=bench$$
db="sluice_bench_$$"
prefix="sluice-bench:$$:"
common=(--profile stack --no-progress
    --set "kafka_brokers=$brokers" --set "kafka_startup_mode=earliest-offset"
    --set "raw_topic=$run_id-raw" --set "events_topic=$run_id-events" --set "dead_letter_topic=$run_id-dlq"
    --set "mysql_url=mysql://root@127.0.0.1:3306/$db" --set "redis_key_prefix=$prefix"
    --set "warehouse=$out/board-wh")
cleanup() {
    [[ -n ${feed_pid:-} ]] && kill "$feed_pid" 2>/dev/null || true
    [[ -n ${jobs_pids:-} ]] && kill $jobs_pids 2>/dev/null || true
    [[ -n ${sub_pid:-} ]] && kill -- "-$sub_pid" 2>/dev/null || true
    redis-cli --scan --pattern "$prefix*" | xargs -r -n 1000 redis-cli del >/dev/null || true
    mysql -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
}
trap cleanup EXIT

# One raw partition: a backlog read from several would interleave whole batches of far-apart
# event times in the events topic (late rows); a live feed has no such backlog.
say "throughput: $lines lines onto topic $run_id-raw (1 partition)"
timed produce "$sluice" produce --to kafka --brokers "$brokers" --topic "$run_id-raw" --partitions 1 \
    --mode random --lines "$lines" --quiet
tail -n 1 "$out/produce.out"
timed board_clean "$sluice" run jobs/stream_clean.sql --mode stream "${common[@]}" \
    --set kafka_bounded_mode=latest-offset
clean_wall=$WALL clean_rss=$RSS_MB
clean_summary=$(tail -n 1 "$out/board_clean.out")
echo "   $clean_summary"
events=$(sed -n 's/.*wrote access_events=\([0-9]*\).*/\1/p' <<<"$clean_summary")
timed board_pv_uv "$sluice" run jobs/pv_uv.sql --mode stream "${common[@]}" \
    --set kafka_bounded_mode=latest-offset
pv_wall=$WALL pv_rss=$RSS_MB
echo "   $(tail -n 1 "$out/board_pv_uv.out")"
keys=$(redis-cli --scan --pattern "$prefix*" | wc -l)
awk -v l="$lines" -v e="$events" -v cw="$clean_wall" -v pw="$pv_wall" -v cr="$clean_rss" -v pr="$pv_rss" -v k="$keys" 'BEGIN {
    printf "\n   stream_clean: %d lines in %.2f s = %.0f lines/s, %d events out, peak RSS %s MB\n", l, cw, l / cw, e, cr
    printf "   pv_uv:        %d events in %.2f s = %.0f events/s into Redis + MySQL (%d Redis keys), peak RSS %s MB\n", e, pw, e / pw, k, pr
    printf "   end to end:   %.0f lines/s (%.0f events/s) through both jobs one after the other\n", l / (cw + pw), e / (cw + pw) }'
redis-cli --scan --pattern "$prefix*" | xargs -r -n 1000 redis-cli del >/dev/null

say "latency: a live feed for $live_s s (2000 lines/s, event time = wall clock)"
redis-cli config set notify-keyspace-events Eh >/dev/null
stamps=$out/board_latency.stamps
: >"$stamps"
# Each notification: "pmessage", pattern, channel, key — stamp the key lines as they come.
# In a process group of its own, so the subscriber and its stamping loop stop together.
export prefix
setsid bash -c 'redis-cli --raw psubscribe "__keyevent@0__:hset" | while read -r line; do
    [[ $line == "$prefix"* ]] && echo "$EPOCHREALTIME $line"
done' >>"$stamps" &
sub_pid=$!
live=(--set "raw_topic=$run_id-live" --set "events_topic=$run_id-live-events" --set "kafka_startup_mode=latest-offset")
"$sluice" run jobs/stream_clean.sql --mode stream "${common[@]}" "${live[@]}" >"$out/board_live_clean.out" 2>&1 &
jobs_pids=$!
"$sluice" run jobs/pv_uv.sql --mode stream "${common[@]}" "${live[@]}" >"$out/board_live_pv_uv.out" 2>&1 &
jobs_pids="$jobs_pids $!"
sleep 3
"$sluice" produce --to kafka --brokers "$brokers" --topic "$run_id-live" --partitions 1 --mode random \
    --rate 2000 --lines $((2000 * live_s)) --quiet >"$out/board_live_produce.out" 2>&1 &
feed_pid=$!
wait "$feed_pid" || true
feed_pid=
sleep 8
kill -- "-$sub_pid" 2>/dev/null || true
sub_pid=
# Key ...:{window_end ms}; the window can close once an event 5 s past its end arrives.
awk -v delay_ms=5000 '{
    n = split($2, parts, ":"); end_ms = parts[n]
    lat = $1 * 1000 - (end_ms + delay_ms)
    print lat }' "$stamps" | sort -n >"$out/board_latency.ms"
count=$(wc -l <"$out/board_latency.ms")
if [[ $count -eq 0 ]]; then
    echo "no window closed during the live run" >&2
    exit 1
fi
windows=$(awk '{ n = split($2, p, ":"); print p[n] }' "$stamps" | sort -u | wc -l)
awk -v c="$count" -v w="$windows" 'NR == int(c * 0.5 + 0.5) { p50 = $1 } NR == int(c * 0.99 + 0.5) { p99 = $1 } END {
    printf "   %d keys in %d windows: window close -> Redis-visible p50 %.0f ms, p99 %.0f ms\n", c, w, p50, p99 }' "$out/board_latency.ms"
