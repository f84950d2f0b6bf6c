//! Flink group windows (TUMBLE, HOP) in batch runs: every event lands in exactly the windows
//! that contain it.

mod common;

use common::{sluice, sluice_ok, stderr_of};

fn run_windows(select: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.json");
    std::fs::write(
        &events,
        [
            r#"{"ts": "2016-11-10T00:00:10Z", "k": "a"}"#,
            r#"{"ts": "2016-11-10T00:00:50Z", "k": "a"}"#,
            r#"{"ts": "2016-11-10T00:01:10Z", "k": "b"}"#,
            r#"{"ts": "2016-11-10T00:02:30Z", "k": "a"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let job = dir.path().join("windows.sql");
    std::fs::write(
        &job,
        format!(
            "CREATE TABLE events (ts TIMESTAMP_LTZ(3), k STRING) WITH ('connector' = 'file', 'path' = '{}', 'format' = 'json');\n\
             CREATE TABLE counts (window_end STRING, k STRING, n BIGINT) WITH ('connector' = 'file', 'path' = '{}', 'format' = 'csv');\n\
             INSERT INTO counts {select};",
            events.display(),
            out.display()
        ),
    )
    .unwrap();
    sluice_ok(&["run", job.to_str().unwrap(), "--no-progress"]);
    let csv = std::fs::read_to_string(out.join("part-00000.csv")).unwrap();
    let mut rows: Vec<String> = csv.lines().skip(1).map(str::to_string).collect();
    rows.sort();
    rows
}

#[test]
fn tumble_counts_each_event_once() {
    let rows = run_windows(
        "SELECT CAST(TUMBLE_END(ts, INTERVAL '1' MINUTE) AS STRING), k, COUNT(*) FROM events \
         GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), k",
    );
    assert_eq!(
        rows,
        [
            "2016-11-10T00:01:00Z,a,2",
            "2016-11-10T00:02:00Z,b,1",
            "2016-11-10T00:03:00Z,a,1"
        ]
    );
}

#[test]
fn hop_counts_each_event_in_every_window_holding_it() {
    let rows = run_windows(
        "SELECT CAST(window_end AS STRING), 'all', COUNT(*) FROM events \
         GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE)",
    );
    assert_eq!(
        rows,
        [
            "2016-11-10T00:01:00Z,all,2",
            "2016-11-10T00:02:00Z,all,3",
            "2016-11-10T00:03:00Z,all,2",
            "2016-11-10T00:04:00Z,all,1"
        ]
    );
}

#[test]
fn session_windows_close_after_the_gap() {
    let rows = run_windows(
        "SELECT CAST(SESSION_END(ts, INTERVAL '1' MINUTE) AS STRING), k, COUNT(*) FROM events \
         GROUP BY SESSION(ts, INTERVAL '1' MINUTE), k",
    );
    assert_eq!(
        rows,
        [
            "2016-11-10T00:01:50Z,a,2",
            "2016-11-10T00:02:10Z,b,1",
            "2016-11-10T00:03:30Z,a,1"
        ]
    );
}

#[test]
fn filtered_rows_do_not_join_sessions() {
    let rows = run_windows(
        "SELECT CAST(window_start AS STRING), k, COUNT(*) FROM events WHERE ts > TIMESTAMP '2016-11-10T00:00:20Z' \
         GROUP BY SESSION(ts, INTERVAL '1' MINUTE), k",
    );
    assert_eq!(
        rows,
        [
            "2016-11-10T00:00:50Z,a,1",
            "2016-11-10T00:01:10Z,b,1",
            "2016-11-10T00:02:30Z,a,1"
        ]
    );
}

#[test]
fn bad_window_arguments_point_at_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("hop.sql");
    std::fs::write(
        &job,
        "INSERT INTO access_rejects\nSELECT 'x', 'y' FROM dwd_access GROUP BY HOP(event_time, INTERVAL '2' MINUTE, INTERVAL '5' MINUTE);",
    )
    .unwrap();
    let out = sluice(&["run", job.to_str().unwrap(), "--no-progress"]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("hop.sql:2:42: error: HOP size INTERVAL '5' MINUTE must be a whole multiple"),
        "{err}"
    );
}
