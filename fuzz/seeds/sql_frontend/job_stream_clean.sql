-- stream_clean: raw nginx lines -> cleaned access events, as the seed system's Flink job did
-- between the `raw-access-log` and `imooc-access-log` topics (profile `stack`). Locally it
-- reads the raw files and writes the DWD files the board jobs read.
--
-- Same rules as clean.sql: lines that do not parse go to the dead-letter table with the
-- reason; internal source IPs and lines without a referer URL are dropped.

CREATE VIEW parsed AS
SELECT line, parse_access_log(line) AS log
FROM raw_access_log;

INSERT INTO access_events
SELECT
  url,
  cms_type(url)     AS cms_type,
  cms_id(url)       AS cms_id,
  log['bytes']      AS traffic,
  log['ip']         AS ip,
  loc['province']   AS city,
  loc['country']    AS country,
  loc['city']       AS city_name,
  loc['isp']        AS isp,
  log['time']       AS event_time,
  log['day']        AS day
FROM (
  SELECT log, log['referer'] AS url, ip_location(log['ip']) AS loc
  FROM parsed
  WHERE log IS NOT NULL
    AND log['referer'] <> '-'
    AND NOT is_internal_ip(log['ip'])
);

INSERT INTO access_dead_letters
SELECT line, access_log_error(line) AS reason
FROM parsed
WHERE log IS NULL;
