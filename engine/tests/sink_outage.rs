//! Redis and MySQL going away for 10 s while a stream job writes to them: the sinks retry
//! with backoff (and say so), and once the servers are back the end state is exactly what an
//! undisturbed run writes — no window lost, none doubled.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{OutageProxy, TestDb, repo_root};
use redis::Commands;

/// pv_uv.sql reading generated events, writing MySQL and Redis through the given addresses.
const PROFILE: &str = r#"
description: "sink outage test"
tables:
  access_events:
    with: { connector: generator, format: events, rows: "120000", rate: "${gen_rate}", seed: "7", events_per_second: "100" }
  realtime_pv_uv_stat:
    with: { connector: mysql, url: "${mysql_url}", retry.max_elapsed: 120s }
    also_write:
      - connector: redis
        url: "${redis_url}"
        data_type: hash
        key: "${redis_key_prefix}pv:{window_size}:{cms_type}:{cms_id}:{window_end}"
        fields: pv,uv
        retry.max_elapsed: 120s
"#;

fn sluice(catalog: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.current_dir(repo_root())
        .env_remove("SLUICE_PROFILE")
        .args([
            "--catalog",
            catalog.to_str().unwrap(),
            "--profile",
            "outage",
        ])
        .args(args);
    cmd
}

fn redis_content(
    conn: &mut redis::Connection,
    prefix: &str,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let keys: Vec<String> = conn
        .scan_match::<_, String>(format!("{prefix}*"))
        .unwrap()
        .map(|k| k.unwrap())
        .collect();
    let mut out = BTreeMap::new();
    for key in keys {
        let fields: BTreeMap<String, String> = conn.hgetall(&key).unwrap();
        let _: () = conn.del(&key).unwrap();
        out.insert(key.strip_prefix(prefix).unwrap().to_string(), fields);
    }
    out
}

fn mysql_rows(db: &TestDb) -> Vec<String> {
    db.query("SELECT window_end, window_size, cms_type, cms_id, pv, uv FROM realtime_pv_uv_stat ORDER BY 1, 2, 3, 4")
        .into_iter()
        .map(|row| format!("{row:?}"))
        .collect()
}

#[test]
fn redis_and_mysql_outages_lose_no_window() {
    let catalog = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("catalog/tables.yaml"),
        catalog.path().join("tables.yaml"),
    )
    .unwrap();
    std::fs::create_dir(catalog.path().join("profiles")).unwrap();
    std::fs::write(catalog.path().join("profiles/outage.yaml"), PROFILE).unwrap();
    let tag = format!("sluice-test:outage{}:", std::process::id());
    let mut conn = redis::Client::open("redis://127.0.0.1:6379/0")
        .unwrap()
        .get_connection()
        .unwrap();

    // The undisturbed run (batch: same rows, same sinks).
    let calm_db = TestDb::new("outage_calm");
    let out = sluice(
        catalog.path(),
        &[
            "run",
            "jobs/pv_uv.sql",
            "--no-progress",
            "--set",
            "gen_rate=1000000000",
            "--set",
            &format!("mysql_url={}", calm_db.url()),
            "--set",
            "redis_url=redis://127.0.0.1:6379/0",
            "--set",
            &format!("redis_key_prefix={tag}calm:"),
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calm_redis = redis_content(&mut conn, &format!("{tag}calm:"));
    let calm_rows = mysql_rows(&calm_db);
    assert!(calm_rows.len() > 500, "{} rows", calm_rows.len());
    assert_eq!(calm_redis.len(), calm_rows.len());

    // The stream run, both servers behind proxies that go down for 10 s mid-run.
    let redis_proxy = OutageProxy::start(6379);
    let mysql_proxy = OutageProxy::start(3306);
    let db = TestDb::new("outage");
    let mysql_url = format!(
        "mysql://root@127.0.0.1:{}/{}",
        mysql_proxy.port,
        db.url().rsplit('/').next().unwrap()
    );
    let mut job = sluice(
        catalog.path(),
        &[
            "run",
            "jobs/pv_uv.sql",
            "--mode",
            "stream",
            "--no-progress",
            "--set",
            "gen_rate=6000",
            "--set",
            &format!("mysql_url={mysql_url}"),
            "--set",
            &format!("redis_url=redis://127.0.0.1:{}/0", redis_proxy.port),
            "--set",
            &format!("redis_key_prefix={tag}storm:"),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stderr = job.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    std::thread::sleep(Duration::from_secs(4));
    let written_before = mysql_rows(&db).len();
    redis_proxy.down();
    mysql_proxy.down();
    std::thread::sleep(Duration::from_secs(10));
    redis_proxy.up();
    mysql_proxy.up();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = job.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the job did not finish"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let log = log.join().unwrap();
    assert!(status.success(), "the job failed:\n{log}");
    assert!(written_before > 0, "windows were written before the outage");
    assert!(
        log.contains("retrying in"),
        "the retries are logged:\n{log}"
    );
    let retries: Vec<&str> = log.lines().filter(|l| l.contains("retrying in")).collect();
    eprintln!(
        "{} retries logged, first and last:\n{}\n{}",
        retries.len(),
        retries[0],
        retries[retries.len() - 1]
    );
    assert!(
        log.contains("realtime_pv_uv_stat"),
        "the log names the table:\n{log}"
    );

    assert_eq!(mysql_rows(&db), calm_rows);
    assert_eq!(
        redis_content(&mut conn, &format!("{tag}storm:")),
        calm_redis
    );
}
