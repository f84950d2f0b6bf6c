-- clean: raw nginx lines (ODS) -> cleaned detail rows (DWD), Parquet partitioned by day.
--
-- Each line is parsed once (the `parsed` view feeds both INSERTs). Lines that do not parse
-- go to access_rejects with the reason; internal source IPs and lines without a referer
-- URL are dropped by rule, as the original Spark job did.

CREATE VIEW parsed AS
SELECT line, parse_access_log(line) AS log
FROM raw_access_log;

INSERT INTO dwd_access
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

INSERT INTO access_rejects
SELECT line, access_log_error(line) AS reason
FROM parsed
WHERE log IS NULL;
