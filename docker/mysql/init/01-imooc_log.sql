-- Schema of the imooc_log database for the full stack (docker/docker-compose.yml).
-- MySQL runs every *.sql in /docker-entrypoint-initdb.d once, when its data volume is empty.
-- Columns follow catalog/tables.yaml: STRING -> VARCHAR, BIGINT -> BIGINT, INT -> INT,
-- TIMESTAMP_LTZ(3) -> DATETIME(3) (sluice writes it in UTC). The Top-N tables keep the
-- original Spark jobs' names, columns and keys. Sluice's MySQL sink would create missing
-- tables itself (create_table = true); declaring them here fixes the types and lengths.

CREATE DATABASE IF NOT EXISTS imooc_log CHARACTER SET utf8mb4;
USE imooc_log;

-- ADS: daily Top-N reports (jobs/daily_topn.sql; the stack profile replaces each day it writes).

CREATE TABLE IF NOT EXISTS day_video_access_topn_stat (
  day     VARCHAR(8) NOT NULL,
  cms_id  BIGINT     NOT NULL,
  times   BIGINT     NOT NULL,
  PRIMARY KEY (day, cms_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Top 3 videos per day and province (the column is named city, as in the original jobs).
CREATE TABLE IF NOT EXISTS day_video_city_access_topn_stat (
  day         VARCHAR(8)  NOT NULL,
  cms_id      BIGINT      NOT NULL,
  city        VARCHAR(64) NOT NULL,
  times       BIGINT      NOT NULL,
  times_rank  INT         NOT NULL,
  PRIMARY KEY (day, cms_id, city)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS day_video_traffics_topn_stat (
  day       VARCHAR(8) NOT NULL,
  cms_id    BIGINT     NOT NULL,
  traffics  BIGINT     NOT NULL,
  PRIMARY KEY (day, cms_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS day_article_access_topn_stat (
  day     VARCHAR(8) NOT NULL,
  cms_id  BIGINT     NOT NULL,
  times   BIGINT     NOT NULL,
  PRIMARY KEY (day, cms_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS day_code_access_topn_stat (
  day     VARCHAR(8) NOT NULL,
  cms_id  BIGINT     NOT NULL,
  times   BIGINT     NOT NULL,
  PRIMARY KEY (day, cms_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- VARCHAR(45): room for an IPv6 address.
CREATE TABLE IF NOT EXISTS day_ip_access_topn_stat (
  day    VARCHAR(8)  NOT NULL,
  ip     VARCHAR(45) NOT NULL,
  times  BIGINT      NOT NULL,
  PRIMARY KEY (day, ip)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- The real-time board (jobs/pv_uv.sql, jobs/hot_courses.sql, jobs/online_users.sql,
-- jobs/region_pv.sql).
-- window_end is the end of the window in UTC; the sinks upsert on the primary key, so a job
-- restarted from a checkpoint rewrites the same rows.

-- PV and UV per course, 1- and 5-minute tumbling windows side by side (window_size '1m' / '5m').
CREATE TABLE IF NOT EXISTS realtime_pv_uv_stat (
  window_end   DATETIME(3) NOT NULL,
  window_size  VARCHAR(8)  NOT NULL,
  cms_type     VARCHAR(32) NOT NULL,
  cms_id       BIGINT      NOT NULL,
  pv           BIGINT      NOT NULL,
  uv           BIGINT      NOT NULL,
  PRIMARY KEY (window_end, window_size, cms_type, cms_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Top 10 courses per type, 5-minute windows sliding by 1 minute.
CREATE TABLE IF NOT EXISTS realtime_hot_course_stat (
  window_end  DATETIME(3) NOT NULL,
  cms_type    VARCHAR(32) NOT NULL,
  cms_id      BIGINT      NOT NULL,
  pv          BIGINT      NOT NULL,
  hot_rank    INT         NOT NULL,
  PRIMARY KEY (window_end, cms_type, cms_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Distinct client IPs, 5-minute windows sliding by 1 minute.
CREATE TABLE IF NOT EXISTS realtime_online_user_stat (
  window_end    DATETIME(3) NOT NULL,
  online_users  BIGINT      NOT NULL,
  PRIMARY KEY (window_end)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- PV and UV per province, 1-minute tumbling windows (the board's map).
CREATE TABLE IF NOT EXISTS realtime_region_pv_stat (
  window_end  DATETIME(3) NOT NULL,
  province    VARCHAR(64) NOT NULL,
  pv          BIGINT      NOT NULL,
  uv          BIGINT      NOT NULL,
  PRIMARY KEY (window_end, province)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
