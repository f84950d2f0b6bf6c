//! `sluice serve` as a process the tests start, and HTTP calls to it.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A `sluice serve` process; killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    log: PathBuf,
}

impl Server {
    /// Starts a server on a free loopback port with its state in `state` and `warehouse`
    /// as its warehouse, plus `extra` arguments; waits until it listens.
    pub fn start(state: &Path, warehouse: &Path, extra: &[&str], log: PathBuf) -> Server {
        let state = state.display().to_string();
        let wh = format!("warehouse={}", warehouse.display());
        let mut args = vec!["serve", "--state-dir", &state, "--set", &wh];
        if !extra.contains(&"--listen") {
            args.extend(["--listen", "127.0.0.1:0"]);
        }
        args.extend(extra);
        let file = std::fs::File::create(&log).unwrap();
        let child = super::spawn_logged(&args, file);
        let mut server = Server {
            child: Some(child),
            url: String::new(),
            log,
        };
        let (log, child) = (&server.log, server.child.as_mut().unwrap());
        server.url = eventually(
            30,
            || "the server listens",
            || {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("the server exited: {status}\n{text}");
                }
                let at = text.find("listening on http://")?;
                let rest = &text[at + "listening on ".len()..];
                Some(rest.split_whitespace().next().unwrap().to_string())
            },
        );
        server
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill9(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, as `docker stop` sends; the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let log = self.log.clone();
        let what = || {
            format!(
                "stopped after SIGTERM\n{}",
                std::fs::read_to_string(&log).unwrap()
            )
        };
        eventually(90, what, || child.try_wait().unwrap())
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        http(method, &format!("{}{path}", self.url), body, None)
    }

    /// Waits until `what` holds of the job list, or fails with the server's log.
    pub fn wait_jobs(&self, what: &str, mut ok: impl FnMut(&[Value]) -> bool) -> Vec<Value> {
        eventually(
            60,
            || {
                let (_, list) = self.call("GET", "/api/v1/jobs", None);
                format!("{what}\njobs: {list}\n{}", self.log())
            },
            || {
                let (status, list) = self.call("GET", "/api/v1/jobs", None);
                assert_eq!(status, 200, "{list}");
                let list = list.as_array().unwrap().clone();
                ok(&list).then_some(list)
            },
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP request; the status and the JSON body (`Null` when it is not JSON).
pub fn http(method: &str, url: &str, body: Option<Value>, token: Option<&str>) -> (u16, Value) {
    let (status, text) = http_text(method, url, body, token);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn http_text(
    method: &str,
    url: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (u16, String) {
    super::runtime().block_on(async {
        let client = reqwest::Client::new();
        let mut request = client.request(method.parse().unwrap(), url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    })
}

/// Polls `f` until it gives a value; fails after `secs` saying `what` did not happen.
pub fn eventually<T, W: std::fmt::Display>(
    secs: u64,
    what: impl Fn() -> W,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "not after {secs} s: {}",
            what()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `sluice <args> --server URL`; its stdout, asserting success.
pub fn cli(server: &Server, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.extend(["--server", &server.url]);
    super::sluice_ok(&a)
}
