//! The live board end to end over real connections: the real sample goes to a Kafka topic
//! (a real Kafka-protocol broker, `scripts/kafka-dev.sh`), `stream_clean.sql` and the four
//! board jobs run in stream mode with the `stack` profile (Kafka in and out, Redis and
//! MariaDB sinks), and every key and row they write must equal what the same jobs compute
//! in batch mode from the file.

mod common;

use std::process::Child;
use std::time::Duration;

use common::board::{BOARD_JOBS, CLOSING_LINE, ExpectedBoard, RedisKeys, stack_args};
use common::{TestDb, kafka_broker, produce_to_kafka, query_csv, spawn_logged, testdata};

/// Stream jobs killed when the test ends, however it ends.
struct Jobs(Vec<Child>);

impl Drop for Jobs {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn live_board_over_kafka_equals_the_batch_run() {
    let brokers = kafka_broker();
    let tag = format!("t{}", std::process::id());
    let db = TestDb::new("board");
    let prefix = format!("sluice-test:{tag}:");
    let mut redis_keys = RedisKeys::new(&prefix);
    // The real sample plus two lines that do not parse (the dead-letter topic must get them).
    let input = tempfile::NamedTempFile::new().unwrap();
    let mut text = std::fs::read_to_string(testdata("10000_access.log")).unwrap();
    text.push_str("this is not an access log line\n1.2.3.4 - - [99/Nov/2016:00:01:02 +0800] \"GET / HTTP/1.1\" 200 1\n");
    std::fs::write(input.path(), text).unwrap();

    // What batch mode computes from the file (local profile).
    let expected = ExpectedBoard::compute(input.path(), &prefix);

    // The raw lines into Kafka, then the closing line.
    let raw_topic = format!("{tag}-raw");
    produce_to_kafka(&brokers, &raw_topic, input.path());
    let closing = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(closing.path(), format!("{CLOSING_LINE}\n")).unwrap();
    produce_to_kafka(&brokers, &raw_topic, closing.path());

    // The four stream jobs, as the stack runs them.
    let stream_wh = tempfile::tempdir().unwrap();
    let wh_set = format!("warehouse={}", stream_wh.path().display());
    let stack_args = stack_args(&brokers, &tag, &prefix, &db);
    let mut stack: Vec<&str> = stack_args.iter().map(String::as_str).collect();
    stack.extend(["--set", &wh_set]);
    let mut jobs = Jobs(Vec::new());
    let logs = tempfile::tempdir().unwrap();
    let log_of = |i: usize| logs.path().join(format!("job{i}.log"));
    let job_files: Vec<&str> = std::iter::once("jobs/stream_clean.sql")
        .chain(BOARD_JOBS)
        .collect();
    for (i, job) in job_files.iter().copied().enumerate() {
        let mut args = vec!["-v", "run", job, "--mode", "stream", "--no-progress"];
        args.extend_from_slice(&stack);
        let log = std::fs::File::create(log_of(i)).unwrap();
        jobs.0.push(spawn_logged(&args, log));
    }
    let logs_text = || -> String {
        (0..job_files.len())
            .map(|i| {
                let text = std::fs::read_to_string(log_of(i)).unwrap_or_default();
                format!("--- {}:\n{text}", job_files[i])
            })
            .collect()
    };

    // Wait until every window is out (or a job died, or too long).
    expected.wait_until_reached(&db, &mut redis_keys, || {
        for (i, child) in jobs.0.iter_mut().enumerate() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("stream job {i} exited early: {status}\n{}", logs_text());
            }
        }
        logs_text()
    });
    // Nothing more arrives later (no window is written twice into new keys or rows), and
    // Redis and MySQL hold exactly the batch run's keys and rows.
    std::thread::sleep(Duration::from_secs(2));
    expected.check(&db, &mut redis_keys);

    // The dead-letter topic holds exactly the rejected lines (a bounded read of the topic).
    let dlq = format!("dead_letter_topic={tag}-dlq");
    let kafka = format!("kafka_brokers={brokers}");
    let mut dead: Vec<String> = query_csv(
        expected.warehouse.path(),
        &[
            "--profile",
            "stack",
            "--set",
            &dlq,
            "--set",
            &kafka,
            "--set",
            "kafka_startup_mode=earliest-offset",
        ],
        "SELECT line, reason FROM access_dead_letters",
    )
    .into_iter()
    .map(|r| r.join(","))
    .collect();
    let mut rejected: Vec<String> = query_csv(
        expected.warehouse.path(),
        &[],
        "SELECT line, reason FROM access_rejects",
    )
    .into_iter()
    .map(|r| r.join(","))
    .collect();
    dead.sort();
    rejected.sort();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(dead, rejected);
    for (i, child) in jobs.0.iter_mut().enumerate() {
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "stream job {i} is still running"
        );
    }
    drop(jobs);
}
