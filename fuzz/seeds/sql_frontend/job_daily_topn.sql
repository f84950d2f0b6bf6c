-- daily Top-N reports (ADS) from the cleaned rows, as the original Spark jobs computed them.
-- Top 10 per day unless stated; ties break by id ascending so results are deterministic.
-- Course tables count real courses only (cms_id 0 means the URL carried no id).

INSERT INTO day_video_access_topn_stat
SELECT day, cms_id, times FROM (
  SELECT day, cms_id, COUNT(*) AS times,
         ROW_NUMBER() OVER (PARTITION BY day ORDER BY COUNT(*) DESC, cms_id) AS rn
  FROM dwd_access
  WHERE cms_type = 'video' AND cms_id <> 0
  GROUP BY day, cms_id
) WHERE rn <= 10;

-- Top 3 videos per day and province (the `city` column).
INSERT INTO day_video_city_access_topn_stat
SELECT day, cms_id, city, times, times_rank FROM (
  SELECT day, cms_id, city, COUNT(*) AS times,
         ROW_NUMBER() OVER (PARTITION BY day, city ORDER BY COUNT(*) DESC, cms_id) AS times_rank
  FROM dwd_access
  WHERE cms_type = 'video' AND cms_id <> 0 AND city IS NOT NULL
  GROUP BY day, city, cms_id
) WHERE times_rank <= 3;

INSERT INTO day_video_traffics_topn_stat
SELECT day, cms_id, traffics FROM (
  SELECT day, cms_id, SUM(traffic) AS traffics,
         ROW_NUMBER() OVER (PARTITION BY day ORDER BY SUM(traffic) DESC, cms_id) AS rn
  FROM dwd_access
  WHERE cms_type = 'video' AND cms_id <> 0 AND traffic IS NOT NULL
  GROUP BY day, cms_id
) WHERE rn <= 10;

INSERT INTO day_article_access_topn_stat
SELECT day, cms_id, times FROM (
  SELECT day, cms_id, COUNT(*) AS times,
         ROW_NUMBER() OVER (PARTITION BY day ORDER BY COUNT(*) DESC, cms_id) AS rn
  FROM dwd_access
  WHERE cms_type = 'article' AND cms_id <> 0
  GROUP BY day, cms_id
) WHERE rn <= 10;

INSERT INTO day_code_access_topn_stat
SELECT day, cms_id, times FROM (
  SELECT day, cms_id, COUNT(*) AS times,
         ROW_NUMBER() OVER (PARTITION BY day ORDER BY COUNT(*) DESC, cms_id) AS rn
  FROM dwd_access
  WHERE cms_type = 'code' AND cms_id <> 0
  GROUP BY day, cms_id
) WHERE rn <= 10;

-- Top 10 client IPs per day by course accesses (rows with a course id), as the original job counted.
INSERT INTO day_ip_access_topn_stat
SELECT day, ip, times FROM (
  SELECT day, ip, COUNT(*) AS times,
         ROW_NUMBER() OVER (PARTITION BY day ORDER BY COUNT(*) DESC, ip) AS rn
  FROM dwd_access
  WHERE cms_id <> 0
  GROUP BY day, ip
) WHERE rn <= 10;
