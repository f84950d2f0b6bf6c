#!/usr/bin/env bash
# Whole-job benchmark: Sluice's batch jobs (clean + daily Top-N) against the same workload in
# DuckDB, on N million generated imooc log lines.
#
#   bench/run.sh [N_MILLION_LINES=1]
#
# Environment:
#   CARGO_TARGET_DIR   where cargo builds (default $HOME/.cache/sluice-target)
#   BENCH_SKIP_SLUICE  1 = run only the DuckDB half (the log file must exist already)
#
# Output goes to bench/out/ (the log file is generated once and kept).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$script_dir")
cd "$root"

n_million=${1:-1}
if ! [[ $n_million =~ ^[0-9]+([.][0-9]+)?$ ]] || [[ $n_million =~ ^0+([.]0*)?$ ]]; then
    echo "usage: bench/run.sh [N_MILLION_LINES=1]   (a positive number, e.g. 1, 5 or 0.1)" >&2
    exit 2
fi
lines=$(awk -v n="$n_million" 'BEGIN { printf "%d", n * 1000000 }')
skip_sluice=${BENCH_SKIP_SLUICE:-0}

# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
log=$out/access_${n_million}M.log
wh=$out/wh
duck_out=$out/duckdb
venv=bench/.venv

# 1. build
if [[ $skip_sluice != 1 ]]; then
    build_release
fi

# 2. the input, generated once
if [[ -s $log ]]; then
    say "input: $log (exists, $(wc -l <"$log") lines)"
else
    if [[ $skip_sluice == 1 ]]; then
        echo "BENCH_SKIP_SLUICE=1 needs an existing $log" >&2
        exit 1
    fi
    say "generating $lines lines into $log"
    "$sluice" produce --to file --path "$log.tmp" --mode random --lines "$lines" --seed 42
    mv "$log.tmp" "$log"
fi
bytes=$(stat -c %s "$log")
lines=$(wc -l <"$log")

# 3. Sluice
if [[ $skip_sluice != 1 ]]; then
    say "Sluice: jobs/clean.sql then jobs/daily_topn.sql"
    rm -rf "$wh"
    timed sluice_clean "$sluice" run jobs/clean.sql --set "raw_path=$log" --set "warehouse=$wh"
    s_clean=$WALL s_clean_rss=$RSS_MB
    timed sluice_topn "$sluice" run jobs/daily_topn.sql --set "warehouse=$wh"
    s_topn=$WALL s_topn_rss=$RSS_MB
fi

# 4. DuckDB
say "DuckDB: bench/duckdb_clean_topn.sql (same rules, no city lookup)"
if ! [[ -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check duckdb
fi
echo "   duckdb $("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)')"
timed duckdb "$venv/bin/python" bench/duckdb_run.py run bench/duckdb_clean_topn.sql "$log" "$duck_out"
d_total=$WALL d_rss=$RSS_MB
"$venv/bin/python" bench/duckdb_run.py summary "$duck_out"

# 5. the table
say "results: $lines lines, $((bytes / 1000000)) MB, $(nproc) cores"
row() { # name wall rss
    awk -v name="$1" -v wall="$2" -v rss="$3" -v lines="$lines" 'BEGIN {
        rate = wall > 0 ? lines / wall : 0
        printf "%-16s %10.2f %14.0f %14s\n", name, wall, rate, rss }'
}
printf '%-16s %10s %14s %14s\n' "" "wall s" "lines/s" "peak RSS MB"
if [[ $skip_sluice != 1 ]]; then
    s_total=$(awk -v a="$s_clean" -v b="$s_topn" 'BEGIN { printf "%.2f", a + b }')
    s_rss=$((s_clean_rss > s_topn_rss ? s_clean_rss : s_topn_rss))
    row "Sluice clean" "$s_clean" "$s_clean_rss"
    row "Sluice top-N" "$s_topn" "$s_topn_rss"
    row "Sluice total" "$s_total" "$s_rss"
fi
row "DuckDB total" "$d_total" "$d_rss"
if [[ $skip_sluice != 1 ]]; then
    awk -v s="$s_total" -v d="$d_total" 'BEGIN {
        if (d > 0) printf "\nSluice/DuckDB total time: %.2fx (below 1 = Sluice faster)\n", s / d }'
    echo
    "$venv/bin/python" bench/duckdb_run.py compare "$wh" "$duck_out" || true
fi
echo
echo "Note: DuckDB has no ip2region, so its workload skips the city lookup and the per-city"
echo "Top-3 (day_video_city_access_topn_stat) -- a handicap in DuckDB's favour. lines/s is raw"
echo "input lines over wall time for every row; RSS of 'Sluice total' is the larger of the two runs."
