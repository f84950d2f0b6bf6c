-- Online users (DESIGN §3): distinct client IPs over 5-minute windows sliding by 1 minute.

INSERT INTO realtime_online_user_stat
SELECT HOP_END(event_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) AS window_end,
       COUNT(DISTINCT ip) AS online_users
FROM access_events
GROUP BY HOP(event_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE);
