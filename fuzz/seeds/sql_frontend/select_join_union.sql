WITH a AS (SELECT day, cms_id FROM dwd_access), b AS (SELECT day, cms_id, times FROM day_video_access_topn_stat)
SELECT a.day, b.times FROM a JOIN b ON a.cms_id = b.cms_id AND a.day = b.day
UNION ALL SELECT '20161110', 1 ORDER BY 1 LIMIT 10;
(VALUES (1, 'a'), (2, NULL));
