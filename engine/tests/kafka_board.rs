//! The live board end to end over real connections: the real sample goes to a Kafka topic
//! (a real Kafka-protocol broker, `scripts/kafka-dev.sh`), `stream_clean.sql` and the three
//! board jobs run in stream mode with the `stack` profile (Kafka in and out, Redis and
//! MariaDB sinks), and every key and row they write must equal what the same jobs compute
//! in batch mode from the file.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;
use std::time::{Duration, Instant};

use common::{
    TestDb, kafka_broker, produce_to_kafka, query_csv, sluice_ok, spawn_logged, testdata,
};
use redis::Commands;

const REDIS: &str = "redis://127.0.0.1:6379/0";

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

/// The test's Redis keys, deleted at the end.
struct RedisKeys {
    conn: redis::Connection,
    prefix: String,
}

impl RedisKeys {
    fn keys(&mut self) -> BTreeSet<String> {
        let pattern = format!("{}*", self.prefix);
        self.conn
            .scan_match::<_, String>(&pattern)
            .unwrap()
            .map(|k| k.expect("a Redis key"))
            .collect()
    }
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        for key in self.keys() {
            let _: Result<(), _> = self.conn.del(&key);
        }
    }
}

/// A valid course access long after the sample: its arrival moves every partition's
/// watermark past the sample's windows (its own windows stay open).
const CLOSING_LINE: &str = r#"106.39.41.166 - - [10/Nov/2016:00:20:00 +0800] "POST /course/ajaxmediauser/ HTTP/1.1" 200 54 "www.imooc.com" "http://www.imooc.com/video/8701" mid=8701&time=120.0010000000002&learn_time=16.1 "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.22 Safari/537.36 SE 2.X MetaSr 1.0" "-" 10.100.136.64:80 200 0.016 0.016"#;

#[test]
fn live_board_over_kafka_equals_the_batch_run() {
    let brokers = kafka_broker();
    let tag = format!("t{}", std::process::id());
    let db = TestDb::new("board");
    let prefix = format!("sluice-test:{tag}:");
    let mut redis_keys = RedisKeys {
        conn: redis::Client::open(REDIS)
            .unwrap()
            .get_connection()
            .expect("Redis at 127.0.0.1:6379"),
        prefix: prefix.clone(),
    };
    // The real sample plus two lines that do not parse (the dead-letter topic must get them).
    let input = tempfile::NamedTempFile::new().unwrap();
    let mut text = std::fs::read_to_string(testdata("10000_access.log")).unwrap();
    text.push_str("this is not an access log line\n1.2.3.4 - - [99/Nov/2016:00:01:02 +0800] \"GET / HTTP/1.1\" 200 1\n");
    std::fs::write(input.path(), text).unwrap();

    // What batch mode computes from the file (local profile).
    let expected_wh = tempfile::tempdir().unwrap();
    let wh_set = format!("warehouse={}", expected_wh.path().display());
    common::run_clean(expected_wh.path(), input.path());
    for job in [
        "jobs/pv_uv.sql",
        "jobs/hot_courses.sql",
        "jobs/online_users.sql",
    ] {
        sluice_ok(&["run", job, "--no-progress", "--set", &wh_set]);
    }

    // The raw lines into Kafka, then the closing line.
    let raw_topic = format!("{tag}-raw");
    produce_to_kafka(&brokers, &raw_topic, input.path());
    let closing = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(closing.path(), format!("{CLOSING_LINE}\n")).unwrap();
    produce_to_kafka(&brokers, &raw_topic, closing.path());

    // The four stream jobs, as the stack runs them.
    let stream_wh = tempfile::tempdir().unwrap();
    let sets = [
        format!("kafka_brokers={brokers}"),
        "kafka_startup_mode=earliest-offset".to_string(),
        format!("raw_topic={raw_topic}"),
        format!("events_topic={tag}-events"),
        format!("dead_letter_topic={tag}-dlq"),
        format!("redis_key_prefix={prefix}"),
        format!("mysql_url={}", db.url()),
        "idle_timeout_ms=1000".to_string(),
        format!("warehouse={}", stream_wh.path().display()),
    ];
    let mut stack: Vec<&str> = vec!["--profile", "stack"];
    for s in &sets {
        stack.extend_from_slice(&["--set", s]);
    }
    let mut jobs = Jobs(Vec::new());
    let logs = tempfile::tempdir().unwrap();
    let log_of = |i: usize| logs.path().join(format!("job{i}.log"));
    let job_files = [
        "jobs/stream_clean.sql",
        "jobs/pv_uv.sql",
        "jobs/hot_courses.sql",
        "jobs/online_users.sql",
    ];
    for (i, job) in job_files.into_iter().enumerate() {
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

    // Expected Redis content, from the batch rows.
    let mut expected: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in query_csv(
        expected_wh.path(),
        &[],
        "SELECT window_size, cms_type, cms_id, CAST(window_end AS BIGINT), pv, uv FROM realtime_pv_uv_stat",
    ) {
        let key = format!("{prefix}realtime:pv:uv:{}:{}:{}:{}", r[0], r[1], r[2], r[3]);
        expected.insert(
            key,
            vec![("pv".into(), r[4].clone()), ("uv".into(), r[5].clone())],
        );
    }
    for r in query_csv(
        expected_wh.path(),
        &[],
        "SELECT cms_type, CAST(window_end AS BIGINT), cms_id, pv FROM realtime_hot_course_stat",
    ) {
        let key = format!("{prefix}realtime:topn:{}:{}", r[0], r[1]);
        expected
            .entry(key)
            .or_default()
            .push((r[2].clone(), r[3].clone()));
    }
    for r in query_csv(
        expected_wh.path(),
        &[],
        "SELECT CAST(window_end AS BIGINT), online_users FROM realtime_online_user_stat",
    ) {
        expected.insert(
            format!("{prefix}realtime:online:{}", r[0]),
            vec![(String::new(), r[1].clone())],
        );
    }
    assert!(
        expected.len() > 2000,
        "the sample gives {} keys",
        expected.len()
    );

    // Wait until every window is out (or a job died, or too long).
    let tables = [
        (
            "realtime_pv_uv_stat",
            "window_end, window_size, cms_type, cms_id",
        ),
        ("realtime_hot_course_stat", "window_end, cms_type, cms_id"),
        ("realtime_online_user_stat", "window_end"),
    ];
    let expected_rows: usize = tables
        .iter()
        .map(|(t, _)| query_csv(expected_wh.path(), &[], &format!("SELECT * FROM {t}")).len())
        .sum();
    let mysql_rows = || -> usize {
        tables
            .iter()
            .map(|(t, _)| {
                let exists = db.query(&format!(
                    "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{t}'"
                ))[0]
                    .get::<i64, _>(0)
                    .unwrap_or(0);
                if exists == 0 {
                    return 0;
                }
                db.query(&format!("SELECT COUNT(*) FROM `{t}`"))[0].get::<i64, _>(0).unwrap_or(0) as usize
            })
            .sum()
    };
    let started = Instant::now();
    loop {
        let keys = redis_keys.keys().len();
        let rows = mysql_rows();
        if keys >= expected.len() && rows >= expected_rows {
            break;
        }
        for (i, child) in jobs.0.iter_mut().enumerate() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("stream job {i} exited early: {status}\n{}", logs_text());
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "after 180 s: {keys} of {} Redis keys, {rows} of {expected_rows} MySQL rows\n{}",
            expected.len(),
            logs_text()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Nothing more arrives later (no window is written twice into new keys or rows).
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(mysql_rows(), expected_rows);

    // Redis: exactly the expected keys and values, each with a TTL.
    let have = redis_keys.keys();
    let want: BTreeSet<String> = expected.keys().cloned().collect();
    assert_eq!(
        have.difference(&want).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "keys nobody expected"
    );
    assert_eq!(
        want.difference(&have).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "missing keys"
    );
    let conn = &mut redis_keys.conn;
    for (key, fields) in &expected {
        let ttl: i64 = conn.ttl(key).unwrap();
        assert!(ttl > 0 && ttl <= 86_400, "{key}: TTL {ttl}");
        if key.contains(":pv:uv:") {
            let got: BTreeMap<String, String> = conn.hgetall(key).unwrap();
            assert_eq!(
                got,
                fields.iter().cloned().collect::<BTreeMap<_, _>>(),
                "{key}"
            );
        } else if key.contains(":topn:") {
            let got: Vec<(String, String)> = conn.zrange_withscores(key, 0, -1).unwrap();
            let got: BTreeMap<String, String> = got.into_iter().collect();
            assert_eq!(
                got,
                fields.iter().cloned().collect::<BTreeMap<_, _>>(),
                "{key}"
            );
        } else {
            let got: String = conn.get(key).unwrap();
            assert_eq!(got, fields[0].1, "{key}");
        }
    }
    // 1- and 5-minute windows ending at the same time are both there.
    assert!(
        want.iter().any(|k| k.contains(":pv:uv:1m:"))
            && want.iter().any(|k| k.contains(":pv:uv:5m:"))
    );

    // MySQL: the same rows as the batch run, once each.
    let db_set = format!("mysql_url={}", db.url());
    for (table, key) in tables {
        let sql = format!("SELECT * FROM {table} ORDER BY {key}");
        let local = query_csv(expected_wh.path(), &[], &sql);
        let in_mysql = query_csv(
            expected_wh.path(),
            &["--profile", "stack", "--set", &db_set],
            &sql,
        );
        assert_eq!(in_mysql, local, "{table}");
    }

    // The dead-letter topic holds exactly the rejected lines (a bounded read of the topic).
    let dlq = format!("dead_letter_topic={tag}-dlq");
    let kafka = format!("kafka_brokers={brokers}");
    let mut dead: Vec<String> = query_csv(
        expected_wh.path(),
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
        expected_wh.path(),
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
