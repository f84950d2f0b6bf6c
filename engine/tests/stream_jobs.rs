//! Golden tests: every shipped job gives the same rows with `--mode batch` and
//! `--mode stream`, on the real sample and on a generated stream whose events arrive up to
//! 30 s out of order.

mod common;

use std::path::Path;

use common::{query_csv, sluice_ok, testdata};

/// What each job writes.
const JOBS: &[(&str, &[&str])] = &[
    ("jobs/clean.sql", &["dwd_access", "access_rejects"]),
    (
        "jobs/daily_topn.sql",
        &[
            "day_video_access_topn_stat",
            "day_video_city_access_topn_stat",
            "day_video_traffics_topn_stat",
            "day_article_access_topn_stat",
            "day_code_access_topn_stat",
            "day_ip_access_topn_stat",
        ],
    ),
    ("jobs/pv_uv.sql", &["realtime_pv_uv_stat"]),
    ("jobs/hot_courses.sql", &["realtime_hot_course_stat"]),
    ("jobs/online_users.sql", &["realtime_online_user_stat"]),
    ("jobs/region_pv.sql", &["realtime_region_pv_stat"]),
];

fn run(job: &str, mode: &str, warehouse: &Path, extra: &[String]) -> String {
    let wh = format!("warehouse={}", warehouse.display());
    let mut args = vec![
        "run",
        job,
        "--mode",
        mode,
        "--no-progress",
        "--set",
        wh.as_str(),
    ];
    for e in extra {
        args.push("--set");
        args.push(e.as_str());
    }
    sluice_ok(&args)
}

/// Every row of a table, sorted (row order is not part of a table's contents).
fn rows(warehouse: &Path, table: &str) -> Vec<Vec<String>> {
    let mut rows = query_csv(warehouse, &[], &format!("SELECT * FROM {table}"));
    rows.sort();
    rows
}

/// Runs every job in both modes, each mode in its own warehouse, and compares every table.
fn assert_batch_equals_stream(dir: &Path, raw: &Path, stream_sets: &[String]) {
    let batch = dir.join("batch");
    let stream = dir.join("stream");
    let raw_set = format!("raw_path={}", raw.display());
    for (job, tables) in JOBS {
        let mut sets = vec![raw_set.clone()];
        run(job, "batch", &batch, &sets);
        sets.extend_from_slice(stream_sets);
        let summary = run(job, "stream", &stream, &sets);
        assert!(
            !summary.contains("| late"),
            "{job}: rows were late although the watermark allows the disorder: {summary}"
        );
        for table in *tables {
            let (b, s) = (rows(&batch, table), rows(&stream, table));
            if *table != "access_rejects" {
                assert!(!b.is_empty(), "{job}: {table} is empty");
            }
            assert_eq!(b.len(), s.len(), "{job}: {table}: row counts differ");
            assert!(b == s, "{job}: {table}: batch and stream rows differ");
        }
    }
}

#[test]
fn every_job_gives_the_same_rows_in_both_modes_on_the_real_sample() {
    let dir = tempfile::tempdir().unwrap();
    assert_batch_equals_stream(dir.path(), &testdata("10000_access.log"), &[]);
    // The sample spans 00:01:02–00:01:53: two 1-minute windows and one 5-minute window.
    let pv = rows(&dir.path().join("stream"), "realtime_pv_uv_stat");
    let sizes: Vec<&str> = pv.iter().map(|r| r[1].as_str()).collect();
    assert!(sizes.contains(&"1m") && sizes.contains(&"5m"), "{sizes:?}");
}

#[test]
fn every_job_gives_the_same_rows_in_both_modes_with_30_s_of_disorder() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.log");
    common::produce(&raw, 20000, 11, 30000);
    assert_batch_equals_stream(dir.path(), &raw, &["watermark_delay_s=30".to_string()]);
}

#[test]
fn rows_behind_the_watermark_are_counted_as_late() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.log");
    common::produce(&raw, 5000, 5, 30000);
    let wh = dir.path().join("wh");
    let raw_set = format!("raw_path={}", raw.display());
    run("jobs/clean.sql", "stream", &wh, &[raw_set]);
    // A row is late once the watermark passed the end of its 1-minute window. The watermark
    // moves after each batch; small batches let it move between out-of-order rows.
    let job = dir.path().join("pv_uv_small_batches.sql");
    let pv_uv = std::fs::read_to_string(common::repo_root().join("jobs/pv_uv.sql")).unwrap();
    std::fs::write(
        &job,
        format!("SET datafusion.execution.batch_size = 1;\n{pv_uv}"),
    )
    .unwrap();
    let summary = run(
        job.to_str().unwrap(),
        "stream",
        &wh,
        &[
            "watermark_delay_s=0".to_string(),
            "late_output=late_events".to_string(),
        ],
    );
    let late: u64 = summary
        .split("| late ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no late count in: {summary}"));
    assert!(late > 0 && late < 5000, "{summary}");
    // Each late row is in the side output, with its statement and event time.
    let side = query_csv(
        &wh,
        &[],
        "SELECT count(*), count(event_time), min(statement) FROM late_events",
    );
    assert_eq!(side[0][0].parse::<u64>().unwrap(), late, "{side:?}");
    assert_eq!(side[0][1].parse::<u64>().unwrap(), late, "{side:?}");
    assert!(
        side[0][2].contains("INSERT INTO realtime_pv_uv_stat"),
        "{side:?}"
    );
}

/// What stream mode cannot run incrementally is refused at plan time, saying what to write.
#[test]
fn unsupported_stream_queries_are_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let source = "CREATE TABLE endless (event_time TIMESTAMP_LTZ(3), cms_id BIGINT,
         WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND)
       WITH ('connector' = 'generator', 'format' = 'events');
       CREATE TABLE out_rows (a BIGINT, b BIGINT) WITH ('connector' = 'stdout');\n";
    let cases = [
        (
            "INSERT INTO out_rows SELECT cms_id, COUNT(*) FROM endless GROUP BY cms_id;",
            "would never emit",
            "TUMBLE",
        ),
        (
            "INSERT INTO out_rows SELECT cms_id, COUNT(*) AS n FROM endless
             GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), cms_id ORDER BY n;",
            "global ORDER BY",
            "PARTITION BY window_end",
        ),
        (
            "INSERT INTO out_rows SELECT cms_id, ROW_NUMBER() OVER (ORDER BY n DESC) FROM (
               SELECT cms_id, COUNT(*) AS n FROM endless
               GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), cms_id);",
            "partitioned by the window",
            "PARTITION BY window_end",
        ),
        (
            "INSERT INTO out_rows SELECT DISTINCT cms_id, 1 FROM endless;",
            "DISTINCT over a stream",
            "TUMBLE",
        ),
        (
            "INSERT INTO out_rows SELECT cms_id, 1 FROM endless ORDER BY cms_id;",
            "never completes",
            "PARTITION BY window_end",
        ),
    ];
    for (i, (insert, message, hint)) in cases.iter().enumerate() {
        let job = dir.path().join(format!("bad_{i}.sql"));
        std::fs::write(&job, format!("{source}{insert}")).unwrap();
        let out = common::sluice(&["explain", "--mode", "stream", job.to_str().unwrap()]);
        let stderr = common::stderr_of(&out);
        assert!(!out.status.success(), "case {i} was accepted");
        assert!(stderr.contains(message), "case {i}: {stderr}");
        assert!(stderr.contains(hint), "case {i}: {stderr}");
        assert!(
            stderr.contains(&format!("bad_{i}.sql:")),
            "case {i}: {stderr}"
        );
    }
}

/// SESSION windows (a key's events less than the gap apart) close when the watermark passes
/// the last event plus the gap: the same sessions as the batch plan, under 20 s of disorder.
#[test]
fn session_windows_give_the_same_rows_in_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.log");
    common::produce(&raw, 20000, 9, 20000);
    let wh = dir.path().join("wh");
    run(
        "jobs/clean.sql",
        "stream",
        &wh,
        &[format!("raw_path={}", raw.display())],
    );
    let job = dir.path().join("sessions.sql");
    std::fs::write(
        &job,
        "CREATE TABLE session_stats (cms_id BIGINT, s TIMESTAMP_LTZ(3), e TIMESTAMP_LTZ(3),
           n BIGINT, uv BIGINT)
         WITH ('connector' = 'file', 'format' = 'parquet', 'path' = '${warehouse}/${out}');
         INSERT INTO session_stats
         SELECT cms_id, SESSION_START(event_time, INTERVAL '10' MINUTE),
                SESSION_END(event_time, INTERVAL '10' MINUTE), COUNT(*), COUNT(DISTINCT ip)
         FROM access_events WHERE cms_id <> 0
         GROUP BY SESSION(event_time, INTERVAL '10' MINUTE), cms_id;",
    )
    .unwrap();
    let show = dir.path().join("show.sql");
    std::fs::write(
        &show,
        "CREATE TABLE session_stats (cms_id BIGINT, s TIMESTAMP_LTZ(3), e TIMESTAMP_LTZ(3),
           n BIGINT, uv BIGINT)
         WITH ('connector' = 'file', 'format' = 'parquet', 'path' = '${warehouse}/${out}');
         SELECT * FROM session_stats ORDER BY cms_id, s;",
    )
    .unwrap();
    let mut shown = Vec::new();
    for (mode, out) in [("batch", "sessions_batch"), ("stream", "sessions_stream")] {
        let sets = [format!("out={out}"), "watermark_delay_s=30".to_string()];
        run(job.to_str().unwrap(), mode, &wh, &sets);
        let printed = run(show.to_str().unwrap(), "batch", &wh, &sets);
        // Drop the summary line (timings differ).
        let rows: Vec<String> = printed
            .lines()
            .filter(|l| !l.starts_with("read "))
            .map(str::to_string)
            .collect();
        assert!(rows.len() > 1000, "{mode}: {} lines", rows.len());
        shown.push(rows);
    }
    assert!(shown[0] == shown[1], "batch and stream sessions differ");
}

#[test]
fn state_past_its_limit_stops_the_job_naming_the_operator_and_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let raw_set = format!("raw_path={}", testdata("10000_access.log").display());
    run("jobs/clean.sql", "batch", &wh, &[raw_set]);
    let wh_set = format!("warehouse={}", wh.display());
    let out = common::sluice(&[
        "run",
        "jobs/pv_uv.sql",
        "--mode",
        "stream",
        "--no-progress",
        "--set",
        &wh_set,
        "--set",
        "state.max_bytes=16kb",
    ]);
    let err = common::stderr_of(&out);
    assert!(!out.status.success(), "{err}");
    for needle in [
        "jobs/pv_uv.sql",
        "window aggregate #1",
        "TUMBLE(1m)",
        "state.max_bytes = 16.00 KiB",
    ] {
        assert!(err.contains(needle), "'{needle}' not in: {err}");
    }
    // Within the limit the summary says how much state the job held.
    let summary = run(
        "jobs/pv_uv.sql",
        "stream",
        &wh,
        &["state.max_bytes=1gb".into()],
    );
    assert!(summary.contains("| state peak "), "{summary}");
}
