//! Helpers shared by the integration tests: run the real `sluice` binary from the repo root.
#![allow(dead_code)]

pub mod board;
pub mod browser;
pub mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repo root")
}

pub fn testdata(name: &str) -> PathBuf {
    repo_root().join("testdata/imooc").join(name)
}

/// The binary, run from the repo root (so `jobs/…` paths work) with the repo's catalog.
pub fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .current_dir(repo_root())
        .env_remove("SLUICE_PROFILE")
        .env_remove("SLUICE_WAREHOUSE")
        .env_remove("SLUICE_RAW_PATH")
        .args(["--catalog", "catalog"])
        .args(args)
        .output()
        .expect("run sluice")
}

/// Runs and asserts success; returns stdout.
pub fn sluice_ok(args: &[&str]) -> String {
    let out = sluice(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "sluice {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// `jobs/clean.sql` in batch mode from the raw log(s) at `raw` into `warehouse`; returns
/// stdout.
pub fn run_clean(warehouse: &Path, raw: &Path) -> String {
    sluice_ok(&[
        "run",
        "jobs/clean.sql",
        "--no-progress",
        "--set",
        &format!("raw_path={}", raw.display()),
        "--set",
        &format!("warehouse={}", warehouse.display()),
    ])
}

/// `-v run --mode stream` of `job` with its warehouse (so its checkpoints) under
/// `warehouse`, a checkpoint every `interval`.
pub fn stream_run_args(job: &Path, warehouse: &Path, interval: &str) -> Vec<String> {
    [
        "-v",
        "run",
        "--mode",
        "stream",
        "--no-progress",
        "--set",
        &format!("warehouse={}", warehouse.display()),
        "--set",
        &format!("checkpoint.interval={interval}"),
        job.to_str().expect("utf-8 path"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `sluice query --format csv` as rows of fields (header dropped).
pub fn query_csv(warehouse: &Path, extra: &[&str], sql: &str) -> Vec<Vec<String>> {
    let wh = format!("warehouse={}", warehouse.display());
    let mut args = vec!["query", "--format", "csv", "--set", &wh];
    args.extend_from_slice(extra);
    args.push(sql);
    let out = sluice_ok(&args);
    out.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Rows of each table in the seed MySQL dump (`INSERT INTO `t` VALUES (...);` lines), as text fields.
pub fn seed_tables() -> BTreeMap<String, Vec<Vec<String>>> {
    let dump = std::fs::read_to_string(testdata("seed_results.sql")).expect("seed dump");
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for line in dump.lines() {
        let Some(rest) = line.strip_prefix("INSERT INTO `") else {
            continue;
        };
        let Some((table, values)) = rest.split_once("` VALUES (") else {
            continue;
        };
        let values = values.trim_end_matches(");");
        out.entry(table.to_string())
            .or_default()
            .push(split_sql_values(values));
    }
    out
}

/// Splits `'a', 12, 'b,c'` into fields, honouring quotes.
fn split_sql_values(s: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted && chars.peek() == Some(&'\'') => {
                cur.push('\'');
                chars.next();
            }
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                fields.push(cur.trim().to_string());
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    fields.push(cur.trim().to_string());
    fields
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts `sluice <args>` (like [`sluice`]) without waiting: for stream jobs that run on.
pub fn spawn(args: &[&str], stdout: std::process::Stdio) -> std::process::Child {
    spawn_to(args, stdout, std::process::Stdio::null())
}

/// Like [`spawn`], with stdout and stderr into `log`.
pub fn spawn_logged(args: &[&str], log: std::fs::File) -> std::process::Child {
    spawn_to(args, log.try_clone().expect("log file").into(), log.into())
}

/// Starts the binary (as [`sluice`] runs it) with stdout and stderr going where given.
pub fn spawn_to(
    args: &[&str],
    stdout: std::process::Stdio,
    stderr: std::process::Stdio,
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .current_dir(repo_root())
        .env_remove("SLUICE_PROFILE")
        .args(["--catalog", "catalog"])
        .args(args)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("start sluice")
}

/// Writes `lines` generated log lines to `path` (`sluice produce`), arriving up to
/// `disorder_ms` out of order.
pub fn produce(path: &Path, lines: u64, seed: u64, disorder_ms: u64) {
    sluice_ok(&[
        "produce",
        "--to",
        "file",
        "--path",
        path.to_str().expect("utf-8 path"),
        "--lines",
        &lines.to_string(),
        "--seed",
        &seed.to_string(),
        "--disorder-ms",
        &disorder_ms.to_string(),
    ]);
}

const MYSQL_SERVER: &str = "mysql://root@127.0.0.1:3306";

/// A MariaDB/MySQL database of its own for one test, dropped at the end whatever happens.
pub struct TestDb {
    name: String,
}

impl TestDb {
    pub fn new(tag: &str) -> TestDb {
        TestDb {
            name: format!("sluice_test_{tag}_{}", std::process::id()),
        }
    }

    pub fn url(&self) -> String {
        format!("{MYSQL_SERVER}/{}", self.name)
    }

    /// Creates the (empty) database, for a test that sets tables up before the job runs.
    pub fn create(&self) {
        use mysql_async::prelude::Queryable;
        let sql = format!("CREATE DATABASE IF NOT EXISTS `{}`", self.name);
        runtime().block_on(async move {
            let pool = mysql_async::Pool::new(MYSQL_SERVER);
            let mut conn = pool
                .get_conn()
                .await
                .expect("connect to MariaDB at 127.0.0.1:3306");
            conn.query_drop(sql).await.expect("create the database");
            drop(conn);
            pool.disconnect().await.ok();
        });
    }

    pub fn query(&self, sql: &str) -> Vec<mysql_async::Row> {
        use mysql_async::prelude::Queryable;
        let url = self.url();
        let sql = sql.to_string();
        runtime().block_on(async move {
            let pool = mysql_async::Pool::new(url.as_str());
            let mut conn = pool
                .get_conn()
                .await
                .expect("connect to MariaDB at 127.0.0.1:3306");
            let rows = conn.query(sql).await.expect("query");
            drop(conn);
            pool.disconnect().await.ok();
            rows
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        use mysql_async::prelude::Queryable;
        let name = self.name.clone();
        runtime().block_on(async move {
            let pool = mysql_async::Pool::new(MYSQL_SERVER);
            if let Ok(mut conn) = pool.get_conn().await {
                let _ = conn
                    .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                    .await;
            }
            pool.disconnect().await.ok();
        });
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Replays the lines of `file` onto a one-partition `topic`, as fast as the broker takes them.
pub fn produce_to_kafka(brokers: &str, topic: &str, file: &Path) {
    sluice_ok(&[
        "produce",
        "--to",
        "kafka",
        "--brokers",
        brokers,
        "--topic",
        topic,
        "--partitions",
        "1",
        "--mode",
        "replay",
        "--speedup",
        "0",
        "--quiet",
        file.to_str().expect("utf-8 path"),
    ]);
}

/// A Kafka-protocol broker for the tests (`scripts/kafka-dev.sh`, started when not running);
/// returns its bootstrap address.
pub fn kafka_broker() -> String {
    let out = Command::new(repo_root().join("scripts/kafka-dev.sh"))
        .arg("start")
        .output()
        .expect("run scripts/kafka-dev.sh");
    assert!(
        out.status.success(),
        "scripts/kafka-dev.sh start failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let url = Command::new(repo_root().join("scripts/kafka-dev.sh"))
        .arg("url")
        .output()
        .expect("run scripts/kafka-dev.sh url");
    String::from_utf8_lossy(&url.stdout).trim().to_string()
}

/// A TCP proxy standing in for a server, to take it "down" (connections refused, open ones
/// cut) and "up" again, as a restart of the server looks to a client.
pub struct OutageProxy {
    pub port: u16,
    state: std::sync::Arc<ProxyState>,
}

struct ProxyState {
    up: std::sync::atomic::AtomicBool,
    stop: std::sync::atomic::AtomicBool,
    open: std::sync::Mutex<Vec<std::net::TcpStream>>,
}

impl OutageProxy {
    /// Forwards 127.0.0.1:<free port> to 127.0.0.1:`target`.
    pub fn start(target: u16) -> OutageProxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a proxy port");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(ProxyState {
            up: AtomicBool::new(true),
            stop: AtomicBool::new(false),
            open: std::sync::Mutex::new(Vec::new()),
        });
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            while !shared.stop.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                if !shared.up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let mut open = shared.open.lock().unwrap();
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server.try_clone().unwrap(), client.try_clone().unwrap()),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
                open.push(client);
                open.push(server);
            }
        });
        OutageProxy { port, state }
    }

    /// Down: new connections are closed at once and open ones are cut.
    pub fn down(&self) {
        self.state
            .up
            .store(false, std::sync::atomic::Ordering::SeqCst);
        for s in self.state.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn up(&self) {
        self.state
            .up
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for OutageProxy {
    fn drop(&mut self) {
        self.state
            .stop
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.down();
    }
}

/// Appends one JSON event of course 1 per second in `seconds` of 2016-11-10T00:MM.
pub fn append_events(path: &Path, minute: u32, seconds: &[u32]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for s in seconds {
        writeln!(
            f,
            r#"{{"cms_id": 1, "event_time": "2016-11-10T00:{minute:02}:{s:02}Z"}}"#
        )
        .unwrap();
    }
}

/// Epoch ms of 2016-11-10T00:MM:00Z.
pub fn minute_ms(minute: i64) -> i64 {
    1_478_736_000_000 + minute * 60_000
}

/// `live.sql` in `dir`: per-minute counts `(t, n)` of the followed JSON file `events` (as
/// [`append_events`] writes it) into `minute_counts`, a table with the options `sink_with`.
pub fn write_minute_counts_job(dir: &Path, events: &Path, sink_with: &str) -> PathBuf {
    let job = dir.join("live.sql");
    std::fs::write(
        &job,
        format!(
            "CREATE TABLE live_events (
               cms_id BIGINT,
               event_time TIMESTAMP_LTZ(3),
               WATERMARK FOR event_time AS event_time - INTERVAL '0' SECOND
             ) WITH ('connector' = 'file', 'format' = 'json', 'path' = '{}',
                     'follow' = 'true', 'follow.poll_ms' = '20');
             CREATE TABLE minute_counts (t BIGINT, n BIGINT) WITH ({sink_with});
             INSERT INTO minute_counts
             SELECT CAST(TUMBLE_END(event_time, INTERVAL '1' MINUTE) AS BIGINT), COUNT(*)
             FROM live_events GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE);",
            events.display()
        ),
    )
    .unwrap();
    job
}

/// The committed files under `dir` and its subdirectories (hidden ones, in progress or
/// pending, are not committed).
pub fn committed_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            match path.is_dir() {
                true => dirs.push(path),
                false => files.push(path),
            }
        }
    }
    files
}
