-- Hot courses (DESIGN §3): accesses per course over 5-minute windows sliding by 1 minute,
-- the top 10 of each course type per window (window Top-N; ties break by id).

INSERT INTO realtime_hot_course_stat
SELECT window_end, cms_type, cms_id, pv, hot_rank FROM (
  SELECT window_end, cms_type, cms_id, pv,
         ROW_NUMBER() OVER (PARTITION BY window_end, cms_type ORDER BY pv DESC, cms_id) AS hot_rank
  FROM (
    SELECT HOP_END(event_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) AS window_end,
           cms_type, cms_id, COUNT(*) AS pv
    FROM access_events
    WHERE cms_id <> 0
    GROUP BY HOP(event_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE), cms_type, cms_id
  )
) WHERE hot_rank <= 10;
