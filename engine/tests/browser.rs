//! The live board and the job console in a real headless Chromium: `sluice serve --board
//! boards/imooc.yaml` over the board jobs' local tables, fed by the real sample. The page's
//! figures equal the same SQL run with `sluice query`; a window that lands later shows within
//! 2 s without a reload (pushed over Server-Sent Events); the console lists the jobs, and its
//! stop button stops one with a final checkpoint. Screenshots of both go to
//! `$SLUICE_SCREENSHOTS` when it is set (the README's pictures are taken so).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::board::{BOARD_JOBS, CLOSING_LINE};
use common::browser::{Browser, Page, find_chromium};
use common::server::{Server, cli, eventually};
use serde_json::{Value, json};

const BOARD: &str = "boards/imooc.yaml";

/// The board file's panel queries, by panel id.
fn panel_queries() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(common::repo_root().join(BOARD)).unwrap();
    let board: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    board["panels"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| {
            let id = p["id"].as_str().unwrap().to_string();
            (id, p["sql"].as_str().unwrap().to_string())
        })
        .collect()
}

/// The sample's lines with their times moved to 2016-11-11 from 00:00:00, 0.18 s apart:
/// half an hour of the real site's traffic, a day after the sample's own.
fn sample_retimed() -> String {
    let sample = std::fs::read_to_string(common::testdata("10000_access.log")).unwrap();
    let mut out = String::new();
    for (i, line) in sample.lines().enumerate() {
        let (Some(open), Some(close)) = (line.find('['), line.find(']')) else {
            continue;
        };
        let at = i as u64 * 180 / 1000;
        let stamp = format!("11/Nov/2016:00:{:02}:{:02} +0800", at / 60, at % 60);
        out.push_str(&line[..=open]);
        out.push_str(&stamp);
        out.push_str(&line[close..]);
        out.push('\n');
    }
    out
}

/// What the page shows, read from its `data-testid` elements.
const FIGURES: &str = r#"(() => {
  const el = id => document.querySelector(`[data-testid="${id}"]`);
  const hot = el('hot-courses');
  return {
    online: el('online-users') && el('online-users').textContent.trim(),
    online_at: el('online-users') && el('online-users').getAttribute('data-latest'),
    hot: hot ? [...hot.querySelectorAll('li')].map(li => [li.getAttribute('data-cms-id'), li.textContent.trim()]) : null,
    points: el('pv-trend') && el('pv-trend').getAttribute('data-points'),
    provinces: el('province-map') && el('province-map').getAttribute('data-provinces'),
    updated: el('updated-at') && el('updated-at').textContent.trim(),
    connection: el('connection') && el('connection').textContent.trim(),
  };
})()"#;

/// The figures the page must show, from `sluice query` over the warehouse.
fn expected_figures(warehouse: &Path) -> Value {
    let queries = panel_queries();
    let query = |id: &str| common::query_csv(warehouse, &[], &queries[id]);
    let online = query("online-users");
    let hot: Vec<Value> = query("hot-courses")
        .iter()
        .map(|r| json!([r[0], r[1]]))
        .collect();
    let provinces = query("province-map")
        .iter()
        .filter(|r| sluice::server::boards::map_name(&r[0]).is_some())
        .count();
    json!({
        "online": online.last().map(|r| r[1].clone()),
        "hot": hot,
        "points": query("pv-trend").len().to_string(),
        "provinces": provinces.to_string(),
    })
}

fn shown(figures: &Value) -> Value {
    json!({
        "online": figures["online"],
        "hot": figures["hot"],
        "points": figures["points"],
        "provinces": figures["provinces"],
    })
}

/// Waits until the page shows what `sluice query` says, the tables having settled.
fn wait_until_shown(browser: &mut Browser, page: &Page, warehouse: &Path) -> Value {
    let started = Instant::now();
    loop {
        let want = expected_figures(warehouse);
        let got = browser.eval(page, FIGURES);
        if shown(&got) == want && want["online"] != Value::Null {
            return got;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the board shows {got}, not {want}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn screenshot(browser: &mut Browser, page: &Page, name: &str) {
    // The charts animate each update for about a second.
    std::thread::sleep(Duration::from_millis(2500));
    let dir = match std::env::var_os("SLUICE_SCREENSHOTS") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"),
    };
    std::fs::create_dir_all(&dir).unwrap();
    browser.screenshot(page, &dir.join(name));
}

#[test]
fn the_board_and_the_console_in_a_real_browser() {
    let Some(chromium) = find_chromium() else {
        eprintln!(
            "SKIPPED the_board_and_the_console_in_a_real_browser: no headless Chromium \
             (apt-get install -y chromium-headless-shell fonts-noto-cjk, or set SLUICE_CHROMIUM)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    // The sample, and a line long after it that closes the sample's windows.
    let raw = dir.path().join("day1.log");
    let sample = std::fs::read_to_string(common::testdata("10000_access.log")).unwrap();
    std::fs::write(&raw, format!("{sample}{CLOSING_LINE}\n")).unwrap();
    common::run_clean(&wh, &raw);

    let server = Server::start(
        &dir.path().join("state"),
        &wh,
        &["--board", BOARD, "--set", "monitor_interval=200ms"],
        dir.path().join("server.log"),
    );
    let mut ids = BTreeMap::new();
    for job in BOARD_JOBS {
        let id = cli(
            &server,
            &["submit", job, "--set", "checkpoint.interval=200ms"],
        );
        ids.insert(job, id.trim().to_string());
    }
    server.wait_jobs("4 jobs RUNNING", |l| {
        l.len() == 4 && l.iter().all(|j| j["state"] == "RUNNING")
    });

    let mut browser = Browser::launch(&chromium, &dir.path().join("chromium"));
    let board = browser.open(&format!("{}/board/imooc", server.url));
    let before = wait_until_shown(&mut browser, &board, &wh);
    assert_eq!(before["points"], "1", "the sample is one minute: {before}");

    // Half an hour more of the site's traffic lands: the page follows without a reload.
    let online_dir = wh.join("realtime_online_user_stat");
    let landed_before = common::committed_files(&online_dir);
    let raw2 = dir.path().join("day2.log");
    std::fs::write(&raw2, sample_retimed()).unwrap();
    common::run_clean(&wh, &raw2);
    let landed = eventually(
        60,
        || format!("a new window in {}\n{}", online_dir.display(), server.log()),
        || (common::committed_files(&online_dir).len() > landed_before.len()).then(Instant::now),
    );
    browser.wait_for(
        &board,
        10,
        "the page shows the window that landed",
        FIGURES,
        |f| f["online_at"] != before["online_at"],
    );
    let delay = landed.elapsed();
    assert!(
        delay <= Duration::from_secs(2),
        "the page showed the new window {delay:?} after it landed"
    );
    let after = wait_until_shown(&mut browser, &board, &wh);
    assert_ne!(after["points"], "1", "{after}");
    assert!(
        browser.eval(&board, "performance.getEntriesByType('navigation').length") == json!(1),
        "the page was not reloaded"
    );
    screenshot(&mut browser, &board, "board.png");

    // The console lists the jobs with their states.
    let console = browser.open(&format!("{}/", server.url));
    let states = browser.wait_for(
        &console,
        20,
        "the console lists 4 RUNNING jobs",
        r#"[...document.querySelectorAll('[data-testid="jobs"] tr[data-job-id]')].map(tr =>
            [tr.getAttribute('data-job-id'), tr.querySelector('[data-testid="job-state"]').textContent.trim()])"#,
        |v| {
            v.as_array().is_some_and(|rows| {
                rows.len() == 4 && rows.iter().all(|r| r[1] == "RUNNING")
            })
        },
    );
    let listed: Vec<&str> = states
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap())
        .collect();
    for id in ids.values() {
        assert!(listed.contains(&id.as_str()), "{id} not in {states}");
    }
    screenshot(&mut browser, &console, "console.png");

    // Its stop button stops a job with a final checkpoint.
    let id = &ids["jobs/pv_uv.sql"];
    browser.navigate(&console, &format!("{}/jobs/{id}", server.url));
    let stop = r#"document.querySelector('[data-testid="stop"]')"#;
    browser.wait_for(
        &console,
        20,
        "the stop button",
        &format!("!!{stop} && !{stop}.disabled"),
        |v| *v == json!(true),
    );
    browser.eval(&console, &format!("{stop}.click()"));
    let result = browser.wait_for(
        &console,
        60,
        "the job page says the job stopped",
        r#"[document.querySelector('[data-testid="job-state"]').textContent.trim(),
            document.querySelector('[data-testid="stop-result"]').textContent]"#,
        |v| v[0] == "STOPPED" && !v[1].as_str().unwrap_or_default().is_empty(),
    );
    let (_, detail) = server.call("GET", &format!("/api/v1/jobs/{id}"), None);
    assert_eq!(detail["state"], "STOPPED", "{detail}");
    let (_, checkpoints) = server.call("GET", &format!("/api/v1/jobs/{id}/checkpoints"), None);
    let newest = checkpoints
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .max()
        .expect("a checkpoint");
    assert!(
        result[1].as_str().unwrap().contains(&newest.to_string()),
        "the page names the final checkpoint {newest}: {result}"
    );
    let others = server.wait_jobs("the other jobs run on", |l| {
        l.iter().filter(|j| j["state"] == "RUNNING").count() == 3
    });
    assert_eq!(others.len(), 4);
}
