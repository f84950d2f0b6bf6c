#!/usr/bin/env bash
# Stream benchmark: jobs/pv_uv.sql in --mode stream, from the generator (cleaned events,
# 1- and 5-minute windows, COUNT and COUNT DISTINCT) into a memory sink, release build.
# Prints events/s and peak RSS for each size, so a flat RSS across sizes shows that state
# is bounded by the open windows, not by the input.
#
#   bench/stream.sh [N_MILLION_LINES...]     (default: 1 5; about 45% of the lines are events)
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/sluice-target).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$script_dir")
cd "$root"

sizes=("$@")
if [[ ${#sizes[@]} -eq 0 ]]; then sizes=(1 5); fi
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
build_release

results=()
for n in "${sizes[@]}"; do
    events=$(awk -v n="$n" 'BEGIN { printf "%d", n * 1000000 }')
    say "pv_uv.sql --mode stream over $events generated lines"
    timed "stream_pv_uv_${n}M" "$sluice" run jobs/pv_uv.sql --mode stream --profile bench \
        --no-progress --set "events=$events"
    summary=$(tail -n 1 "$out/stream_pv_uv_${n}M.out")
    echo "$summary"
    # The generator's `rows` counts log lines; the events are the lines clean.sql keeps.
    got=$(sed -n 's/^read \([0-9]*\) rows.*/\1/p' <<<"$summary")
    results+=("$(awk -v l="$events" -v e="$got" -v w="$WALL" -v r="$RSS_MB" 'BEGIN {
        printf "%-12d %-12d %10.2f %14.0f %12s", l, e, w, (w > 0 ? e / w : 0), r }')")
done

say "results ($(nproc) cores; the job runs as one pipeline)"
printf '%-12s %-12s %10s %14s %12s\n' "lines" "events" "wall s" "events/s" "peak RSS MB"
printf '%s\n' "${results[@]}"
