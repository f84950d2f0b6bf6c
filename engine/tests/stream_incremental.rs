//! Stream mode emits each window as soon as the watermark passes its end, while the input
//! is still flowing: with the generator paced in real time, every 2-second window appears
//! within 1 s (wall) of the event that moved the watermark past its end.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const JOB: &str = "
CREATE TABLE paced_events (
  event_time TIMESTAMP_LTZ(3),
  cms_id BIGINT,
  WATERMARK FOR event_time AS event_time - INTERVAL '0' SECOND
) WITH (
  'connector' = 'generator', 'format' = 'events', 'rows' = '2400',
  'rate' = '400', 'events_per_second' = '400', 'batch_ms' = '50', 'seed' = '3'
);
CREATE TABLE event_log (kind STRING, t BIGINT, n BIGINT) WITH ('connector' = 'stdout');
CREATE TABLE window_log (kind STRING, t BIGINT, n BIGINT) WITH ('connector' = 'stdout');

INSERT INTO event_log SELECT 'event', CAST(event_time AS BIGINT), 1 FROM paced_events;

INSERT INTO window_log
SELECT 'window', CAST(TUMBLE_END(event_time, INTERVAL '2' SECOND) AS BIGINT), COUNT(*)
FROM paced_events
GROUP BY TUMBLE(event_time, INTERVAL '2' SECOND);
";

struct Seen {
    at: Instant,
    kind: String,
    t: i64,
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"'))
}

#[test]
fn windows_close_while_the_input_flows() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("paced.sql");
    std::fs::write(&job, JOB).unwrap();
    let mut child = common::spawn(
        &[
            "run",
            "--mode",
            "stream",
            "--no-progress",
            job.to_str().unwrap(),
        ],
        Stdio::piped(),
    );
    let stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let at = Instant::now();
        let (Some(kind), Some(t)) = (field(&line, "kind"), field(&line, "t")) else {
            continue;
        };
        seen.push(Seen {
            at,
            kind: kind.to_string(),
            t: t.parse().unwrap(),
        });
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "sluice failed");

    let events: Vec<&Seen> = seen.iter().filter(|s| s.kind == "event").collect();
    let windows: Vec<&Seen> = seen.iter().filter(|s| s.kind == "window").collect();
    // `rows` counts generated lines; the events are the lines clean.sql would keep.
    assert!(events.len() > 500, "{} events", events.len());
    let last_event = events.iter().map(|e| e.at).max().unwrap();
    let mut early = 0;
    let mut worst = Duration::ZERO;
    for w in &windows {
        // The first event at or past the window's end moved the watermark past it.
        let Some(trigger) = events.iter().find(|e| e.t >= w.t) else {
            continue; // closed by the end of input
        };
        let lag = w.at.saturating_duration_since(trigger.at);
        worst = worst.max(lag);
        assert!(
            lag < Duration::from_secs(1),
            "window ending {} appeared {lag:?} after the watermark passed it",
            w.t
        );
        if w.at < last_event {
            early += 1;
        }
    }
    eprintln!(
        "{} windows, {early} before the input ended, worst lag behind the watermark {worst:?}",
        windows.len()
    );
    // 2400 lines at 400/s span 6 s: at least two windows close before the input ends.
    assert!(
        early >= 2,
        "only {early} of {} windows came before the input ended",
        windows.len()
    );
}
