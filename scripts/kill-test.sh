#!/usr/bin/env bash
# Crash test of the live board: the real sample flows raw -> Kafka -> stream_clean.sql ->
# Kafka -> pv_uv / hot_courses / online_users -> MySQL + Redis, in slices, while the four
# jobs are killed with SIGKILL at random moments (mid-window, mid-checkpoint, mid-flush) and
# restarted at once. When the input is consumed, MySQL and Redis must equal what batch mode
# computes from the same file: no missing and no extra rows, no value counted twice; and
# the events topic must hold each cleaned event once.
#
#   scripts/kill-test.sh [KILLS] [SLICES]     default 12 kills over 10 input slices
#
# Needs the services (scripts/services.sh ensure) and a Kafka broker (scripts/kafka-dev.sh;
# started here). Uses a release build if present (SLUICE=path overrides), else the debug one.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS="${1:-12}"
SLICES="${2:-10}"
SEED="${SEED:-$RANDOM}"
RANDOM=$SEED
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/sluice-target}"
if [ -z "${SLUICE:-}" ]; then
    if [ -x "$TARGET/release/sluice" ]; then SLUICE="$TARGET/release/sluice"
    elif [ -x "$TARGET/debug/sluice" ]; then SLUICE="$TARGET/debug/sluice" # scripts/test.sh's
    else
        cargo build -q --workspace --all-targets
        SLUICE="$TARGET/debug/sluice"
    fi
fi
BROKERS="$(scripts/kafka-dev.sh start)"
TAG="kill$$"
DB="sluice_kill_$$"
PREFIX="sluice-kill:$TAG:"
WORK="$(mktemp -d)"
SAMPLE="${SAMPLE:-testdata/imooc/10000_access.log}"
log() { echo "kill-test: $*" >&2; }
declare -A PIDS=()

cleanup() {
    for job in "${!PIDS[@]}"; do kill -9 "${PIDS[$job]}" 2>/dev/null || true; done
    mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $DB" 2>/dev/null || true
    redis-cli --scan --pattern "$PREFIX*" | xargs -r redis-cli del >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
log "seed $SEED, $KILLS kills over $SLICES slices, work dir $WORK"
mysql -h127.0.0.1 -uroot -e "CREATE DATABASE $DB"

STACK=(--profile stack --set "kafka_brokers=$BROKERS" --set "raw_topic=$TAG-raw"
    --set "events_topic=$TAG-events" --set "dead_letter_topic=$TAG-dlq"
    --set "redis_key_prefix=$PREFIX" --set "mysql_url=mysql://root@127.0.0.1:3306/$DB"
    --set "warehouse=$WORK/wh" --set "checkpoint.interval=${CHECKPOINT_INTERVAL:-1s}"
    --set "idle_timeout_ms=600000" --set "kafka_startup_mode=earliest-offset")
BOARD=(pv_uv hot_courses online_users)
JOBS=(stream_clean "${BOARD[@]}")

# The reference: batch mode over the same file.
"$SLUICE" run jobs/clean.sql --no-progress --set "raw_path=$SAMPLE" --set "warehouse=$WORK/ref" >/dev/null
for job in "${BOARD[@]}"; do
    "$SLUICE" run "jobs/$job.sql" --no-progress --set "warehouse=$WORK/ref" >/dev/null
done

start_job() { # job [extra args...]
    local job="$1"; shift
    "$SLUICE" -v run "jobs/$job.sql" --mode stream --no-progress "${STACK[@]}" "$@" \
        >>"$WORK/$job.log" 2>&1 &
    PIDS[$job]=$!
}

# Slices of the sample, produced one after another while the jobs run.
total=$(wc -l <"$SAMPLE")
per=$(( (total + SLICES - 1) / SLICES ))
split -l "$per" -d -a 3 "$SAMPLE" "$WORK/slice."
start_job stream_clean
for job in "${BOARD[@]}"; do start_job "$job"; done

kills=0
produce_slice() {
    "$SLUICE" produce --to kafka --brokers "$BROKERS" --topic "$TAG-raw" --partitions 1 \
        --mode replay --speedup 0 --quiet "$1"
}
kill_some() { # kills a job (default: a random one) at a random moment within ~$1 ms, restarts it
    local ms=$(( RANDOM % $1 ))
    sleep "$(printf '0.%03d' $(( ms % 1000 )))"
    sleep $(( ms / 1000 ))
    local job="${2:-${JOBS[$(( RANDOM % ${#JOBS[@]} ))]}}"
    kill -9 "${PIDS[$job]}" 2>/dev/null || true
    wait "${PIDS[$job]}" 2>/dev/null || true
    kills=$(( kills + 1 ))
    log "kill $kills: $job after ${ms} ms ($(ls "$WORK/wh/_checkpoints/$job" 2>/dev/null | tr '\n' ' '))"
    echo "=== killed (kill $kills) ===" >>"$WORK/$job.log"
    start_job "$job"
}
per_slice=$(( (KILLS + SLICES - 1) / SLICES ))
for slice in "$WORK"/slice.*; do
    produce_slice "$slice"
    # Every other slice, stream_clean is killed while it cleans it: after it has written
    # events that its last checkpoint does not cover.
    if [ "$kills" -lt "$KILLS" ] && [ $(( RANDOM % 2 )) -eq 0 ]; then kill_some 300 stream_clean; fi
    for _ in $(seq "$per_slice"); do
        [ "$kills" -lt "$KILLS" ] && kill_some 2500
    done
done
while [ "$kills" -lt "$KILLS" ]; do kill_some 2500; done

# The input is all produced. Wait until stream_clean has caught up (its checkpoint covers
# every raw line), then end everything: the board jobs one last kill, and a bounded rerun
# that resumes from their checkpoints and ends when caught up.
raw_lines=$total
for _ in $(seq 120); do
    read_lines=$(python3 - "$WORK/wh/_checkpoints/stream_clean" <<'PY'
import json, os, sys
d = sys.argv[1]
best = 0
for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    try:
        m = json.load(open(os.path.join(d, n, "_manifest.json")))
    except Exception:
        continue
    for s in m["sources"]:
        best = max(best, sum(int(x["position"]) for x in s["splits"] if x.get("position")))
print(best)
PY
)
    [ "$read_lines" -ge "$raw_lines" ] && break
    sleep 1
done
[ "$read_lines" -ge "$raw_lines" ] || { log "stream_clean did not catch up ($read_lines of $raw_lines)"; exit 1; }
sleep 2
kill "${PIDS[stream_clean]}"; wait "${PIDS[stream_clean]}" 2>/dev/null || true; unset 'PIDS[stream_clean]'
for job in "${BOARD[@]}"; do
    kill -9 "${PIDS[$job]}" 2>/dev/null || true; wait "${PIDS[$job]}" 2>/dev/null || true
    "$SLUICE" -v run "jobs/$job.sql" --mode stream --no-progress "${STACK[@]}" \
        --set kafka_bounded_mode=latest-offset >>"$WORK/$job.log" 2>&1
    unset "PIDS[$job]"
done
resumed=$(cat "$WORK"/*.log | grep -c "resuming from checkpoint" || true)
replayed=$(grep -o "access_events: [0-9]* messages on topic" "$WORK/stream_clean.log" | awk '$2 > 0 { n++; m += $2 } END { printf "%d restarts with %d events", n, m }')
log "$kills kills, $resumed resumes from a checkpoint; stream_clean: $replayed on the topic past its checkpoint"

# Compare: MySQL through sluice (same formatting as the reference) and Redis.
fail=0
for spec in "realtime_pv_uv_stat:window_end, window_size, cms_type, cms_id" \
    "realtime_hot_course_stat:window_end, cms_type, cms_id" "realtime_online_user_stat:window_end"; do
    table="${spec%%:*}"; order="${spec#*:}"
    "$SLUICE" query --format csv --set "warehouse=$WORK/ref" "SELECT * FROM $table ORDER BY $order" >"$WORK/want.$table"
    "$SLUICE" query --format csv "${STACK[@]}" "SELECT * FROM $table ORDER BY $order" >"$WORK/got.$table"
    if cmp -s "$WORK/want.$table" "$WORK/got.$table"; then
        log "MySQL $table: identical ($(($(wc -l <"$WORK/got.$table") - 1)) rows)"
    else
        log "MySQL $table: DIFFERENT"; diff "$WORK/want.$table" "$WORK/got.$table" | head -20 >&2; fail=1
    fi
done
# The events topic: each cleaned event exactly once, however often stream_clean was killed.
events="SELECT * FROM access_events ORDER BY event_time, ip, url, cms_type, cms_id, traffic, city, isp"
"$SLUICE" query --format csv --set "warehouse=$WORK/ref" "$events" >"$WORK/want.events"
"$SLUICE" query --format csv "${STACK[@]}" "$events" >"$WORK/got.events"
if cmp -s "$WORK/want.events" "$WORK/got.events"; then
    log "Kafka $TAG-events: identical ($(($(wc -l <"$WORK/got.events") - 1)) events)"
else
    log "Kafka $TAG-events: DIFFERENT ($(($(wc -l <"$WORK/got.events") - 1)) events, want $(($(wc -l <"$WORK/want.events") - 1)))"
    diff "$WORK/want.events" "$WORK/got.events" | head -10 >&2; fail=1
fi
"$SLUICE" query --format csv --set "warehouse=$WORK/ref" \
    "SELECT window_size, cms_type, cms_id, CAST(window_end AS BIGINT) AS e, pv, uv FROM realtime_pv_uv_stat" >"$WORK/want.pvuv"
"$SLUICE" query --format csv --set "warehouse=$WORK/ref" \
    "SELECT cms_type, CAST(window_end AS BIGINT) AS e, cms_id, pv FROM realtime_hot_course_stat" >"$WORK/want.topn"
"$SLUICE" query --format csv --set "warehouse=$WORK/ref" \
    "SELECT CAST(window_end AS BIGINT) AS e, online_users FROM realtime_online_user_stat" >"$WORK/want.online"
python3 - "$PREFIX" "$WORK" <<'PY' || fail=1
import csv, subprocess, sys
prefix, work = sys.argv[1], sys.argv[2]
def rows(name):
    with open(f"{work}/want.{name}") as f:
        return list(csv.reader(f))[1:]
want = {}
for ws, t, i, e, pv, uv in rows("pvuv"):
    want[f"{prefix}realtime:pv:uv:{ws}:{t}:{i}:{e}"] = {"pv": pv, "uv": uv}
for t, e, i, pv in rows("topn"):
    want.setdefault(f"{prefix}realtime:topn:{t}:{e}", {})[i] = pv
for e, n in rows("online"):
    want[f"{prefix}realtime:online:{e}"] = n
def redis(*args):
    return subprocess.run(["redis-cli", *args], capture_output=True, text=True, check=True).stdout.splitlines()
have = {}
for key in redis("--scan", "--pattern", prefix + "*"):
    kind = redis("type", key)[0]
    if kind == "hash":
        v = redis("hgetall", key); have[key] = dict(zip(v[::2], v[1::2]))
    elif kind == "zset":
        v = redis("zrange", key, "0", "-1", "withscores"); have[key] = dict(zip(v[::2], v[1::2]))
    else:
        have[key] = redis("get", key)[0]
missing = sorted(set(want) - set(have)); extra = sorted(set(have) - set(want))
wrong = sorted(k for k in set(want) & set(have) if want[k] != have[k])
print(f"kill-test: Redis: {len(have)} keys, {len(want)} expected; missing {len(missing)}, extra {len(extra)}, different {len(wrong)}", file=sys.stderr)
for k in (missing + extra + wrong)[:10]:
    print(f"  {k}: want {want.get(k)} have {have.get(k)}", file=sys.stderr)
sys.exit(1 if missing or extra or wrong else 0)
PY
if [ "$fail" -ne 0 ]; then log "FAILED (seed $SEED; logs in $WORK)"; KEEP=1; exit 1; fi
log "PASSED: $kills kills, MySQL and Redis equal the batch run"
