-- group windows in a bare SELECT, with a view in between
CREATE VIEW ev AS SELECT * FROM access_events WHERE cms_id <> 0;
SELECT TUMBLE_START(event_time, INTERVAL '10' SECOND) AS ws, COUNT(*) FROM ev
GROUP BY TUMBLE(event_time, INTERVAL '10' SECOND);
SELECT SESSION_END(event_time, INTERVAL '30' SECOND), ip, COUNT(*) FROM access_events
GROUP BY SESSION(event_time, INTERVAL '30' SECOND), ip
