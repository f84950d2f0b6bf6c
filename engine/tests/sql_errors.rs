//! A bad job file stops with file:line:col, the offending line, a hint and a non-zero exit.

mod common;

use common::{sluice, stderr_of};

fn run_job(sql: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("bad_job.sql");
    std::fs::write(&job, sql).unwrap();
    let wh = format!("warehouse={}", dir.path().join("wh").display());
    let out = sluice(&["run", job.to_str().unwrap(), "--no-progress", "--set", &wh]);
    (out.status.code().unwrap_or(-1), stderr_of(&out))
}

#[test]
fn unknown_table_points_at_it() {
    let (code, err) =
        run_job("-- a job\nINSERT INTO access_rejects\nSELECT line, 'x' FROM no_such_table;\n");
    assert_ne!(code, 0);
    assert!(
        err.contains("bad_job.sql:3:23: error: table 'no_such_table' not found"),
        "{err}"
    );
    assert!(err.contains("hint: declare it with CREATE TABLE"), "{err}");
    assert!(
        err.contains("raw_access_log"),
        "known tables are listed: {err}"
    );
}

#[test]
fn unknown_function_points_at_the_call() {
    let (code, err) = run_job(
        "INSERT INTO access_rejects\nSELECT line, parse_acess_log(line) FROM raw_access_log;",
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("bad_job.sql:2:14: error: Invalid function 'parse_acess_log'"),
        "{err}"
    );
    assert!(
        err.contains("parse_access_log"),
        "suggests the right name: {err}"
    );
}

#[test]
fn unknown_option_points_at_the_key() {
    let (code, err) = run_job(
        "CREATE TABLE out_t (a STRING) WITH (\n  'connector' = 'file',\n  'path' = '/tmp/x',\n  'fromat' = 'csv'\n);\nINSERT INTO out_t SELECT line FROM raw_access_log;",
    );
    assert_ne!(code, 0);
    assert!(err.contains("bad_job.sql:4:3: error:"), "{err}");
    assert!(err.contains("unknown option 'fromat'"), "{err}");
    assert!(err.contains("did you mean 'format'"), "{err}");
}

#[test]
fn syntax_error_points_at_the_token() {
    let (code, err) = run_job("INSERT INTO access_rejects\nSELECT line,, 'x' FROM raw_access_log;");
    assert_ne!(code, 0);
    assert!(err.contains("bad_job.sql:2:"), "{err}");
}

#[test]
fn two_inserts_into_one_table_are_refused() {
    let (code, err) = run_job(
        "INSERT INTO access_rejects SELECT line, 'a' FROM raw_access_log;\nINSERT INTO access_rejects SELECT line, 'b' FROM raw_access_log;",
    );
    assert_ne!(code, 0);
    assert!(
        err.contains(
            "bad_job.sql:2:1: error: 'access_rejects' is already written by the INSERT at line 1"
        ),
        "{err}"
    );
    assert!(err.contains("UNION ALL"), "{err}");
}

#[test]
fn a_bad_option_value_points_at_its_key() {
    let (code, err) = run_job(
        "CREATE TABLE out_t (a STRING) WITH (\n  'connector' = 'file',\n  'path' = '/tmp/x',\n  'format' = 'csv',\n  'csv.delimiter' = ';;'\n);\nINSERT INTO out_t SELECT line FROM raw_access_log;",
    );
    assert_ne!(code, 0);
    assert!(err.contains("bad_job.sql:5:3: error:"), "{err}");
    assert!(
        err.contains("csv.delimiter ';;' must be a single byte"),
        "{err}"
    );
}
