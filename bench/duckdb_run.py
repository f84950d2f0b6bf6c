#!/usr/bin/env python3
"""Runs bench/duckdb_clean_topn.sql in DuckDB (the baseline of bench/run.sh).

usage: duckdb_run.py run     SQL_FILE LOG_FILE OUT_DIR   # the timed workload
       duckdb_run.py summary OUT_DIR                     # row counts and the top rows (untimed)
       duckdb_run.py compare WAREHOUSE OUT_DIR           # Sluice's Top-N tables vs DuckDB's
"""

import glob
import os
import shutil
import sys

import duckdb


TABLES = (
    "day_video_access_topn_stat",
    "day_video_traffics_topn_stat",
    "day_article_access_topn_stat",
    "day_code_access_topn_stat",
    "day_ip_access_topn_stat",
)


def sql_str(s: str) -> str:
    return s.replace("'", "''")


def run(sql_file: str, log: str, out: str) -> None:
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    with open(sql_file, encoding="utf-8") as f:
        sql = f.read()
    sql = sql.replace("{{LOG}}", sql_str(os.path.abspath(log))).replace(
        "{{OUT}}", sql_str(os.path.abspath(out))
    )
    con = duckdb.connect()
    con.execute(sql)
    con.close()


def summary(out: str) -> None:
    con = duckdb.connect()
    base = sql_str(os.path.abspath(out))
    dwd = con.execute(
        f"SELECT count(*), count(DISTINCT day), count(DISTINCT ip), "
        f"count(*) FILTER (WHERE cms_type = 'video'), count(*) FILTER (WHERE cms_type = 'code') "
        f"FROM read_parquet('{base}/dwd_access/*/*.parquet', hive_partitioning = true)"
    ).fetchall()[0]
    print(
        f"  dwd_access: {dwd[0]} rows, {dwd[1]} day(s), {dwd[2]} distinct ips, "
        f"{dwd[3]} video rows, {dwd[4]} code rows"
    )
    for table in TABLES:
        rows = con.sql(f"SELECT * FROM read_parquet('{base}/{table}.parquet')").fetchall()
        head = ", ".join(f"{r[1]}:{r[2]}" for r in rows[:3])
        print(f"  {table}: {len(rows)} rows; top: {head}")
    con.close()


def rows_of(con, files: list) -> set:
    """(day, key, value) of Parquet files, as strings, whatever the column types."""
    names = ", ".join(f"'{sql_str(f)}'" for f in files)
    rel = con.execute(f"SELECT * FROM read_parquet([{names}], hive_partitioning = true, union_by_name = true)")
    cols = [d[0] for d in rel.description]
    data = rel.fetchall()
    want = [c for c in ("day", "cms_id", "ip", "times", "traffics") if c in cols]
    idx = [cols.index(c) for c in want]
    return {tuple(str(r[i]) for i in idx) for r in data}


def compare(wh: str, out: str) -> int:
    """Best effort: finds Sluice's Parquet output of each Top-N table under the warehouse and
    compares its rows with DuckDB's (the tables are small: 10 rows a day)."""
    con = duckdb.connect()
    differ = 0
    print("Top-N tables, Sluice vs DuckDB:")
    for table in TABLES:
        files = sorted(
            f
            for f in glob.glob(os.path.join(wh, "**", "*.parquet"), recursive=True)
            if table in os.path.relpath(f, wh)
        )
        if not files:
            print(f"  {table}: no Parquet output found under {wh} (not compared)")
            continue
        try:
            ours = rows_of(con, files)
            theirs = rows_of(con, [os.path.join(out, f"{table}.parquet")])
        except duckdb.Error as e:
            print(f"  {table}: could not read ({e})")
            continue
        if ours == theirs:
            print(f"  {table}: same {len(ours)} rows")
        else:
            differ += 1
            print(
                f"  {table}: DIFFER ({len(ours)} rows vs {len(theirs)}; "
                f"only Sluice: {sorted(ours - theirs)[:3]}, only DuckDB: {sorted(theirs - ours)[:3]})"
            )
    con.close()
    return 1 if differ else 0


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == "summary":
        summary(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
