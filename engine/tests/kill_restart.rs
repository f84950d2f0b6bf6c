//! Crash and resume: `pv_uv.sql` runs in stream mode over Kafka (real broker, Redis and
//! MariaDB) taking checkpoints; it is killed with SIGKILL after a checkpoint, while windows
//! are open and after it has written rows the checkpoint does not cover; more input
//! arrives; the restarted job resumes from the checkpoint. MySQL and Redis must then hold
//! exactly what the batch run computes: nothing lost, nothing counted twice. The newest
//! checkpoint is damaged before the restart: it must be skipped for the one before. (A day of
//! generated traffic, so windows close before the kill.)
//! (`scripts/kill-test.sh` kills the four jobs at many random points.)

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use common::{TestDb, kafka_broker, produce_to_kafka, query_csv, sluice_ok, spawn_logged};
use redis::Commands;

const REDIS: &str = "redis://127.0.0.1:6379/0";

struct Job(Option<Child>);

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The events the summary line says a run wrote to `access_events`.
fn events_written(summary: &str) -> u64 {
    let at = summary.find("access_events=").expect(summary) + "access_events=".len();
    summary[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .expect(summary)
}

/// The newest complete checkpoint's manifest in `dir`, as JSON.
fn latest_manifest(dir: &Path) -> Option<serde_json::Value> {
    let mut ids: Vec<u64> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_prefix("chk-")?
                .parse()
                .ok()
        })
        .collect();
    ids.sort_unstable();
    ids.into_iter().rev().find_map(|id| {
        let text = std::fs::read(dir.join(format!("chk-{id}/_manifest.json"))).ok()?;
        serde_json::from_slice(&text).ok()
    })
}

/// The entries of a manifest's `section` ("sources", "sinks") about `table`.
fn entries<'m>(
    manifest: &'m serde_json::Value,
    section: &str,
    table: &'m str,
) -> impl Iterator<Item = &'m serde_json::Value> {
    manifest[section]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |s| s["name"] == table)
}

/// How many messages of source `table` a manifest has read (offsets start at 0).
fn read_by(manifest: &serde_json::Value, table: &str) -> u64 {
    entries(manifest, "sources", table)
        .flat_map(|s| s["splits"].as_array().into_iter().flatten())
        .filter_map(|s| s["position"].as_str()?.parse::<u64>().ok())
        .sum()
}

/// How many messages sink `table` had written by a manifest's checkpoint, over all
/// partitions (a topic the test made: offsets start at 0).
fn written_by(manifest: &serde_json::Value, table: &str) -> u64 {
    entries(manifest, "sinks", table)
        .flat_map(|s| s["state"]["positions"].as_object().into_iter().flatten())
        .filter_map(|(_, at)| at.as_str()?.parse::<u64>().ok())
        .sum()
}

/// The lines of `input` in two files in `dir`, the first and the second half; and how many
/// lines the first has.
fn write_halves(input: &Path, dir: &Path) -> ([PathBuf; 2], u64) {
    let text = std::fs::read_to_string(input).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let halves = [dir.join("first.log"), dir.join("second.log")];
    std::fs::write(&halves[0], first.join("\n") + "\n").unwrap();
    std::fs::write(&halves[1], second.join("\n") + "\n").unwrap();
    (halves, first.len() as u64)
}

/// `sluice -v run --mode stream --profile stack` with `sets` as variables, then `extra`.
fn stack_run(sets: &[String], extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "-v",
        "run",
        "--mode",
        "stream",
        "--no-progress",
        "--profile",
        "stack",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in sets {
        a.push("--set".into());
        a.push(s.clone());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_killed_stream_job_resumes_from_its_checkpoint_with_nothing_lost_or_doubled() {
    let brokers = kafka_broker();
    let tag = format!("kill{}", std::process::id());
    let db = TestDb::new("kill");
    let prefix = format!("sluice-test:{tag}:");
    let mut redis = redis::Client::open(REDIS)
        .unwrap()
        .get_connection()
        .expect("Redis at 127.0.0.1:6379");

    // A day of generated traffic (the real sample spans under a minute: no window would
    // close before the kill), in two halves fed one after the other.
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("day.log");
    common::produce(&input, 20_000, 7, 0);
    let (halves, _) = write_halves(&input, tmp.path());

    // What batch mode computes from the whole file.
    let expected_wh = tempfile::tempdir().unwrap();
    let wh_set = format!("warehouse={}", expected_wh.path().display());
    common::run_clean(expected_wh.path(), &input);
    sluice_ok(&["run", "jobs/pv_uv.sql", "--no-progress", "--set", &wh_set]);
    let expected = query_csv(
        expected_wh.path(),
        &[],
        "SELECT * FROM realtime_pv_uv_stat ORDER BY window_end, window_size, cms_type, cms_id",
    );
    assert!(expected.len() > 1000, "{} rows", expected.len());

    let stream_wh = tempfile::tempdir().unwrap();
    let checkpoints = stream_wh.path().join("_checkpoints").join("pv_uv");
    let sets = [
        format!("kafka_brokers={brokers}"),
        "kafka_startup_mode=earliest-offset".to_string(),
        format!("events_topic={tag}-events"),
        format!("dead_letter_topic={tag}-dlq"),
        format!("redis_key_prefix={prefix}"),
        format!("mysql_url={}", db.url()),
        // Partitions never count as idle: the pause between the halves holds no watermark.
        "idle_timeout_ms=600000".to_string(),
        "checkpoint.interval=300ms".to_string(),
        format!("warehouse={}", stream_wh.path().display()),
    ];
    let args = |extra: &[&str]| stack_run(&sets, extra);
    // Cleaning a half into the events topic: a bounded stream run of stream_clean.sql.
    let clean_half = |half: usize| -> u64 {
        let raw_topic = format!("{tag}-raw{half}");
        produce_to_kafka(&brokers, &raw_topic, &halves[half]);
        let raw_set = format!("raw_topic={raw_topic}");
        let a = args(&[
            "jobs/stream_clean.sql",
            "--set",
            "kafka_bounded_mode=latest-offset",
            "--set",
            &raw_set,
        ]);
        let a = strs(&a);
        events_written(&sluice_ok(&a))
    };

    let first_events = clean_half(0);
    assert!(first_events > 1000, "{first_events} events");

    // pv_uv runs on, until a checkpoint has every event of the first half.
    let logs = tempfile::tempdir().unwrap();
    let a = args(&["jobs/pv_uv.sql"]);
    let a = strs(&a);
    let mut job = Job(Some(spawn_logged(
        &a,
        std::fs::File::create(logs.path().join("before.log")).unwrap(),
    )));
    let log = |name: &str| std::fs::read_to_string(logs.path().join(name)).unwrap_or_default();
    let started = Instant::now();
    let manifest = loop {
        if let Some(m) = latest_manifest(&checkpoints)
            && read_by(&m, "access_events") == first_events
        {
            break m;
        }
        if let Ok(Some(status)) = job.0.as_mut().unwrap().try_wait() {
            panic!("pv_uv exited early: {status}\n{}", log("before.log"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint with all {first_events} events after 120 s\n{}",
            log("before.log")
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Windows are open at the checkpoint (their state is in it) ...
    let state_files: usize = manifest["statements"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["stages"].as_array().cloned().unwrap_or_default())
        .map(|s| s["files"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(state_files > 0, "no open window in {manifest}");
    // ... and rows went out before it.
    let written_before = db.query("SELECT COUNT(*) FROM realtime_pv_uv_stat")[0]
        .get::<i64, _>(0)
        .unwrap();
    assert!(written_before > 0);
    // Let it run on until a later checkpoint is complete, then kill it: no goodbye.
    let first_id = manifest["id"].as_u64().unwrap();
    while latest_manifest(&checkpoints).map_or(0, |m| m["id"].as_u64().unwrap()) <= first_id {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{}",
            log("before.log")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut child = job.0.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    // The newest checkpoint is damaged (a state file overwritten): the restart must skip it
    // for the one before, which has every event of the first half too.
    let newest = latest_manifest(&checkpoints).unwrap();
    let newest_id = newest["id"].as_u64().unwrap();
    let damaged = newest["statements"][0]["stages"][0]["files"][0]["name"]
        .as_str()
        .expect("a state file")
        .to_string();
    let path = checkpoints.join(format!("chk-{newest_id}")).join(&damaged);
    let len = std::fs::metadata(&path).unwrap().len() as usize;
    std::fs::write(&path, vec![0xAB; len]).unwrap();

    // The second half arrives while it is down; the restart resumes and runs to the end.
    clean_half(1);
    // Started without its checkpoint it would begin at the end of the topic (so a rerun from
    // scratch cannot pass for a resume); the checkpoint's offsets take precedence.
    let a = args(&[
        "jobs/pv_uv.sql",
        "--set",
        "kafka_bounded_mode=latest-offset",
        "--set",
        "kafka_startup_mode=latest-offset",
    ]);
    let a = strs(&a);
    let out = common::sluice(&a);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        common::stderr_of(&out),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("skipping checkpoint {newest_id}"))
            && stderr.contains(&format!("state file {damaged} does not match its manifest")),
        "{stderr}"
    );
    let resumed: u64 = stderr
        .split("resuming from checkpoint ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no resume in: {stderr}"));
    assert!(
        (first_id..newest_id).contains(&resumed),
        "resumed from {resumed}, expected one in {first_id}..{newest_id}"
    );
    assert!(stdout.contains("realtime_pv_uv_stat="), "{stdout}");

    // MySQL: exactly the batch rows.
    let db_set = format!("mysql_url={}", db.url());
    let got = query_csv(
        expected_wh.path(),
        &["--profile", "stack", "--set", &db_set],
        "SELECT * FROM realtime_pv_uv_stat ORDER BY window_end, window_size, cms_type, cms_id",
    );
    assert_eq!(got.len(), expected.len(), "row count");
    assert_eq!(got, expected);

    // Redis: exactly the batch's keys and values.
    let mut want: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in query_csv(
        expected_wh.path(),
        &[],
        "SELECT window_size, cms_type, cms_id, CAST(window_end AS BIGINT), pv, uv FROM realtime_pv_uv_stat",
    ) {
        want.insert(
            format!("{prefix}realtime:pv:uv:{}:{}:{}:{}", r[0], r[1], r[2], r[3]),
            BTreeMap::from([
                ("pv".to_string(), r[4].clone()),
                ("uv".to_string(), r[5].clone()),
            ]),
        );
    }
    let keys: BTreeSet<String> = redis
        .scan_match::<_, String>(format!("{prefix}*"))
        .unwrap()
        .map(|k| k.unwrap())
        .collect();
    let mut have = BTreeMap::new();
    for key in &keys {
        let fields: BTreeMap<String, String> = redis.hgetall(key).unwrap();
        have.insert(key.clone(), fields);
    }
    for key in &keys {
        let _: Result<(), _> = redis.del(key);
    }
    assert_eq!(have.len(), want.len(), "Redis key count");
    assert_eq!(have, want);

    // The job finished: its checkpoints are gone, nothing is left to resume.
    assert!(latest_manifest(&checkpoints).is_none());
}

/// Messages on `topic` by the partitions' listed ends (some brokers list the last batch's
/// first offset: a lower bound).
fn listed_messages(brokers: &str, topic: &str) -> u64 {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let timeout = Duration::from_secs(10);
    let Ok(metadata) = consumer.fetch_metadata(Some(topic), timeout) else {
        return 0;
    };
    metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .filter_map(|p| consumer.fetch_watermarks(topic, p, timeout).ok())
        .map(|(_, high)| high.max(0) as u64)
        .sum()
}

/// The number that `text` says right before `after`.
fn number_before(text: &str, after: &str) -> Option<u64> {
    let at = text.find(after)?;
    text[..at].split_whitespace().last()?.parse().ok()
}

/// The number that `text` says right after `before`.
fn number_after(text: &str, before: &str) -> Option<u64> {
    let at = text.find(before)? + before.len();
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn a_killed_stream_clean_resumes_and_writes_each_event_to_kafka_once() {
    let brokers = kafka_broker();
    let tag = format!("killclean{}", std::process::id());
    let events_topic = format!("{tag}-events");

    // The real sample, in two halves: the second arrives after the first checkpoint.
    let tmp = tempfile::tempdir().unwrap();
    let sample_path = common::testdata("10000_access.log");
    let (halves, first_lines) = write_halves(&sample_path, tmp.path());

    // What batch mode cleans from the whole sample.
    let expected_wh = tempfile::tempdir().unwrap();
    common::run_clean(expected_wh.path(), &sample_path);
    let all_events = "SELECT * FROM access_events \
        ORDER BY event_time, ip, url, cms_type, cms_id, traffic, city, isp";
    let expected = query_csv(expected_wh.path(), &[], all_events);
    assert!(expected.len() > 1000, "{} events", expected.len());

    let raw_topic = format!("{tag}-raw");
    let stream_wh = tempfile::tempdir().unwrap();
    let checkpoints = stream_wh.path().join("_checkpoints").join("stream_clean");
    let sets = [
        format!("kafka_brokers={brokers}"),
        "kafka_startup_mode=earliest-offset".to_string(),
        format!("raw_topic={raw_topic}"),
        format!("events_topic={events_topic}"),
        format!("dead_letter_topic={tag}-dlq"),
        // Long enough that the kill lands between two checkpoints, after output that the
        // earlier one does not cover.
        "checkpoint.interval=3s".to_string(),
        format!("warehouse={}", stream_wh.path().display()),
    ];
    produce_to_kafka(&brokers, &raw_topic, &halves[0]);
    let logs = tempfile::tempdir().unwrap();
    let log = |name: &str| std::fs::read_to_string(logs.path().join(name)).unwrap_or_default();
    let a = stack_run(&sets, &["jobs/stream_clean.sql"]);
    let mut job = Job(Some(spawn_logged(
        &strs(&a),
        std::fs::File::create(logs.path().join("before.log")).unwrap(),
    )));
    let started = Instant::now();
    let wait = |what: &str| {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{what} after 120 s\n{}",
            log("before.log")
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // A checkpoint has the whole first half (and what it wrote).
    while latest_manifest(&checkpoints).is_none_or(|m| read_by(&m, "raw_access_log") < first_lines)
    {
        wait("no checkpoint of the first half");
    }
    // The second half comes; the job is killed as soon as it has written events that the
    // newest checkpoint does not cover.
    produce_to_kafka(&brokers, &raw_topic, &halves[1]);
    loop {
        let covered = latest_manifest(&checkpoints).map_or(0, |m| written_by(&m, "access_events"));
        if listed_messages(&brokers, &events_topic) > covered {
            break;
        }
        wait("no events past the checkpoint");
    }
    let mut child = job.0.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let manifest = latest_manifest(&checkpoints).unwrap();
    let on_topic = listed_messages(&brokers, &events_topic);
    assert!(
        on_topic > written_by(&manifest, "access_events"),
        "the kill came after a checkpoint covering all output: {on_topic} events, {manifest}"
    );

    // The restart resumes from the checkpoint, replays the raw lines after it and ends when
    // caught up; what the killed run wrote after the checkpoint is not written again.
    let a = stack_run(
        &sets,
        &[
            "jobs/stream_clean.sql",
            "--set",
            "kafka_bounded_mode=latest-offset",
        ],
    );
    let out = common::sluice(&strs(&a));
    let stderr = common::stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("resuming from checkpoint {}", manifest["id"])),
        "{stderr}"
    );
    let matched = number_after(&stderr, &format!("what was on topic '{events_topic}' ("))
        .unwrap_or_else(|| panic!("no replay in: {stderr}"));
    let found = number_before(
        &stderr,
        &format!("messages on topic '{events_topic}' were written"),
    )
    .unwrap_or_else(|| panic!("no read-back in: {stderr}"));
    assert!(matched > 0 && matched == found, "{stderr}");

    // The topic holds exactly what the batch run cleaned: each event once.
    let read_back = [
        "--profile",
        "stack",
        "--set",
        &format!("kafka_brokers={brokers}"),
        "--set",
        "kafka_startup_mode=earliest-offset",
        "--set",
        &format!("events_topic={events_topic}"),
        "--set",
        &format!("dead_letter_topic={tag}-dlq"),
    ];
    let got = query_csv(expected_wh.path(), &read_back, all_events);
    assert_eq!(got.len(), expected.len(), "events on the topic");
    assert_eq!(got, expected);
}

/// The offsets the consumer group `group` has committed on `topic`, summed over partitions.
fn committed_offsets(brokers: &str, group: &str, topic: &str) -> i64 {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .map(|c| {
            c.elements()
                .iter()
                .filter_map(|e| match e.offset() {
                    rdkafka::Offset::Offset(o) => Some(o),
                    _ => None,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A job whose checkpoints stop (its other source, a generator, has ended) still commits
/// what its Kafka source reads on to the consumer group, as auto-commit would: a restart
/// goes on from there rather than from wherever the group last stood.
#[test]
fn a_kafka_source_commits_its_offsets_when_the_job_cannot_checkpoint() {
    let brokers = kafka_broker();
    let tag = format!("nocp{}", std::process::id());
    let topic = format!("{tag}-raw");
    let group = format!("{tag}-group");
    let sample = common::testdata("10000_access.log");
    produce_to_kafka(&brokers, &topic, &sample);
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("mixed.sql");
    std::fs::write(
        &job,
        format!(
            "CREATE TABLE raw_lines (line STRING) WITH ('connector' = 'kafka', 'topic' = '{topic}',
               'format' = 'raw', 'properties.bootstrap.servers' = '{brokers}',
               'properties.group.id' = '{group}', 'scan.startup.mode' = 'earliest-offset');
             CREATE TABLE made_up (event_time TIMESTAMP_LTZ(3), cms_id BIGINT)
             WITH ('connector' = 'generator', 'format' = 'events', 'rows' = '100');
             CREATE TABLE line_sink (line STRING) WITH ('connector' = 'memory', 'retain' = 'false');
             CREATE TABLE made_up_sink (cms_id BIGINT) WITH ('connector' = 'memory', 'retain' = 'false');
             INSERT INTO line_sink SELECT line FROM raw_lines;
             INSERT INTO made_up_sink SELECT cms_id FROM made_up;"
        ),
    )
    .unwrap();
    let log = dir.path().join("job.log");
    let args = common::stream_run_args(&job, &dir.path().join("wh"), "100ms");
    let _job = Job(Some(common::spawn_logged(
        &strs(&args),
        std::fs::File::create(&log).unwrap(),
    )));
    let lines = std::fs::read_to_string(&sample).unwrap().lines().count() as i64;
    let started = Instant::now();
    while committed_offsets(&brokers, &group, &topic) < lines {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the group has {} of {lines} after 30 s\n{}",
            committed_offsets(&brokers, &group, &topic),
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("no more checkpoints for this job"), "{text}");
}
