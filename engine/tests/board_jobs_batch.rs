//! The real-time board's jobs (pv_uv, hot_courses, online_users) run in batch mode over a
//! generated day of events, checked against direct queries of the same events.

mod common;

use common::{query_csv, sluice_ok};

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.log");
    common::produce(&raw, 20000, 7, 0);
    let wh = format!("warehouse={}", dir.path().join("wh").display());
    common::run_clean(&dir.path().join("wh"), &raw);
    for job in [
        "jobs/pv_uv.sql",
        "jobs/hot_courses.sql",
        "jobs/online_users.sql",
    ] {
        sluice_ok(&["run", job, "--no-progress", "--set", &wh]);
    }
    dir
}

fn num(rows: &[Vec<String>]) -> i64 {
    rows[0][0].parse().unwrap()
}

#[test]
fn board_jobs_agree_with_direct_queries() {
    let dir = setup();
    let wh = dir.path().join("wh");
    let q = |sql: &str| query_csv(&wh, &[], sql);

    // Every course access is counted once per window size.
    let accesses = num(&q("SELECT count(*) FROM dwd_access WHERE cms_id <> 0"));
    assert!(accesses > 1000, "{accesses}");
    for size in ["1m", "5m"] {
        let pv = num(&q(&format!(
            "SELECT sum(pv) FROM realtime_pv_uv_stat WHERE window_size = '{size}'"
        )));
        assert_eq!(pv, accesses, "{size}");
    }
    assert_eq!(
        num(&q(
            "SELECT count(*) FROM realtime_pv_uv_stat WHERE uv > pv OR uv < 1"
        )),
        0
    );

    // Online users: distinct IPs of the 5 minutes before each window end.
    let windows = q(
        "SELECT CAST(window_end AS BIGINT), online_users FROM realtime_online_user_stat ORDER BY 1",
    );
    assert!(windows.len() > 1000, "{} windows", windows.len());
    for w in windows.iter().step_by(97) {
        let end_ms: i64 = w[0].parse::<i64>().unwrap();
        let direct = num(&q(&format!(
            "SELECT count(DISTINCT ip) FROM dwd_access \
             WHERE CAST(event_time AS BIGINT) >= {} AND CAST(event_time AS BIGINT) < {end_ms}",
            end_ms - 300_000
        )));
        assert_eq!(
            w[1].parse::<i64>().unwrap(),
            direct,
            "window ending {end_ms}"
        );
    }

    // Hot courses: at most 10 per window and type, ranked by accesses, the top one right.
    assert_eq!(
        num(&q(
            "SELECT count(*) FROM (SELECT window_end, cms_type FROM realtime_hot_course_stat \
                GROUP BY window_end, cms_type HAVING count(*) > 10 OR max(hot_rank) <> count(*))"
        )),
        0
    );
    let top = q(
        "SELECT CAST(window_end AS BIGINT), cms_id, pv FROM realtime_hot_course_stat \
                 WHERE cms_type = 'video' AND hot_rank = 1 ORDER BY pv DESC, 1 LIMIT 1",
    );
    let end_ms: i64 = top[0][0].parse().unwrap();
    let direct = q(&format!(
        "SELECT cms_id, count(*) FROM dwd_access WHERE cms_type = 'video' AND cms_id <> 0 \
         AND CAST(event_time AS BIGINT) >= {} AND CAST(event_time AS BIGINT) < {end_ms} \
         GROUP BY cms_id ORDER BY 2 DESC, 1 LIMIT 1",
        end_ms - 300_000
    ));
    assert_eq!(direct[0], vec![top[0][1].clone(), top[0][2].clone()]);
}
