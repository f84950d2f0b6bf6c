//! `sluice submit | jobs | stop | restart | logs`: the CLI of a running `sluice serve`, over
//! its REST API. An unreachable server or a refused request is one clear message and exit
//! code 1.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use super::Cli;

/// Where the server is.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's address.
    #[arg(long, env = "SLUICE_SERVER", default_value = "http://127.0.0.1:8088")]
    server: String,
    /// The server's token, if it has one.
    #[arg(long, env = "SLUICE_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The job file (.sql); its text is sent, planned by the server.
    file: PathBuf,
    /// The job's name (default: the file's name without .sql).
    #[arg(long)]
    name: Option<String>,
    #[arg(long, value_enum, default_value_t = super::Mode::Stream)]
    mode: super::Mode,
    /// Which checkpoint the first run resumes from.
    #[arg(long, default_value = "latest", value_name = "latest|none|ID")]
    restore: String,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum ListFormat {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    id: String,
    /// End the input first: every open window closes and is written.
    #[arg(long, conflicts_with = "immediate")]
    drain: bool,
    /// Stop at once, without a final checkpoint.
    #[arg(long)]
    immediate: bool,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    id: String,
    /// The checkpoint to resume from.
    #[arg(long, default_value = "latest", value_name = "latest|ID")]
    from: String,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    id: String,
    /// Keep printing new lines as they come.
    #[arg(short, long)]
    follow: bool,
    /// How many of the last lines to print first.
    #[arg(long, default_value_t = 100)]
    tail: usize,
    #[command(flatten)]
    server: ServerArgs,
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    fn new(args: &ServerArgs) -> Self {
        Client {
            http: reqwest::Client::new(),
            base: args.server.trim_end_matches('/').to_string(),
            token: args.auth_token.clone().filter(|t| !t.trim().is_empty()),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| {
            let why = match e.is_connect() {
                true => "nothing answers there".to_string(),
                false => root_cause(&e),
            };
            anyhow::anyhow!(
                "cannot reach the sluice server at {}: {why} (start one with `sluice serve`, or \
                 point --server or SLUICE_SERVER at it)",
                self.base
            )
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        let error = body["error"].as_str().unwrap_or("(no message)");
        match body["hint"].as_str() {
            Some(hint) if !hint.is_empty() => bail!("{error}\nhint: {hint} ({status})"),
            _ => bail!("{error} ({status})"),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let response = self.send(method, path, body).await?;
        response
            .json()
            .await
            .with_context(|| format!("reading the server's answer to {path}"))
    }
}

/// The innermost error's message (reqwest wraps hyper's, which wraps the socket's).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

pub async fn submit(cli: &Cli, args: &SubmitArgs) -> anyhow::Result<i32> {
    let sql = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading job file {}", args.file.display()))?;
    let name = match &args.name {
        Some(n) => n.clone(),
        None => args
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .context("name the job with --name")?,
    };
    let mut set = serde_json::Map::new();
    for s in &cli.set {
        let (k, v) = crate::catalog::Vars::parse_assignment(s)?;
        set.insert(k, Value::String(v));
    }
    let mode = match args.mode {
        super::Mode::Batch => "batch",
        super::Mode::Stream => "stream",
    };
    let mut body =
        json!({"sql": sql, "name": name, "mode": mode, "set": set, "restore": args.restore});
    if let Some(profile) = &cli.profile {
        body["profile"] = json!(profile);
    }
    let created = Client::new(&args.server)
        .call(Method::POST, "/api/v1/jobs", Some(body))
        .await?;
    println!("{}", created["id"].as_str().unwrap_or_default());
    Ok(0)
}

pub async fn jobs(args: &JobsArgs) -> anyhow::Result<i32> {
    let list = Client::new(&args.server)
        .call(Method::GET, "/api/v1/jobs", None)
        .await?;
    let mut out = std::io::stdout().lock();
    match args.format {
        ListFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?,
        ListFormat::Table => write!(out, "{}", jobs_table(list.as_array().map_or(&[], |v| v)))?,
    }
    Ok(0)
}

/// The job list as a table, like `flink list`.
fn jobs_table(jobs: &[Value]) -> String {
    const HEADER: [&str; 10] = [
        "ID",
        "NAME",
        "MODE",
        "STATE",
        "STARTED",
        "IN",
        "OUT",
        "WATERMARK",
        "CHECKPOINT",
        "RESTARTS",
    ];
    let text = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let rows: Vec<[String; 10]> = jobs
        .iter()
        .map(|j| {
            let checkpoint = match &j["last_checkpoint"] {
                Value::Null => "-".to_string(),
                c => format!("{} ({} ms)", c["id"], c["duration_ms"]),
            };
            [
                text(&j["id"]),
                text(&j["name"]),
                text(&j["mode"]),
                text(&j["state"]),
                text(&j["started_at"]),
                text(&j["records_in"]),
                text(&j["records_out"]),
                text(&j["watermark"]),
                checkpoint,
                text(&j["restarts"]),
            ]
        })
        .collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(&HEADER.map(String::from));
    for row in &rows {
        line(row);
    }
    if rows.is_empty() {
        out.push_str("(no jobs)\n");
    }
    out
}

pub async fn stop(args: &StopArgs) -> anyhow::Result<i32> {
    let mode = match (args.drain, args.immediate) {
        (true, _) => "drain",
        (_, true) => "immediate",
        _ => "checkpoint",
    };
    let path = format!("/api/v1/jobs/{}/stop", args.id);
    let outcome = Client::new(&args.server)
        .call(Method::POST, &path, Some(json!({"mode": mode})))
        .await?;
    let state = outcome["state"].as_str().unwrap_or_default();
    let message = outcome["message"].as_str().unwrap_or_default();
    match outcome["checkpoint"].as_u64() {
        Some(id) => println!("{} {state}: checkpoint {id}", args.id),
        None => println!("{} {state}: {message}", args.id),
    }
    Ok(0)
}

pub async fn restart(args: &RestartArgs) -> anyhow::Result<i32> {
    let path = format!("/api/v1/jobs/{}/restart", args.id);
    let restarted = Client::new(&args.server)
        .call(Method::POST, &path, Some(json!({"from": args.from})))
        .await?;
    println!(
        "{} {}",
        args.id,
        restarted["state"].as_str().unwrap_or_default()
    );
    Ok(0)
}

pub async fn logs(args: &LogsArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.server);
    if !args.follow {
        let path = format!("/api/v1/jobs/{}/logs?tail={}", args.id, args.tail);
        let logs = client.call(Method::GET, &path, None).await?;
        let mut out = std::io::stdout().lock();
        for line in logs["lines"].as_array().into_iter().flatten() {
            writeln!(out, "{}", line.as_str().unwrap_or_default())?;
        }
        return Ok(0);
    }
    let path = format!(
        "/api/v1/jobs/{}/logs?tail={}&follow=true",
        args.id, args.tail
    );
    let mut events = client.send(Method::GET, &path, None).await?.bytes_stream();
    // Server-Sent Events: `data:` lines, events ending in a blank line.
    let mut pending = Vec::new();
    while let Some(chunk) = events.next().await {
        pending.extend_from_slice(&chunk.context("the server closed the log stream")?);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            if let Some(data) = line.trim_end_matches(['\r', '\n']).strip_prefix("data:") {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", data.strip_prefix(' ').unwrap_or(data))?;
                out.flush()?;
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_table_lines_up_its_columns() {
        let jobs = vec![json!({
            "id": "job-0001", "name": "pv_uv", "mode": "stream", "state": "RUNNING",
            "started_at": "2026-12-03T10:00:00.000Z", "records_in": 1200, "records_out": 40,
            "watermark": null, "last_checkpoint": {"id": 7, "duration_ms": 12}, "restarts": 0
        })];
        let table = jobs_table(&jobs);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("ID        NAME   MODE    STATE"),
            "{table}"
        );
        assert!(
            lines[1].starts_with("job-0001  pv_uv  stream  RUNNING"),
            "{table}"
        );
        assert!(lines[1].contains("7 (12 ms)"), "{table}");
        assert_eq!(jobs_table(&[]).lines().nth(1), Some("(no jobs)"));
    }
}
