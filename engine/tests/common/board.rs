//! The live board's expected content, from batch runs of the board jobs, and the check
//! that Redis and MySQL hold exactly it: shared by the tests that run the board jobs in
//! stream mode over Kafka (`kafka_board.rs`, `server.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use redis::Commands;

use super::{TestDb, query_csv, sluice_ok};

pub const REDIS: &str = "redis://127.0.0.1:6379/0";

/// The jobs that read the cleaned events and write the board.
pub const BOARD_JOBS: [&str; 4] = [
    "jobs/pv_uv.sql",
    "jobs/hot_courses.sql",
    "jobs/online_users.sql",
    "jobs/region_pv.sql",
];

/// A valid course access long after the sample: its arrival moves every partition's
/// watermark past the sample's windows (its own windows stay open).
pub const CLOSING_LINE: &str = r#"106.39.41.166 - - [10/Nov/2016:00:20:00 +0800] "POST /course/ajaxmediauser/ HTTP/1.1" 200 54 "www.imooc.com" "http://www.imooc.com/video/8701" mid=8701&time=120.0010000000002&learn_time=16.1 "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.22 Safari/537.36 SE 2.X MetaSr 1.0" "-" 10.100.136.64:80 200 0.016 0.016"#;

/// The board's MySQL tables and the columns that order their rows.
pub const TABLES: [(&str, &str); 4] = [
    (
        "realtime_pv_uv_stat",
        "window_end, window_size, cms_type, cms_id",
    ),
    ("realtime_hot_course_stat", "window_end, cms_type, cms_id"),
    ("realtime_online_user_stat", "window_end"),
    ("realtime_region_pv_stat", "window_end, province"),
];

/// `--profile stack` and the `--set`s that point the board jobs at the test's broker,
/// topics (named after `tag`), Redis prefix and database; `idle_timeout_ms=1000`, so a line
/// long after the rest closes every window once the other partitions fall idle.
pub fn stack_args(brokers: &str, tag: &str, prefix: &str, db: &TestDb) -> Vec<String> {
    let sets = [
        format!("kafka_brokers={brokers}"),
        "kafka_startup_mode=earliest-offset".to_string(),
        format!("raw_topic={tag}-raw"),
        format!("events_topic={tag}-events"),
        format!("dead_letter_topic={tag}-dlq"),
        format!("redis_key_prefix={prefix}"),
        format!("mysql_url={}", db.url()),
        "idle_timeout_ms=1000".to_string(),
    ];
    let mut args = vec!["--profile".to_string(), "stack".to_string()];
    for s in sets {
        args.extend(["--set".to_string(), s]);
    }
    args
}

/// A test's Redis keys (under its prefix), deleted at the end.
pub struct RedisKeys {
    pub conn: redis::Connection,
    pub prefix: String,
}

impl RedisKeys {
    pub fn new(prefix: &str) -> RedisKeys {
        RedisKeys {
            conn: redis::Client::open(REDIS)
                .unwrap()
                .get_connection()
                .expect("Redis at 127.0.0.1:6379"),
            prefix: prefix.to_string(),
        }
    }

    pub fn keys(&mut self) -> BTreeSet<String> {
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

/// What the board jobs compute in batch mode from a raw log, kept in a warehouse of its own.
pub struct ExpectedBoard {
    pub warehouse: tempfile::TempDir,
    /// Redis key (under the test's prefix) -> its fields or members and values.
    pub keys: BTreeMap<String, Vec<(String, String)>>,
    /// Rows of the three MySQL tables together.
    pub rows: usize,
}

impl ExpectedBoard {
    /// Cleans `raw` and runs the board jobs over it in batch mode (local profile).
    pub fn compute(raw: &Path, prefix: &str) -> ExpectedBoard {
        let warehouse = tempfile::tempdir().unwrap();
        let wh_set = format!("warehouse={}", warehouse.path().display());
        super::run_clean(warehouse.path(), raw);
        for job in BOARD_JOBS {
            sluice_ok(&["run", job, "--no-progress", "--set", &wh_set]);
        }
        let query = |sql: &str| query_csv(warehouse.path(), &[], sql);
        let mut keys: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for r in query(
            "SELECT window_size, cms_type, cms_id, CAST(window_end AS BIGINT), pv, uv FROM realtime_pv_uv_stat",
        ) {
            let key = format!("{prefix}realtime:pv:uv:{}:{}:{}:{}", r[0], r[1], r[2], r[3]);
            keys.insert(
                key,
                vec![("pv".into(), r[4].clone()), ("uv".into(), r[5].clone())],
            );
        }
        for r in query(
            "SELECT cms_type, CAST(window_end AS BIGINT), cms_id, pv FROM realtime_hot_course_stat",
        ) {
            let key = format!("{prefix}realtime:topn:{}:{}", r[0], r[1]);
            keys.entry(key)
                .or_default()
                .push((r[2].clone(), r[3].clone()));
        }
        for r in
            query("SELECT CAST(window_end AS BIGINT), online_users FROM realtime_online_user_stat")
        {
            keys.insert(
                format!("{prefix}realtime:online:{}", r[0]),
                vec![(String::new(), r[1].clone())],
            );
        }
        for r in
            query("SELECT CAST(window_end AS BIGINT), province, pv FROM realtime_region_pv_stat")
        {
            let key = format!("{prefix}realtime:region:{}", r[0]);
            keys.entry(key)
                .or_default()
                .push((r[1].clone(), r[2].clone()));
        }
        assert!(keys.len() > 2000, "the sample gives {} keys", keys.len());
        let rows = TABLES
            .iter()
            .map(|(t, _)| query(&format!("SELECT * FROM {t}")).len())
            .sum();
        ExpectedBoard {
            warehouse,
            keys,
            rows,
        }
    }

    /// Whether Redis and MySQL have at least as many keys and rows as expected.
    pub fn reached(&self, db: &TestDb, redis: &mut RedisKeys) -> bool {
        redis.keys().len() >= self.keys.len() && mysql_rows(db) >= self.rows
    }

    /// Waits until Redis and MySQL have every expected key and row, at most 180 s. `jobs`
    /// is asked each round what the jobs said (and may fail at once, for a job that died).
    pub fn wait_until_reached(
        &self,
        db: &TestDb,
        redis: &mut RedisKeys,
        mut jobs: impl FnMut() -> String,
    ) {
        let started = Instant::now();
        while !self.reached(db, redis) {
            let said = jobs();
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "after 180 s: {} of {} Redis keys, {} of {} MySQL rows\n{said}",
                redis.keys().len(),
                self.keys.len(),
                mysql_rows(db),
                self.rows,
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Redis holds exactly the expected keys and values (each with a TTL), and MySQL the
    /// batch rows, once each.
    pub fn check(&self, db: &TestDb, redis: &mut RedisKeys) {
        assert_eq!(mysql_rows(db), self.rows);
        let have = redis.keys();
        let want: BTreeSet<String> = self.keys.keys().cloned().collect();
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
        let conn = &mut redis.conn;
        for (key, fields) in &self.keys {
            let ttl: i64 = conn.ttl(key).unwrap();
            assert!(ttl > 0 && ttl <= 86_400, "{key}: TTL {ttl}");
            let want: BTreeMap<String, String> = fields.iter().cloned().collect();
            if key.contains(":pv:uv:") || key.contains(":region:") {
                let got: BTreeMap<String, String> = conn.hgetall(key).unwrap();
                assert_eq!(got, want, "{key}");
            } else if key.contains(":topn:") {
                let got: Vec<(String, String)> = conn.zrange_withscores(key, 0, -1).unwrap();
                assert_eq!(got.into_iter().collect::<BTreeMap<_, _>>(), want, "{key}");
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
        let db_set = format!("mysql_url={}", db.url());
        for (table, key) in TABLES {
            let sql = format!("SELECT * FROM {table} ORDER BY {key}");
            let local = query_csv(self.warehouse.path(), &[], &sql);
            let in_mysql = query_csv(
                self.warehouse.path(),
                &["--profile", "stack", "--set", &db_set],
                &sql,
            );
            assert_eq!(in_mysql, local, "{table}");
        }
    }
}

/// Rows in the board's MySQL tables (0 for a table not made yet).
pub fn mysql_rows(db: &TestDb) -> usize {
    TABLES
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
            db.query(&format!("SELECT COUNT(*) FROM `{t}`"))[0]
                .get::<i64, _>(0)
                .unwrap_or(0) as usize
        })
        .sum()
}
