//! Stream jobs in one process, as a job server runs them. Two keep apart: each has its own
//! memory tables, metrics and checkpoints, although both name their tables alike, and
//! stopping one leaves the other's results whole. A job asked to stop stops as asked: with a
//! final checkpoint that keeps its open windows, drained (every window written), at once.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, AsArray};
use sluice::catalog::{Catalog, Vars};
use sluice::checkpoint::FromCheckpoint;
use sluice::exec::batch::Stopped;
use sluice::job::{ExecMode, JobEnv, StopMode};
use sluice::launch::Job;
use sluice::sql::Script;

/// One job: events of `keys` (two in the first minute, one three minutes later) counted per
/// key and minute into its memory table `counts`. `watching`: the source watches its
/// folder for more files, so the job never ends.
async fn plan(dir: &Path, name: &str, keys: [&str; 2], watching: bool) -> Job {
    let data = dir.join(name);
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("events.json"),
        [
            format!(r#"{{"ts": "2016-11-10T00:00:10Z", "k": "{}"}}"#, keys[0]),
            format!(r#"{{"ts": "2016-11-10T00:00:50Z", "k": "{}"}}"#, keys[0]),
            format!(r#"{{"ts": "2016-11-10T00:03:10Z", "k": "{}"}}"#, keys[1]),
        ]
        .join("\n"),
    )
    .unwrap();
    let monitor = if watching {
        ", 'source.monitor-interval' = '100 ms'"
    } else {
        ""
    };
    let sql = format!(
        "CREATE TABLE events (ts TIMESTAMP_LTZ(3), k STRING, \
            WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) \
         WITH ('connector' = 'file', 'path' = '{}', 'format' = 'json'{monitor});\n\
         CREATE TABLE counts (window_end STRING, k STRING, n BIGINT) WITH ('connector' = 'memory');\n\
         INSERT INTO counts SELECT CAST(TUMBLE_END(ts, INTERVAL '1' MINUTE) AS STRING), k, COUNT(*) \
         FROM events GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), k;",
        data.display()
    );
    let vars = Vars::new(BTreeMap::from([
        ("job".to_string(), name.to_string()),
        (
            "checkpoint.dir".to_string(),
            dir.join("checkpoints").display().to_string(),
        ),
        ("checkpoint.interval".to_string(), "100ms".to_string()),
    ]))
    .without_env();
    let script = Script::parse(&format!("{name}.sql"), &sql).unwrap();
    Job::plan(
        Catalog::empty(vars),
        script,
        ExecMode::Stream,
        FromCheckpoint::Latest,
    )
    .await
    .unwrap()
}

/// The rows of memory table `counts` of a job, sorted.
fn counts(env: &JobEnv) -> Vec<String> {
    let mut rows = Vec::new();
    for batch in env.memory.rows("counts") {
        let (end, k) = (
            batch.column(0).as_string::<i32>(),
            batch.column(1).as_string::<i32>(),
        );
        let n = batch
            .column(2)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for i in 0..batch.num_rows() {
            rows.push(format!("{},{},{}", end.value(i), k.value(i), n.value(i)));
        }
        assert_eq!(end.null_count(), 0);
    }
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stream_jobs_in_one_process_do_not_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let watching = plan(dir.path(), "watching", ["a", "b"], true).await;
    let bounded = plan(dir.path(), "bounded", ["x", "y"], false).await;
    let (watching_env, bounded_env) = (watching.env().clone(), bounded.env().clone());
    let watching = tokio::spawn(watching.run(false));
    let bounded = tokio::spawn(bounded.run(false));

    // The watching job closes its first window and checkpoints, and runs on.
    let deadline = Instant::now() + Duration::from_secs(60);
    while counts(&watching_env).is_empty() || watching_env.metrics.snapshot().checkpoints == 0 {
        assert!(
            Instant::now() < deadline,
            "the watching job emitted nothing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(counts(&watching_env), ["2016-11-10T00:01:00Z,a,2"]);

    // The bounded job ends with its own rows and its own counts only.
    let report = bounded.await.unwrap().unwrap();
    let expected = ["2016-11-10T00:01:00Z,x,2", "2016-11-10T00:04:00Z,y,1"];
    assert_eq!(counts(&bounded_env), expected);
    assert_eq!(report.metrics.rows_read, 3);
    assert_eq!(report.metrics.sinks, vec![("counts".to_string(), 2, false)]);

    // Stopping the watching job (as a kill would) leaves the other's results whole, and
    // its own checkpoints where it can resume from them.
    watching.abort();
    assert!(watching.await.unwrap_err().is_cancelled());
    assert_eq!(counts(&bounded_env), expected);
    assert_eq!(counts(&watching_env), ["2016-11-10T00:01:00Z,a,2"]);
    let own = dir.path().join("checkpoints").join("watching");
    let complete = std::fs::read_dir(&own)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("_manifest.json").exists())
        .count();
    assert!(
        complete >= 1,
        "no checkpoint of the watching job in {}",
        own.display()
    );
    assert!(watching_env.metrics.snapshot().rows_read == 3);
}

/// Waits (at most 60 s) until the memory table `counts` of `env` holds `rows`.
async fn wait_for_counts(env: &JobEnv, rows: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while counts(env) != rows {
        assert!(Instant::now() < deadline, "{:?}, not {rows:?}", counts(env));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_job_keeps_its_open_window_and_a_drained_one_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = ["2016-11-10T00:01:00Z,a,2"];
    let job = plan(dir.path(), "stopping", ["a", "b"], true).await;
    let env = job.env().clone();
    let run = tokio::spawn(job.run(false));
    wait_for_counts(&env, &first).await;
    // The window of minute 4 is open: the final checkpoint keeps it, nothing writes it.
    env.stop.request(StopMode::Checkpoint);
    let report = run.await.unwrap().unwrap();
    assert!(
        matches!(report.stopped, Some(Stopped::AtCheckpoint(_))),
        "{:?}",
        report.stopped
    );
    assert_eq!(counts(&env), first);

    // Resumed, it reads nothing again; drained, it writes the kept window and ends.
    let job = plan(dir.path(), "stopping", ["a", "b"], true).await;
    let env = job.env().clone();
    let run = tokio::spawn(job.run(false));
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.stop.request(StopMode::Drain);
    let report = run.await.unwrap().unwrap();
    assert_eq!(report.stopped, Some(Stopped::Drained));
    assert_eq!(counts(&env), ["2016-11-10T00:04:00Z,b,1"]);
    assert_eq!(report.metrics.rows_read, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_stopped_at_once_ends_without_writing_more() {
    let dir = tempfile::tempdir().unwrap();
    let job = plan(dir.path(), "cancelled", ["a", "b"], true).await;
    let env = job.env().clone();
    let run = tokio::spawn(job.run(false));
    wait_for_counts(&env, &["2016-11-10T00:01:00Z,a,2"]).await;
    env.stop.request(StopMode::Immediate);
    let report = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("stopped within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(report.stopped, Some(Stopped::AtOnce));
    assert_eq!(counts(&env), ["2016-11-10T00:01:00Z,a,2"]);
}
