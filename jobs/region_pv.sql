-- PV and UV per province (the `city` column: ip2region's province, e.g. 广东省, 北京; empty
-- for an address abroad without one or not in the database) over 1-minute tumbling windows,
-- for the board's map.

INSERT INTO realtime_region_pv_stat
SELECT TUMBLE_END(event_time, INTERVAL '1' MINUTE) AS window_end,
       COALESCE(city, '') AS province,
       COUNT(*) AS pv,
       COUNT(DISTINCT ip) AS uv
FROM access_events
GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), COALESCE(city, '');
