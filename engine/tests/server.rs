//! `sluice serve` over real processes and real HTTP: jobs submitted, planned (a bad one
//! refused with its location), scraped, killed with the server (`kill -9`) and resumed when
//! it starts again, stopped with a final checkpoint and restarted from it, with every row of
//! the job's output written exactly once; the clean and board jobs over the stack through a
//! `kill -9` of the server; a failing job restarted with backoff, then FAILED; the token
//! rules off loopback.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::board::{BOARD_JOBS, CLOSING_LINE, ExpectedBoard, RedisKeys, stack_args};
use common::server::{Server, cli, eventually, http, http_text};
use serde_json::{Value, json};

/// A job counting the rows of a followed JSON file per minute into CSV files in `out`.
fn live_job(dir: &Path, events: &Path, out: &Path) -> PathBuf {
    let sink = format!(
        "'connector' = 'file', 'format' = 'csv', 'path' = '{}'",
        out.display()
    );
    common::write_minute_counts_job(dir, events, &sink)
}

/// The (window end, count) rows committed to the CSV files under `dir`, sorted.
fn committed_rows(dir: &Path) -> Vec<(i64, i64)> {
    let mut rows = Vec::new();
    for path in common::committed_files(dir) {
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let mut fields = line.split(',').map(str::parse::<i64>);
            // The header line does not parse.
            if let (Some(Ok(t)), Some(Ok(n))) = (fields.next(), fields.next()) {
                rows.push((t, n));
            }
        }
    }
    rows.sort_unstable();
    rows
}

/// The rows of windows ending at minutes 1, 2, … with these counts.
fn minutes(counts: &[i64]) -> Vec<(i64, i64)> {
    counts
        .iter()
        .enumerate()
        .map(|(i, n)| (common::minute_ms(i as i64 + 1), *n))
        .collect()
}

fn wait_for_rows(dir: &Path, server: &Server, want: &[(i64, i64)]) {
    let what = || {
        format!(
            "rows {:?}, not {want:?}\n{}",
            committed_rows(dir),
            server.log()
        )
    };
    eventually(60, what, || (committed_rows(dir) == want).then_some(()));
}

/// The value of `name{table="…"}` in a scrape, parsed as Prometheus text.
fn scraped(server: &Server, name: &str, table: &str) -> f64 {
    let (status, text) = http_text("GET", &format!("{}/metrics", server.url), None, None);
    assert_eq!(status, 200, "{text}");
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && s.labels.get("table") == Some(table))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
            _ => panic!("{name} is not a counter"),
        })
        .unwrap_or_else(|| panic!("no {name} for {table} in\n{text}"))
}

#[test]
fn a_served_job_survives_kill_9_stop_and_restart_with_every_row_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let (state, wh) = (dir.path().join("state"), dir.path().join("wh"));
    let (events, out) = (dir.path().join("events.json"), dir.path().join("out"));
    common::append_events(&events, 0, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let job = live_job(dir.path(), &events, &out);
    let mut server = Server::start(&state, &wh, &[], dir.path().join("server1.log"));

    let (status, ready) = server.call("GET", "/ready", None);
    assert_eq!((status, &ready), (200, &json!({"ready": true})));
    let (status, info) = server.call("GET", "/api/v1/info", None);
    assert_eq!(status, 200);
    assert_eq!(info["profile"], "local");

    // A job whose SQL is wrong is refused where `sluice run` would refuse it, and not kept.
    let bad = json!({"name": "bad", "mode": "stream",
        "sql": "CREATE TABLE t (a INT) WITH ('connector' = 'file', 'path' = '/tmp/x', 'format' = 'csv');\nINSERT INTO t SELECT nope FROM t;"});
    let (status, refused) = server.call("POST", "/api/v1/jobs", Some(bad));
    assert_eq!(status, 400, "{refused}");
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("bad.sql:2:") && error.contains("nope"),
        "{error}"
    );
    assert!(!refused["hint"].as_str().unwrap().is_empty());
    // Neither is a body that is not the API's.
    let (status, refused) = server.call(
        "POST",
        "/api/v1/jobs",
        Some(json!({"sql": "SELECT 1", "nmae": "x"})),
    );
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("nmae"),
        "{refused}"
    );
    let (status, refused) = http_text("POST", &format!("{}/api/v1/jobs", server.url), None, None);
    assert_eq!(status, 400, "{refused}");
    assert!(
        server
            .call("GET", "/api/v1/jobs", None)
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );

    let job_path = job.display().to_string();
    let id = cli(
        &server,
        &["submit", &job_path, "--set", "checkpoint.interval=200ms"],
    );
    let id = id.trim().to_string();
    assert_eq!(id, "job-0001");
    server.wait_jobs("RUNNING", |l| l[0]["state"] == "RUNNING");

    // A row of minute 1 closes minute 0: its count is committed with the next checkpoint.
    common::append_events(&events, 1, &[0]);
    wait_for_rows(&out, &server, &minutes(&[10]));
    let before = scraped(&server, "sluice_source_records_total", "live_events");
    common::append_events(&events, 1, &[1, 2, 3, 4, 5]);
    eventually(
        30,
        || "the records-in counter grows",
        || (scraped(&server, "sluice_source_records_total", "live_events") > before).then_some(()),
    );
    let list = server.wait_jobs("a checkpoint with all 16 rows", |l| {
        l[0]["records_in"] == 16 && !l[0]["last_checkpoint"].is_null()
    });
    let (_, detail) = server.call("GET", &format!("/api/v1/jobs/{id}"), None);
    assert!(detail["sql"].as_str().unwrap().contains("minute_counts"));
    assert!(
        detail["explain"]
            .as_str()
            .unwrap()
            .contains("WindowAggregate #0"),
        "{detail}"
    );
    // Per operator: the source's rows, the open window's state, the sink's rows.
    let operators = detail["operators"].as_array().unwrap();
    let operator = |kind: &str| {
        let found = operators.iter().find(|o| o["kind"] == kind);
        found
            .unwrap_or_else(|| panic!("no {kind} in {detail}"))
            .clone()
    };
    assert_eq!(operator("source")["rows"], 16, "{detail}");
    let window = operator("window aggregate");
    let name = window["name"].as_str().unwrap();
    assert!(
        name.ends_with("INSERT INTO minute_counts: WindowAggregate #0"),
        "{detail}"
    );
    assert!(window["state_bytes"].as_u64().unwrap() > 0, "{detail}");
    assert_eq!(operator("sink")["rows"], 1, "{detail}");
    // Let a checkpoint after the last rows complete, then kill the server: no goodbye.
    let seen = list[0]["last_checkpoint"]["id"].as_u64().unwrap();
    server.wait_jobs("a later checkpoint", |l| {
        l[0]["last_checkpoint"]["id"].as_u64().unwrap_or(0) > seen + 1
    });
    server.kill9();

    // Rows arrive while it is down; started again, it resumes the job from its checkpoint.
    common::append_events(&events, 2, &[1, 2, 3]);
    common::append_events(&events, 3, &[0]);
    let server = Server::start(&state, &wh, &[], dir.path().join("server2.log"));
    server.wait_jobs("resumed", |l| {
        l[0]["state"] == "RUNNING" && l[0]["restarts"] == 1
    });
    wait_for_rows(&out, &server, &minutes(&[10, 6, 3]));

    // Stopped with a final checkpoint ...
    let stopped = cli(&server, &["stop", &id]);
    assert!(
        stopped.starts_with(&format!("{id} STOPPED: checkpoint ")),
        "{stopped}"
    );
    let checkpoint: u64 = stopped.trim().rsplit(' ').next().unwrap().parse().unwrap();
    let list = server.wait_jobs("STOPPED", |l| l[0]["state"] == "STOPPED");
    assert_eq!(list[0]["last_checkpoint"]["id"], checkpoint);
    let (status, checkpoints) = server.call("GET", &format!("/api/v1/jobs/{id}/checkpoints"), None);
    assert_eq!(status, 200);
    assert_eq!(checkpoints[0]["id"], checkpoint, "{checkpoints}");
    // ... and restarted from it: the open window of minute 3 goes on counting.
    common::append_events(&events, 3, &[1, 2]);
    common::append_events(&events, 4, &[0]);
    let restarted = cli(&server, &["restart", &id]);
    assert!(
        restarted.contains("CREATED") || restarted.contains("RUNNING"),
        "{restarted}"
    );
    wait_for_rows(&out, &server, &minutes(&[10, 6, 3, 3]));

    let jobs = cli(&server, &["jobs"]);
    assert!(
        jobs.starts_with("ID") && jobs.contains(&id) && jobs.contains("RUNNING"),
        "{jobs}"
    );
    let logs = cli(&server, &["logs", &id, "--tail", "1000"]);
    assert!(
        logs.contains("STOPPED") && logs.contains("checkpoint"),
        "{logs}"
    );
    let (status, _) = server.call("DELETE", &format!("/api/v1/jobs/{id}"), None);
    assert_eq!(status, 409, "a running job cannot be deleted");

    // SIGTERM stops the job with a final checkpoint and the server with exit code 0; the
    // job stays RUNNING in the registry, to resume when the server comes back.
    let mut server = server;
    let status = server.terminate();
    assert!(status.success(), "{status}\n{}", server.log());
    let record: Value = serde_json::from_slice(
        &std::fs::read(state.join("jobs").join(&id).join("job.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["state"], "RUNNING", "{record}");
    assert!(
        record["history"].to_string().contains("the server stopped"),
        "{record}"
    );
}

#[test]
fn a_failing_job_is_restarted_with_backoff_then_failed_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("values.json");
    std::fs::write(&input, "{\"v\": \"12\"}\n{\"v\": \"twelve\"}\n").unwrap();
    let sql = format!(
        "CREATE TABLE vals (v STRING) WITH ('connector' = 'file', 'format' = 'json', 'path' = '{}');
         CREATE TABLE nums (n INT) WITH ('connector' = 'memory');
         INSERT INTO nums SELECT CAST(v AS INT) FROM vals;",
        input.display()
    );
    let server = Server::start(
        &dir.path().join("state"),
        &dir.path().join("wh"),
        &[],
        dir.path().join("server.log"),
    );
    let body = json!({"name": "casts", "mode": "batch", "sql": sql,
        "set": {"restart.max_attempts": "2", "restart.backoff": "100ms"}});
    let (status, created) = server.call("POST", "/api/v1/jobs", Some(body));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let list = server.wait_jobs("FAILED", |l| l[0]["state"] == "FAILED");
    assert_eq!(list[0]["restarts"], 2, "{list:?}");
    let error = list[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("twelve") && error.contains("restart.max_attempts"),
        "{error}"
    );
    let (_, detail) = server.call("GET", &format!("/api/v1/jobs/{id}"), None);
    let states: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "CREATED",
            "RUNNING",
            "RESTARTING",
            "RUNNING",
            "RESTARTING",
            "RUNNING",
            "FAILED"
        ]
    );
    // A job that has ended can be deleted; then it is gone.
    let (status, _) = server.call("DELETE", &format!("/api/v1/jobs/{id}"), None);
    assert_eq!(status, 200);
    let (status, gone) = server.call("GET", &format!("/api/v1/jobs/{id}"), None);
    assert_eq!(status, 404, "{gone}");
    assert!(gone["error"].as_str().unwrap().contains(&id));
}

#[test]
fn off_loopback_the_server_needs_a_token_and_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (state, wh) = (dir.path().join("state"), dir.path().join("wh"));
    let refused = common::sluice(&[
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--state-dir",
        &state.display().to_string(),
    ]);
    assert!(!refused.status.success());
    let stderr = common::stderr_of(&refused);
    assert!(
        stderr.contains("without a token") && stderr.contains("--auth-token"),
        "{stderr}"
    );

    let server = Server::start(
        &state,
        &wh,
        &["--listen", "0.0.0.0:0", "--auth-token", "s3cret"],
        dir.path().join("server.log"),
    );
    let url = server.url.replace("0.0.0.0", "127.0.0.1");
    let (status, denied) = http("GET", &format!("{url}/api/v1/jobs"), None, None);
    assert_eq!(status, 401, "{denied}");
    assert!(denied["hint"].as_str().unwrap().contains("Bearer"));
    assert_eq!(
        http("GET", &format!("{url}/api/v1/jobs"), None, Some("wrong")).0,
        401
    );
    assert_eq!(http("GET", &format!("{url}/metrics"), None, None).0, 401);
    assert_eq!(
        http("GET", &format!("{url}/api/v1/jobs"), None, Some("s3cret")).0,
        200
    );
    assert_eq!(http_text("GET", &format!("{url}/ping"), None, None).0, 200);

    // The CLI: without the token, one clear line and exit code 1; with it, the list.
    let denied = common::sluice(&["jobs", "--server", &url]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(common::stderr_of(&denied).contains("missing or wrong token"));
    let listed = common::sluice(&["jobs", "--server", &url, "--auth-token", "s3cret"]);
    assert!(listed.status.success(), "{}", common::stderr_of(&listed));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("(no jobs)"));
    let unreachable = common::sluice(&["jobs", "--server", "http://127.0.0.1:9"]);
    assert_eq!(unreachable.status.code(), Some(1));
    let stderr = common::stderr_of(&unreachable);
    assert!(
        stderr.contains("cannot reach the sluice server at http://127.0.0.1:9"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// The board jobs and the clean job on a server over the stack (a real broker, Redis and MariaDB): the
/// server is killed with SIGKILL while they run, more input arrives, and the restarted server
/// resumes each from its checkpoint. Redis and MySQL then hold exactly what the batch run
/// (which an uninterrupted stream run equals, `kafka_board.rs`) writes.
#[test]
fn board_jobs_on_a_server_killed_mid_run_end_as_an_uninterrupted_run() {
    let brokers = common::kafka_broker();
    let tag = format!("srv{}", std::process::id());
    let db = common::TestDb::new("serve");
    let prefix = format!("sluice-test:{tag}:");
    let mut redis = RedisKeys::new(&prefix);
    let sample = common::testdata("10000_access.log");
    let expected = ExpectedBoard::compute(&sample, &prefix);

    // The sample in two halves: the second comes while the server is down.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&sample).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let halves = [dir.path().join("first.log"), dir.path().join("second.log")];
    std::fs::write(&halves[0], first.join("\n") + "\n").unwrap();
    std::fs::write(&halves[1], second.join("\n") + "\n").unwrap();
    let raw_topic = format!("{tag}-raw");
    common::produce_to_kafka(&brokers, &raw_topic, &halves[0]);

    let stack = stack_args(&brokers, &tag, &prefix, &db);
    let mut extra: Vec<&str> = stack.iter().map(String::as_str).collect();
    extra.extend(["--set", "checkpoint.interval=300ms"]);
    let (state, wh) = (dir.path().join("state"), dir.path().join("wh"));
    let mut server = Server::start(&state, &wh, &extra, dir.path().join("server1.log"));
    for job in std::iter::once("jobs/stream_clean.sql").chain(BOARD_JOBS) {
        cli(&server, &["submit", job]);
    }
    // The first half has gone through every job, and each has checkpointed twice since.
    let through = |l: &[Value]| {
        l.len() == 1 + BOARD_JOBS.len()
            && l[0]["records_in"] == first.len()
            && l[1..]
                .iter()
                .all(|j| j["records_in"] == l[0]["records_out"])
    };
    let checkpoint = |j: &Value| j["last_checkpoint"]["id"].as_u64().unwrap_or(0);
    let seen = server.wait_jobs("the first half through every job", through);
    server.wait_jobs("two more checkpoints of each job", |l| {
        through(l)
            && l.iter()
                .zip(&seen)
                .all(|(now, then)| checkpoint(now) > checkpoint(then) + 1)
    });
    server.kill9();

    common::produce_to_kafka(&brokers, &raw_topic, &halves[1]);
    let mut server = Server::start(&state, &wh, &extra, dir.path().join("server2.log"));
    // Resumed, each job reads on from its checkpoint (its counters count this run only).
    // Once the clean job has read the second half and the board jobs have read nothing new
    // for 1.5 s (every partition idle), the closing line moves the watermark past every
    // window.
    let mut quiet_since = (Instant::now(), Value::Null);
    server.wait_jobs("the second half through every job", |l| {
        let read: Value = l[1..].iter().map(|j| j["records_in"].clone()).collect();
        if read != quiet_since.1 {
            quiet_since = (Instant::now(), read);
        }
        l.iter().all(|j| j["state"] == "RUNNING")
            && l[0]["records_in"] == second.len()
            && quiet_since.0.elapsed() > Duration::from_millis(1500)
    });
    let closing = dir.path().join("closing.log");
    std::fs::write(&closing, format!("{CLOSING_LINE}\n")).unwrap();
    common::produce_to_kafka(&brokers, &raw_topic, &closing);
    expected.wait_until_reached(&db, &mut redis, || server.log());
    // Nothing more arrives later: no window written twice.
    std::thread::sleep(Duration::from_secs(2));
    expected.check(&db, &mut redis);
    // librdkafka's statistics (every 5 s) give each partition's lag: all read.
    let lag = eventually(
        15,
        || "a consumer lag of pv_uv in /metrics",
        || {
            let (_, text) = http_text("GET", &format!("{}/metrics", server.url), None, None);
            text.lines()
                .find(|l| {
                    l.starts_with("sluice_kafka_consumer_lag{") && l.contains("job=\"pv_uv\"")
                })
                .map(str::to_string)
        },
    );
    assert!(lag.ends_with(" 0.0"), "{lag}");
    // The registry shows each job's restart, and each runs on.
    let (_, list) = server.call("GET", "/api/v1/jobs", None);
    for job in list.as_array().unwrap() {
        assert_eq!(
            (&job["state"], &job["restarts"]),
            (&json!("RUNNING"), &json!(1)),
            "{job}"
        );
    }
    assert!(server.terminate().success(), "{}", server.log());
}
