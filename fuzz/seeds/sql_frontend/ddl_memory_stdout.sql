CREATE TABLE IF NOT EXISTS out1 (k BIGINT, n BIGINT) WITH ('connector' = 'stdout');
CREATE TABLE m (k BIGINT) WITH ('connector' = 'memory');
SET datafusion.execution.batch_size = 1024;
INSERT INTO out1 SELECT cms_id, COUNT(*) FROM dwd_access GROUP BY cms_id;
