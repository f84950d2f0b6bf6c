CREATE TABLE clicks (
  ip STRING NOT NULL,
  ts TIMESTAMP_LTZ(3),
  PRIMARY KEY (ip) NOT ENFORCED,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) PARTITIONED BY (ip) WITH ('connector' = 'file', 'path' = '${warehouse}/clicks', 'format' = 'parquet');
INSERT INTO clicks SELECT log['ip'], log['time'] FROM (SELECT parse_access_log(line) AS log FROM raw_access_log);
