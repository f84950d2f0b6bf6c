//! The `generator` source and the `stdout` sink, end to end through a job.

mod common;

use common::{sluice, sluice_ok, stderr_of};

fn job(dir: &std::path::Path, sql: &str) -> String {
    let path = dir.join("job.sql");
    std::fs::write(&path, sql).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn generated_lines_parse_and_print() {
    let dir = tempfile::tempdir().unwrap();
    let file = job(
        dir.path(),
        "CREATE TABLE gen (line STRING) WITH ('connector' = 'generator', 'rows' = '5000', 'seed' = '3');\n\
         CREATE TABLE out (cms_type STRING, n BIGINT) WITH ('connector' = 'stdout', 'format' = 'csv');\n\
         INSERT INTO out SELECT cms_type(parse_access_log(line)['referer']) AS t, COUNT(*) FROM gen \
         WHERE parse_access_log(line) IS NOT NULL GROUP BY 1 ORDER BY 1;",
    );
    let first = sluice_ok(&["run", &file, "--no-progress"]);
    let mut lines = first.lines();
    assert_eq!(lines.next(), Some("cms_type,n"));
    let counts: Vec<(String, u64)> = lines
        .take_while(|l| !l.starts_with("read "))
        .map(|l| {
            let (t, n) = l.split_once(',').unwrap();
            (t.to_string(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(
        counts.iter().map(|c| c.1).sum::<u64>(),
        5000,
        "every generated line parses: {counts:?}"
    );
    assert!(
        counts.iter().any(|(t, n)| t == "video" && *n > 300),
        "{counts:?}"
    );
    assert!(first.contains("read 5000 rows"), "{first}");
    // The same seed gives the same lines.
    assert_eq!(
        sluice_ok(&["run", &file, "--no-progress"])
            .lines()
            .take(counts.len() + 1)
            .collect::<Vec<_>>(),
        first.lines().take(counts.len() + 1).collect::<Vec<_>>()
    );
}

#[test]
fn generator_needs_a_row_count_and_stdout_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = job(
        dir.path(),
        "CREATE TABLE gen (line STRING) WITH ('connector' = 'generator');\nINSERT INTO access_rejects SELECT line, 'x' FROM gen;",
    );
    let out = sluice(&["run", &file, "--no-progress"]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("the generator needs 'rows'"),
        "{}",
        stderr_of(&out)
    );

    let file = job(
        dir.path(),
        "CREATE TABLE p (line STRING) WITH ('connector' = 'stdout');\nINSERT INTO access_rejects SELECT line, 'x' FROM p;",
    );
    let out = sluice(&["run", &file, "--no-progress"]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("it can be written (INSERT INTO), not read"),
        "{}",
        stderr_of(&out)
    );
}
