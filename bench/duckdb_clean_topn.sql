-- The Sluice batch workload (jobs/clean.sql + jobs/daily_topn.sql) written for DuckDB, as the
-- baseline of bench/run.sh. bench/duckdb_run.py replaces {{LOG}} (the raw nginx log) and
-- {{OUT}} (an output directory) before running it.
--
-- Handicap in DuckDB's favour: DuckDB has no ip2region, so there is no city lookup and no
-- per-city Top-3 (day_video_city_access_topn_stat); everything else follows the same rules.

-- 1. clean: raw lines -> DWD rows -> Parquet partitioned by day ----------------------------

-- One regex per line: $remote_addr - - [$time_local] "$request" $status $body_bytes_sent
-- "$http_host" "$http_referer" ... (quoted fields may contain spaces). The parse is
-- MATERIALIZED so that DuckDB runs the regex once per line, not once per use of a field.
COPY (
    WITH parsed AS MATERIALIZED (
        SELECT unnest(regexp_extract(
                   line,
                   '^(\S+) \S+ \S+ \[([^\]]+)\] "[^"]*" \d{3} (\d+|-) "[^"]*" "([^"]*)" ',
                   ['ip', 'ts', 'bytes', 'referer']))
        FROM read_csv('{{LOG}}', columns = {'line': 'VARCHAR'}, delim = chr(1), quote = '',
                      escape = '', header = false, auto_detect = false)
    ),
    ok AS (
        SELECT ip,
               ts,
               referer AS url,
               CASE WHEN bytes = '-' THEN 0 ELSE CAST(bytes AS BIGINT) END AS traffic,
               regexp_extract(referer, '^http://www\.imooc\.com/([^/?#]+)/', 1) AS cms_type,
               regexp_extract(referer, '^http://www\.imooc\.com/[^/?#]+/([^/?#]*)', 1) AS id_seg
        FROM parsed
        WHERE ip <> ''                                   -- the line parsed
          AND referer <> '' AND referer <> '-'
          AND NOT regexp_matches(ip, '^(10\.|127\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|0\.0\.0\.0$)')
    )
    SELECT url,
           cms_type,
           CAST(CASE
               WHEN cms_type IN ('video', 'code', 'learn') AND regexp_full_match(id_seg, '[0-9]{1,18}')
                   THEN CAST(id_seg AS BIGINT)
               WHEN cms_type = 'article' AND regexp_matches(id_seg, '^[0-9]{1,18}')
                   THEN CAST(regexp_extract(id_seg, '^[0-9]+') AS BIGINT)
               ELSE 0
           END AS BIGINT) AS cms_id,
           traffic,
           ip,
           strptime(ts, '%d/%b/%Y:%H:%M:%S %z') AS event_time,
           -- day in the log's own local time: straight from the text of $time_local
           strftime(strptime(substr(ts, 1, 11), '%d/%b/%Y'), '%Y%m%d') AS day
    FROM ok
) TO '{{OUT}}/dwd_access' (FORMAT PARQUET, PARTITION_BY (day), OVERWRITE_OR_IGNORE);

-- 2. daily Top-N from the DWD Parquet ---------------------------------------------------------

CREATE OR REPLACE TEMP VIEW dwd_access AS
SELECT * FROM read_parquet('{{OUT}}/dwd_access/*/*.parquet', hive_partitioning = true);

COPY (
    SELECT day, cms_id, times FROM (
        SELECT day, cms_id, count(*) AS times,
               row_number() OVER (PARTITION BY day ORDER BY count(*) DESC, cms_id ASC) AS rn
        FROM dwd_access WHERE cms_type = 'video' AND cms_id <> 0
        GROUP BY day, cms_id)
    WHERE rn <= 10 ORDER BY day, times DESC, cms_id
) TO '{{OUT}}/day_video_access_topn_stat.parquet' (FORMAT PARQUET);

COPY (
    SELECT day, cms_id, traffics FROM (
        SELECT day, cms_id, CAST(sum(traffic) AS BIGINT) AS traffics,
               row_number() OVER (PARTITION BY day ORDER BY sum(traffic) DESC, cms_id ASC) AS rn
        FROM dwd_access WHERE cms_type = 'video' AND cms_id <> 0
        GROUP BY day, cms_id)
    WHERE rn <= 10 ORDER BY day, traffics DESC, cms_id
) TO '{{OUT}}/day_video_traffics_topn_stat.parquet' (FORMAT PARQUET);

COPY (
    SELECT day, cms_id, times FROM (
        SELECT day, cms_id, count(*) AS times,
               row_number() OVER (PARTITION BY day ORDER BY count(*) DESC, cms_id ASC) AS rn
        FROM dwd_access WHERE cms_type = 'article' AND cms_id <> 0
        GROUP BY day, cms_id)
    WHERE rn <= 10 ORDER BY day, times DESC, cms_id
) TO '{{OUT}}/day_article_access_topn_stat.parquet' (FORMAT PARQUET);

COPY (
    SELECT day, cms_id, times FROM (
        SELECT day, cms_id, count(*) AS times,
               row_number() OVER (PARTITION BY day ORDER BY count(*) DESC, cms_id ASC) AS rn
        FROM dwd_access WHERE cms_type = 'code' AND cms_id <> 0
        GROUP BY day, cms_id)
    WHERE rn <= 10 ORDER BY day, times DESC, cms_id
) TO '{{OUT}}/day_code_access_topn_stat.parquet' (FORMAT PARQUET);

COPY (
    SELECT day, ip, times FROM (
        SELECT day, ip, count(*) AS times,
               row_number() OVER (PARTITION BY day ORDER BY count(*) DESC, ip ASC) AS rn
        FROM dwd_access WHERE cms_id <> 0
        GROUP BY day, ip)
    WHERE rn <= 10 ORDER BY day, times DESC, ip
) TO '{{OUT}}/day_ip_access_topn_stat.parquet' (FORMAT PARQUET);
