//! A real headless Chromium driven over the DevTools protocol through
//! `--remote-debugging-pipe` (fd 3 in, fd 4 out, messages ended by NUL): no WebDriver, no
//! websocket, the pages run as in a user's browser and the test reads their DOM as it
//! changes.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Debian's headless Chromium (`apt-get install chromium-headless-shell fonts-noto-cjk`),
/// or `$SLUICE_CHROMIUM`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SLUICE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

pub struct Browser {
    child: Child,
    to: std::io::PipeWriter,
    from: BufReader<std::io::PipeReader>,
    next_id: u64,
}

/// One tab, attached.
pub struct Page {
    session: String,
}

impl Browser {
    /// Starts `chromium` headless with a profile under `dir`.
    pub fn launch(chromium: &Path, dir: &Path) -> Browser {
        let (child_reads, to) = std::io::pipe().unwrap();
        let (from, child_writes) = std::io::pipe().unwrap();
        let (r, w) = (child_reads.as_raw_fd(), child_writes.as_raw_fd());
        let mut command = Command::new(chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--window-size=1400,900",
            ])
            .arg(format!("--user-data-dir={}", dir.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: only fcntl and dup2 (async-signal-safe) between fork and exec. Copied
        // above 10 first: a pipe may already be fd 3 or 4, and dup2 onto itself would
        // keep its close-on-exec flag.
        unsafe {
            command.pre_exec(move || {
                let (r, w) = (
                    libc::fcntl(r, libc::F_DUPFD, 10),
                    libc::fcntl(w, libc::F_DUPFD, 10),
                );
                if r < 0 || w < 0 || libc::dup2(r, 3) < 0 || libc::dup2(w, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium starts");
        drop((child_reads, child_writes));
        Browser {
            child,
            to,
            from: BufReader::new(from),
            next_id: 1,
        }
    }

    /// One protocol call; its result (events that come first are skipped).
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("chromium reads its pipe");
        loop {
            let mut buf = Vec::new();
            let n = self.from.read_until(0, &mut buf).expect("chromium answers");
            assert!(n > 0, "chromium closed its pipe during {method}");
            buf.pop();
            let reply: Value = serde_json::from_slice(&buf).expect("a protocol message");
            if reply["id"] == json!(id) {
                if let Some(e) = reply.get("error") {
                    panic!("{method}: {e}");
                }
                return reply["result"].clone();
            }
        }
    }

    /// A new tab at `url`, 1400x900.
    pub fn open(&mut self, url: &str) -> Page {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let page = Page {
            session: attached["sessionId"].as_str().unwrap().to_string(),
        };
        self.call(
            Some(&page.session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.navigate(&page, url);
        page
    }

    pub fn navigate(&mut self, page: &Page, url: &str) {
        self.call(Some(&page.session), "Page.navigate", json!({"url": url}));
    }

    /// The value of JavaScript `expression` in the page (promises awaited).
    pub fn eval(&mut self, page: &Page, expression: &str) -> Value {
        let result = self.call(
            Some(&page.session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = result.get("exceptionDetails") {
            panic!("{expression}: {e}");
        }
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` every 50 ms until `ok` holds of its value; the value.
    pub fn wait_for(
        &mut self,
        page: &Page,
        secs: u64,
        what: &str,
        expression: &str,
        mut ok: impl FnMut(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            let value = self.eval(page, expression);
            if ok(&value) {
                return value;
            }
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "not after {secs} s: {what}; the page has {value}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A PNG of what the tab shows, written to `path`.
    pub fn screenshot(&mut self, page: &Page, path: &Path) {
        let shot = self.call(
            Some(&page.session),
            "Page.captureScreenshot",
            json!({"format": "png"}),
        );
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
