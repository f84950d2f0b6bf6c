#!/usr/bin/env bash
# The main job on the embedded default (files in, Parquet out, no servers):
#   scripts/demo.sh [raw log file or glob]
# Without an input, the built-in generator first writes a realistic day of logs
# (LINES, default 1,000,000). Then clean + daily Top-N run and the Top-N tables print.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sluice-target}"
WAREHOUSE="${WAREHOUSE:-warehouse}"

scripts/build-deps.sh
scripts/fetch-ip2region.sh
cargo build --release -p sluice
sluice="$CARGO_TARGET_DIR/release/sluice"

raw="${1:-}"
if [ -z "$raw" ]; then
    raw="$WAREHOUSE/raw/access.log"
    if [ ! -f "$raw" ]; then
        "$sluice" produce --to file --path "$raw" --mode random --lines "${LINES:-1000000}"
    fi
fi

"$sluice" run jobs/clean.sql --set raw_path="$raw" --set warehouse="$WAREHOUSE"
"$sluice" run jobs/daily_topn.sql --set warehouse="$WAREHOUSE"

for table in day_video_access_topn_stat day_video_traffics_topn_stat day_code_access_topn_stat \
             day_article_access_topn_stat day_ip_access_topn_stat; do
    echo "== $table"
    "$sluice" query --set warehouse="$WAREHOUSE" "SELECT * FROM $table ORDER BY day, 3 DESC, 2"
done
echo "== day_video_city_access_topn_stat (first 15 rows)"
"$sluice" query --set warehouse="$WAREHOUSE" \
    "SELECT * FROM day_video_city_access_topn_stat ORDER BY day, city, times_rank LIMIT 15"
