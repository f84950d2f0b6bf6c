//! A followed file feeds a running stream job: appended rows close windows while the job
//! runs, and a rotation (rename, then a new file) loses no row.

mod common;

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `live.sql`: per-minute counts of a followed JSON file, printed as JSON lines.
fn write_live_job(dir: &Path, events: &Path) -> PathBuf {
    common::write_minute_counts_job(dir, events, "'connector' = 'stdout'")
}

/// Runs `job` in stream mode (checkpoints under `warehouse`, every `interval`; its log to
/// `stderr`); its stdout lines come on the receiver.
fn run_live(
    job: &Path,
    warehouse: &Path,
    interval: &str,
    stderr: Stdio,
) -> (Child, mpsc::Receiver<String>) {
    let args = common::stream_run_args(job, warehouse, interval);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = common::spawn_to(&args, Stdio::piped(), stderr);
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn next_window(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(20))
        .expect("a window within 20 s")
}

#[test]
fn appended_rows_close_windows_and_rotation_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.json");
    common::append_events(&events, 0, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let job = write_live_job(dir.path(), &events);
    let (mut child, rx) = run_live(&job, &dir.path().join("wh"), "10s", Stdio::null());

    // A row of minute 1 moves the watermark past minute 0: that window comes out.
    common::append_events(&events, 1, &[0]);
    let first = next_window(&rx);
    let expected = format!(r#"{{"t":{},"n":10}}"#, common::minute_ms(1));
    assert_eq!(first, expected);

    // Rotate: rename, write to the old file, then start a new one.
    let rotated = dir.path().join("events.json.1");
    std::fs::rename(&events, &rotated).unwrap();
    common::append_events(&rotated, 1, &[10, 11, 12]);
    std::thread::sleep(Duration::from_millis(100));
    common::append_events(&events, 1, &[20, 21]);
    common::append_events(&events, 2, &[0]);
    let second = next_window(&rx);
    let expected = format!(r#"{{"t":{},"n":6}}"#, common::minute_ms(2));
    assert_eq!(second, expected, "rows were lost in the rotation");

    let _ = child.kill();
    let _ = child.wait();
}

/// The newest complete checkpoint of `job` under `warehouse`: its id, and the position of
/// the followed file in it.
fn checkpointed_position(warehouse: &Path, job: &str) -> Option<(u64, String)> {
    let dir = warehouse.join("_checkpoints").join(job);
    let mut ids: Vec<u64> = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_prefix("chk-")?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids.into_iter().rev().find_map(|id| {
        let text = std::fs::read(dir.join(format!("chk-{id}/_manifest.json"))).ok()?;
        let manifest: serde_json::Value = serde_json::from_slice(&text).ok()?;
        let at = manifest["sources"][0]["splits"][0]["position"].as_str()?;
        Some((id, at.to_string()))
    })
}

/// Killed and restarted, a job following a file reads on where its checkpoint read to, with
/// the open window's count restored: no row read twice, none missed.
#[test]
fn a_killed_follow_job_resumes_where_its_checkpoint_read_to() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let events = dir.path().join("events.json");
    common::append_events(&events, 0, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let job = write_live_job(dir.path(), &events);
    let (mut child, rx) = run_live(&job, &warehouse, "100ms", Stdio::null());
    common::append_events(&events, 1, &[0]);
    assert_eq!(
        next_window(&rx),
        format!(r#"{{"t":{},"n":10}}"#, common::minute_ms(1))
    );
    // A checkpoint that has read the whole file (minute 1's window open, with one row).
    let len = std::fs::metadata(&events).unwrap().len();
    let mut waited = Duration::ZERO;
    while !checkpointed_position(&warehouse, "live")
        .is_some_and(|(_, p)| p.ends_with(&format!(":{len}")))
    {
        assert!(
            waited < Duration::from_secs(20),
            "no checkpoint at byte {len}"
        );
        std::thread::sleep(Duration::from_millis(20));
        waited += Duration::from_millis(20);
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Rows arrive while it is down; the restart reads them and only them.
    common::append_events(&events, 1, &[10, 11, 12, 13, 14]);
    common::append_events(&events, 2, &[0]);
    let (mut child, rx) = run_live(&job, &warehouse, "100ms", Stdio::null());
    let first = next_window(&rx);
    let _ = child.kill();
    let _ = child.wait();
    // Read again from the start, minute 0's window would come out again first.
    assert_eq!(first, format!(r#"{{"t":{},"n":6}}"#, common::minute_ms(2)));
}

/// An unbounded job's Parquet sink commits files while the job runs (rolling), and only
/// whole files: `sluice query` reads them meanwhile.
#[test]
fn parquet_files_roll_while_an_unbounded_job_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("per_second");
    let job = dir.path().join("rolling.sql");
    std::fs::write(
        &job,
        format!(
            "CREATE TABLE endless_events (
               event_time TIMESTAMP_LTZ(3),
               cms_id BIGINT,
               WATERMARK FOR event_time AS event_time - INTERVAL '0' SECOND
             ) WITH ('connector' = 'generator', 'format' = 'events', 'rate' = '2000',
                     'events_per_second' = '2000', 'batch_ms' = '50');
             CREATE TABLE per_second (window_end TIMESTAMP_LTZ(3), pv BIGINT)
             WITH ('connector' = 'file', 'format' = 'parquet', 'path' = '{}',
                   'sink.rolling-policy.rollover-interval' = '200 ms');
             INSERT INTO per_second
             SELECT TUMBLE_END(event_time, INTERVAL '1' SECOND), COUNT(*)
             FROM endless_events GROUP BY TUMBLE(event_time, INTERVAL '1' SECOND);",
            out.display()
        ),
    )
    .unwrap();
    // Its source cannot say how far it has read: no checkpoints, files roll on time (once
    // the first checkpoint finds that out).
    let args = common::stream_run_args(&job, &dir.path().join("wh"), "100ms");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = common::spawn(&args, Stdio::null());
    let committed = || -> usize {
        std::fs::read_dir(&out)
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        let n = e.file_name().to_string_lossy().into_owned();
                        n.starts_with("part-") && n.ends_with(".parquet")
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    let mut waited = Duration::ZERO;
    while committed() < 2 && waited < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    let files = committed();
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(still_running, "the unbounded job stopped on its own");
    assert!(files >= 2, "{files} files committed after {waited:?}");
    // Whole files only: every committed file is a complete Parquet file with rows.
    for entry in std::fs::read_dir(&out).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("part-") {
            continue;
        }
        let file = std::fs::File::open(entry.path()).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file)
            .unwrap_or_else(|e| panic!("{name} is not a whole Parquet file: {e}"));
        use parquet::file::reader::FileReader;
        assert!(reader.metadata().file_metadata().num_rows() > 0, "{name}");
    }
}

/// Every row of the committed Parquet files under `dir` (hidden files are not committed),
/// with the partition directory it is in, as sorted text.
fn committed_rows(dir: &Path) -> Vec<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut rows = Vec::new();
    for path in common::committed_files(dir) {
        {
            let part = path
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let file = std::fs::File::open(&path).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .unwrap()
                .build()
                .unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                let options = FormatOptions::default();
                let columns: Vec<ArrayFormatter> = batch
                    .columns()
                    .iter()
                    .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
                    .collect();
                for i in 0..batch.num_rows() {
                    let fields: Vec<String> =
                        columns.iter().map(|c| c.value(i).to_string()).collect();
                    rows.push(format!("{part}|{}", fields.join("|")));
                }
            }
        }
    }
    rows.sort();
    rows
}

/// A job cleaning a followed log into day-partitioned Parquet is killed after writing rows
/// its checkpoint does not cover, and restarted: the files then hold every row exactly
/// once, as a batch run over the whole log writes them.
#[test]
fn a_killed_follow_to_parquet_job_writes_each_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(common::testdata("10000_access.log")).unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let raw = dir.path().join("access.log");
    std::fs::write(&raw, first.join("\n") + "\n").unwrap();
    let job = |name: &str, follow: bool, out: &Path| -> PathBuf {
        let path = dir.path().join(format!("{name}.sql"));
        let follow = if follow {
            ", 'follow' = 'true', 'follow.poll_ms' = '20'"
        } else {
            ""
        };
        std::fs::write(
            &path,
            format!(
                "CREATE TABLE raw_lines (line STRING)
                 WITH ('connector' = 'file', 'format' = 'lines', 'path' = '{}'{follow});
                 CREATE TABLE cleaned_lines (ip STRING, referer STRING, traffic BIGINT, day STRING)
                 WITH ('connector' = 'file', 'format' = 'parquet', 'path' = '{}',
                       'partition_by' = 'day');
                 INSERT INTO cleaned_lines
                 SELECT log['ip'], log['referer'], log['bytes'], log['day']
                 FROM (SELECT parse_access_log(line) AS log FROM raw_lines)
                 WHERE log IS NOT NULL;",
                raw.display(),
                out.display()
            ),
        )
        .unwrap();
        path
    };
    let out = dir.path().join("cleaned");
    let live = job("live_clean", true, &out);
    let warehouse = dir.path().join("wh");
    let run = |log: &str| {
        let log = std::fs::File::create(dir.path().join(log)).unwrap();
        run_live(&live, &warehouse, "500ms", log.into()).0
    };
    // The newest complete checkpoint: (its id, the byte the log is read to).
    let latest = || -> Option<(u64, u64)> {
        let (id, at) = checkpointed_position(&warehouse, "live_clean")?;
        Some((id, at.rsplit(':').next()?.parse().ok()?))
    };
    let wait_until = |what: &str, done: &dyn Fn() -> bool| {
        let started = std::time::Instant::now();
        while !done() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{what} after 60 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let in_progress = || {
        let mut dirs = vec![out.clone()];
        let mut found = false;
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.path().is_dir() {
                    dirs.push(e.path());
                } else if name.ends_with(".inprogress") {
                    found = true;
                }
            }
        }
        found
    };

    let mut child = run("first.log");
    let half = std::fs::metadata(&raw).unwrap().len();
    wait_until("a checkpoint of the first half", &|| {
        latest().is_some_and(|(_, at)| at == half)
    });
    let (covered, _) = latest().unwrap();
    // The second half: killed once it is writing rows the checkpoint does not cover.
    let mut f = OpenOptions::new().append(true).open(&raw).unwrap();
    f.write_all((second.join("\n") + "\n").as_bytes()).unwrap();
    drop(f);
    wait_until("rows past the checkpoint", &|| in_progress());
    child.kill().unwrap();
    child.wait().unwrap();
    let (resumed, at) = latest().unwrap();
    assert!(
        at < std::fs::metadata(&raw).unwrap().len(),
        "checkpoint {resumed} has read it all"
    );
    assert!(resumed >= covered);

    // Restarted: it resumes and runs until a checkpoint has the whole log and its files
    // are committed.
    let mut child = run("restart.log");
    let total = std::fs::metadata(&raw).unwrap().len();
    wait_until("a checkpoint of the whole log", &|| {
        latest().is_some_and(|(_, at)| at == total)
    });
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let stderr = std::fs::read_to_string(dir.path().join("restart.log")).unwrap();
    assert!(
        stderr.contains(&format!("resuming from checkpoint {resumed}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("files written after the checkpoint"),
        "{stderr}"
    );

    // What a batch run over the whole log writes.
    let expected_out = dir.path().join("expected");
    let batch = job("batch_clean", false, &expected_out);
    common::sluice_ok(&[
        "run",
        "--no-progress",
        "--set",
        &format!("warehouse={}", dir.path().join("wh2").display()),
        batch.to_str().unwrap(),
    ]);
    let expected = committed_rows(&expected_out);
    assert!(expected.len() > 5000, "{} rows", expected.len());
    let got = committed_rows(&out);
    assert_eq!(got.len(), expected.len(), "rows in the committed files");
    assert_eq!(got, expected);
}

/// `stream_clean.sql` in the local profile reads a folder of raw logs and writes Parquet:
/// killed midway and restarted, it reads on from its checkpoint (files read to their end are
/// not read again, the one it was in goes on from its offset) and writes every event once.
#[test]
fn a_killed_stream_clean_over_files_resumes_with_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    for (i, seed) in [11, 12, 13].iter().enumerate() {
        common::produce(&raw.join(format!("access-{i}.log")), 150_000, *seed, 0);
    }
    let raw_set = format!("raw_path={}", raw.display());
    let expected_wh = dir.path().join("expected");
    common::run_clean(&expected_wh, &raw);

    let warehouse = dir.path().join("wh");
    let wh_set = format!("warehouse={}", warehouse.display());
    let args = [
        "-v",
        "run",
        "jobs/stream_clean.sql",
        "--mode",
        "stream",
        "--no-progress",
        "--set",
        &raw_set,
        "--set",
        &wh_set,
        "--set",
        "checkpoint.interval=100ms",
    ];
    let log = dir.path().join("first.log");
    let mut child = common::spawn_logged(&args, std::fs::File::create(&log).unwrap());
    let started = std::time::Instant::now();
    while checkpointed_position(&warehouse, "stream_clean").is_none() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "stream_clean ended ({status}) before its first checkpoint\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no checkpoint after 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (id, _) = checkpointed_position(&warehouse, "stream_clean").unwrap();

    let out = common::sluice(&args);
    let stderr = common::stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("resuming from checkpoint {id}")),
        "{stderr}"
    );
    let read: u64 = String::from_utf8_lossy(&out.stdout)
        .split("read ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a summary");
    assert!(
        read < 450_000,
        "the restart read {read} lines: all over again"
    );

    let sql = "SELECT day, COUNT(*), COUNT(DISTINCT ip), SUM(traffic), MIN(event_time), \
               MAX(event_time) FROM access_events GROUP BY day ORDER BY day";
    let want = common::query_csv(&expected_wh, &[], sql);
    let got = common::query_csv(&warehouse, &[], sql);
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

/// The local profile live: `stream_clean.sql` watches the raw folder and `pv_uv.sql` the DWD
/// folder the first writes (files committed at its checkpoints), both started before any
/// input exists. Once the sample and a line long after it have arrived, the board holds what
/// the batch run computes.
#[test]
fn a_live_local_pipeline_watches_its_folders() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    let warehouse = dir.path().join("wh");
    let expected_wh = dir.path().join("expected");
    let sample = common::testdata("10000_access.log");
    common::run_clean(&expected_wh, &sample);
    common::sluice_ok(&[
        "run",
        "jobs/pv_uv.sql",
        "--no-progress",
        "--set",
        &format!("warehouse={}", expected_wh.display()),
    ]);
    let sql =
        "SELECT * FROM realtime_pv_uv_stat ORDER BY window_end, window_size, cms_type, cms_id";
    let expected = common::query_csv(&expected_wh, &[], sql);

    let start = |job: &str| {
        let mut args = common::stream_run_args(Path::new(job), &warehouse, "200ms");
        for set in [
            format!("raw_path={}", raw.display()),
            "monitor_interval=100ms".to_string(),
        ] {
            // Before the job file, after the subcommand.
            let at = args.len() - 1;
            args.insert(at, set);
            args.insert(at, "--set".to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let name = job.trim_start_matches("jobs/").trim_end_matches(".sql");
        let log = std::fs::File::create(dir.path().join(format!("{name}.log"))).unwrap();
        common::spawn_logged(&args, log)
    };
    let mut jobs = [start("jobs/stream_clean.sql"), start("jobs/pv_uv.sql")];
    std::thread::sleep(Duration::from_millis(500));
    std::fs::copy(&sample, raw.join("a.log")).unwrap();
    // A course access long after the sample: its arrival closes the sample's windows.
    std::fs::write(
        raw.join("b.log"),
        "106.39.41.166 - - [10/Nov/2016:00:20:00 +0800] \"POST /course/ajaxmediauser/ HTTP/1.1\" \
         200 54 \"www.imooc.com\" \"http://www.imooc.com/video/8701\" mid=8701&time=120.0&learn_time=16.1 \
         \"Mozilla/5.0\" \"-\" 10.100.136.64:80 200 0.016 0.016\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let wh_set = format!("warehouse={}", warehouse.display());
    let got = loop {
        // Before its first committed file the table has no data: a failing query.
        let out = common::sluice(&["query", "--format", "csv", "--set", &wh_set, sql]);
        let got: Vec<Vec<String>> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        if got.len() >= expected.len() || started.elapsed() > Duration::from_secs(60) {
            break got;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for job in &mut jobs {
        let _ = job.kill();
        let _ = job.wait();
    }
    let logs = ["stream_clean", "pv_uv"]
        .map(|job| std::fs::read_to_string(dir.path().join(format!("{job}.log"))).unwrap());
    assert_eq!(
        got.len(),
        expected.len(),
        "board rows after {:?}\n{}\n{}",
        started.elapsed(),
        logs[0],
        logs[1]
    );
    assert_eq!(got, expected);
}

/// Sends SIGTERM to `child` and waits (at most 30 s) for it to end.
fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -TERM {pid}");
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM stops a running job as `flink stop` does: its sources stop, a final checkpoint
/// keeps the open window (no checkpoint was due: the interval is an hour) and commits the
/// Parquet file being written, the summary prints and the exit code is 0. The restart
/// resumes from that checkpoint: no row lost, none written twice.
#[test]
fn sigterm_stops_a_job_with_a_final_checkpoint_and_the_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let events = dir.path().join("events.json");
    let copy = dir.path().join("copy");
    common::append_events(&events, 0, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let job = write_live_job(dir.path(), &events);
    // Besides the windows, every row goes to Parquet as it comes.
    let mut sql = std::fs::read_to_string(&job).unwrap();
    sql.push_str(&format!(
        "\nCREATE TABLE events_copy (event_time TIMESTAMP_LTZ(3))
         WITH ('connector' = 'file', 'format' = 'parquet', 'path' = '{}');
         INSERT INTO events_copy SELECT event_time FROM live_events;",
        copy.display()
    ));
    std::fs::write(&job, sql).unwrap();
    let run = |log: &str| {
        let log = std::fs::File::create(dir.path().join(log)).unwrap();
        run_live(&job, &warehouse, "1h", log.into())
    };
    let stopped = |log: &str, child: &mut Child, rx: &mpsc::Receiver<String>| {
        let status = terminate(child);
        let stderr = std::fs::read_to_string(dir.path().join(log)).unwrap();
        assert!(status.success(), "{status}: {stderr}");
        // The rest of its stdout, to its end.
        let rest: Vec<String> = rx.iter().collect();
        assert!(
            rest.last().is_some_and(|l| l.starts_with("read ")),
            "no summary line: {rest:?}\n{stderr}"
        );
        stderr
    };

    let (mut child, rx) = run("first.log");
    common::append_events(&events, 1, &[0]);
    assert_eq!(
        next_window(&rx),
        format!(r#"{{"t":{},"n":10}}"#, common::minute_ms(1))
    );
    // The window of minute 1 is open, with one row; the copy's file is still open.
    std::thread::sleep(Duration::from_millis(300));
    let stderr = stopped("first.log", &mut child, &rx);
    assert!(stderr.contains("stopped at checkpoint 1"), "{stderr}");
    assert_eq!(committed_rows(&copy).len(), 11, "the open file was lost");

    common::append_events(&events, 1, &[10, 11, 12, 13, 14]);
    common::append_events(&events, 2, &[0]);
    let (mut child, rx) = run("second.log");
    // Minute 1: the row kept by the checkpoint and the five read after the restart.
    assert_eq!(
        next_window(&rx),
        format!(r#"{{"t":{},"n":6}}"#, common::minute_ms(2))
    );
    std::thread::sleep(Duration::from_millis(300));
    let stderr = stopped("second.log", &mut child, &rx);
    assert!(stderr.contains("resuming from checkpoint 1"), "{stderr}");
    assert!(stderr.contains("stopped at checkpoint 2"), "{stderr}");
    let rows = committed_rows(&copy);
    let distinct: std::collections::BTreeSet<&String> = rows.iter().collect();
    assert_eq!((rows.len(), distinct.len()), (17, 17), "{rows:?}");
}
