-- Real-time PV/UV per course (DESIGN §3): 1- and 5-minute tumbling windows, UV = distinct
-- client IPs. Both window sizes land in one table, told apart by window_size, so they never
-- overwrite each other. A batch run computes the same windows over the stored events.

INSERT INTO realtime_pv_uv_stat
SELECT TUMBLE_END(event_time, INTERVAL '1' MINUTE) AS window_end, '1m' AS window_size,
       cms_type, cms_id, COUNT(*) AS pv, COUNT(DISTINCT ip) AS uv
FROM access_events
WHERE cms_id <> 0
GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), cms_type, cms_id
UNION ALL
SELECT TUMBLE_END(event_time, INTERVAL '5' MINUTE) AS window_end, '5m' AS window_size,
       cms_type, cms_id, COUNT(*) AS pv, COUNT(DISTINCT ip) AS uv
FROM access_events
WHERE cms_id <> 0
GROUP BY TUMBLE(event_time, INTERVAL '5' MINUTE), cms_type, cms_id;
