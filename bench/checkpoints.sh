#!/usr/bin/env bash
# What checkpoints cost (release build, local profile, files only): stream_clean.sql (raw
# log files -> Parquet) and pv_uv.sql (Parquet -> Parquet, windows with COUNT DISTINCT
# state) in --mode stream, each once without checkpoints (`--set checkpoint.dir=`) and once
# with one every INTERVAL. Prints rows/s, peak RSS, the checkpoints taken and their
# durations (p50/max, from the job's log).
#
#   bench/checkpoints.sh [MILLION_LINES] [INTERVAL]     (defaults: 2 and 1s)
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/sluice-target).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$script_dir")
cd "$root"

million=${1:-2}
interval=${2:-1s}
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
build_release

lines=$(awk -v n="$million" 'BEGIN { printf "%d", n * 1000000 }')
data=$out/checkpoints-data
rm -rf "$data"
mkdir -p "$data/raw"
say "generating $lines lines (in order, one day)"
"$sluice" produce --to file --path "$data/raw/access.log" --lines "$lines" --seed 42 \
    --disorder-ms 0 >/dev/null

results=()
# run NAME JOB CHECKPOINT_ARGS...: one stream run into a fresh copy of the warehouse.
run() {
    local name=$1 job=$2
    shift 2
    local wh=$data/wh-$name
    rm -rf "$wh"
    mkdir -p "$wh"
    if [[ $job == pv_uv ]]; then cp -r "$data/wh-clean-off/dwd_access" "$wh/"; fi
    timed "checkpoints_$name" "$sluice" -v run "jobs/$job.sql" --mode stream --no-progress \
        --set "raw_path=$data/raw" --set "warehouse=$wh" "$@"
    local summary rows taken durations
    summary=$(tail -n 1 "$out/checkpoints_$name.out")
    echo "   $summary"
    rows=$(sed -n 's/^read \([0-9]*\) rows.*/\1/p' <<<"$summary")
    taken=$(grep -c "checkpoint [0-9]* complete" "$out/checkpoints_$name.out" || true)
    durations=$(sed -n 's/.*checkpoint [0-9]* complete in \([0-9]*\) ms.*/\1/p' \
        "$out/checkpoints_$name.out" | sort -n | awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "-"; exit }
            printf "%d / %d ms", v[int((NR + 1) / 2)], v[NR] }')
    results+=("$(awk -v n="$name" -v r="$rows" -v w="$WALL" -v m="$RSS_MB" -v t="$taken" \
        -v d="$durations" 'BEGIN {
        printf "%-16s %10d %8.2f %12.0f %8s %6d   %s", n, r, w, (w > 0 ? r / w : 0), m, t, d }')")
}

say "stream_clean.sql: raw files -> Parquet"
run clean-off stream_clean --set "checkpoint.dir="
run clean-on stream_clean --set "checkpoint.interval=$interval"
say "pv_uv.sql: Parquet -> windows -> Parquet"
run pv_uv-off pv_uv --set "checkpoint.dir="
run pv_uv-on pv_uv --set "checkpoint.interval=$interval"

say "results ($(nproc) cores, $lines lines, checkpoints every $interval where on)"
printf '%-16s %10s %8s %12s %8s %6s   %s\n' "run" "rows" "wall s" "rows/s" "RSS MB" "chkpts" \
    "checkpoint p50 / max"
printf '%s\n' "${results[@]}"
