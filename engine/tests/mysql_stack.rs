//! The `stack` profile: the daily Top-N tables land in a real MariaDB/MySQL
//! (127.0.0.1:3306, root, no password), and a rerun upserts instead of duplicating.

mod common;

use common::{TestDb, query_csv, sluice, sluice_ok, stderr_of, testdata};

#[test]
fn daily_topn_lands_in_mysql_and_reruns_upsert() {
    let db = TestDb::new("topn");
    let wh = tempfile::tempdir().unwrap();
    let wh_set = format!("warehouse={}", wh.path().display());
    let url_set = format!("mysql_url={}", db.url());
    common::run_clean(wh.path(), &testdata("10000_access.log"));
    let stack = ["--profile", "stack", "--set", url_set.as_str()];
    for run in 0..2 {
        if run == 1 {
            // A row the rerun must replace: the day is rewritten as a whole, as Spark's job did.
            db.query("INSERT INTO day_video_access_topn_stat VALUES ('20161110', 999999, 1)");
        }
        let mut args = vec![
            "run",
            "jobs/daily_topn.sql",
            "--no-progress",
            "--set",
            &wh_set,
        ];
        args.extend_from_slice(&stack);
        if run == 1 {
            // The rerun streams: the sink commits as rows come, and still replaces the day.
            args.extend_from_slice(&["--mode", "stream"]);
        }
        sluice_ok(&args);
    }
    let stale = db.query("SELECT COUNT(*) FROM day_video_access_topn_stat WHERE cms_id = 999999");
    assert_eq!(stale[0].get::<i64, _>(0), Some(0));
    assert_eq!(
        query_csv(
            wh.path(),
            &stack,
            "SELECT count(*) FROM day_video_access_topn_stat"
        ),
        vec![vec!["10".to_string()]]
    );
    // The same rows as the local run, once each.
    sluice_ok(&[
        "run",
        "jobs/daily_topn.sql",
        "--no-progress",
        "--set",
        &wh_set,
    ]);
    for (table, key) in [
        ("day_video_access_topn_stat", "cms_id"),
        ("day_video_city_access_topn_stat", "cms_id, city"),
        ("day_video_traffics_topn_stat", "cms_id"),
        ("day_article_access_topn_stat", "cms_id"),
        ("day_code_access_topn_stat", "cms_id"),
        ("day_ip_access_topn_stat", "ip"),
    ] {
        let sql = format!("SELECT * FROM {table} ORDER BY day, {key}");
        let local = query_csv(wh.path(), &[], &sql);
        let in_mysql = query_csv(wh.path(), &stack, &sql);
        assert!(!local.is_empty(), "{table}");
        assert_eq!(in_mysql, local, "{table}");
        let rows = db.query(&format!("SELECT COUNT(*) FROM `{table}`"));
        let n: i64 = rows[0].get(0).unwrap();
        assert_eq!(n as usize, local.len(), "{table} in MySQL");
    }
    let keys = db.query(
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'day_video_city_access_topn_stat' \
         AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
    );
    let keys: Vec<String> = keys
        .into_iter()
        .map(|r| r.get::<String, _>(0).unwrap())
        .collect();
    assert_eq!(keys, ["day", "cms_id", "city"]);
}

/// A write MySQL refuses for what it says (here a column the table lacks) fails the job at
/// once, naming the column; only failures a retry can fix (a lost connection) are retried.
#[test]
fn a_column_mysql_lacks_fails_at_once_instead_of_being_retried() {
    let db = TestDb::new("badcol");
    db.create();
    // Made by someone else, without the count column the job writes.
    db.query(
        "CREATE TABLE day_video_access_topn_stat (day VARCHAR(8), cms_id BIGINT, PRIMARY KEY (day, cms_id))",
    );
    let wh = tempfile::tempdir().unwrap();
    common::run_clean(wh.path(), &testdata("10000_access.log"));
    let out = sluice(&[
        "run",
        "jobs/daily_topn.sql",
        "--mode",
        "stream",
        "--no-progress",
        "--profile",
        "stack",
        "--set",
        &format!("warehouse={}", wh.path().display()),
        "--set",
        &format!("mysql_url={}", db.url()),
    ]);
    let err = stderr_of(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("Unknown column"), "{err}");
    assert!(err.contains("not retried"), "{err}");
    assert!(!err.contains("retrying in"), "{err}");
}
