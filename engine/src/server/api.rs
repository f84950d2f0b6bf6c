//! The REST API (JSON) and the scrape endpoint. Errors are `{"error": …, "hint": …}` with a
//! status that says whose fault it is: 400 a bad request or job, 404 no such job, 409 not
//! in a state for it, 413 a body too large, 500 the server's own trouble.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::Deserialize;
use serde_json::json;

use super::auth::Token;
use super::boards::{Board, Boards};
use super::jobs::{Jobs, JobsError, Submission, parse_mode, parse_stop_mode};
use super::metrics::{self, JobsView, RateHistory};
use super::registry::{JobId, NewJob};
use super::web;
use crate::checkpoint::FromCheckpoint;

/// The most a request body may hold: a job's SQL is a few kilobytes.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// How long a stop call waits for the job to stop.
const STOP_WAIT: Duration = Duration::from_secs(600);

/// What every handler reads.
#[derive(Clone)]
pub struct AppState {
    pub jobs: Arc<Jobs>,
    pub boards: Arc<Boards>,
    pub rates: Arc<RateHistory>,
    /// False until the registry is read and its jobs are started again.
    pub ready: Arc<AtomicBool>,
    pub started: Instant,
    pub token: Option<Arc<Token>>,
}

/// An error as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: String,
    hint: String,
}

impl ApiError {
    fn new(status: StatusCode, error: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            hint: hint.into(),
        }
    }

    fn bad_request(error: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, error, hint)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": self.error, "hint": self.hint}));
        (self.status, body).into_response()
    }
}

impl From<JobsError> for ApiError {
    fn from(e: JobsError) -> Self {
        let (status, hint) = match &e {
            JobsError::Plan(_) => (
                StatusCode::BAD_REQUEST,
                "fix the job's SQL or settings and submit it again; `sluice explain` shows the \
                 same message locally",
            ),
            JobsError::Invalid(_) => (StatusCode::BAD_REQUEST, "see the API in the README"),
            JobsError::Unknown(_) => (StatusCode::NOT_FOUND, "GET /api/v1/jobs lists the jobs"),
            JobsError::Conflict(_) => (
                StatusCode::CONFLICT,
                "GET /api/v1/jobs/{id} shows the job's state",
            ),
            JobsError::Registry(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server's state directory is not writable or is damaged: see its log",
            ),
        };
        ApiError::new(status, e.to_string(), hint)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        let hint = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                format!("a request body holds at most {BODY_LIMIT} bytes")
            }
            _ => "send a JSON object with Content-Type: application/json".to_string(),
        };
        ApiError::new(status, r.body_text(), hint)
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The routes of `sluice serve`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/info", get(info))
        .route("/api/v1/jobs", post(submit).get(list))
        .route("/api/v1/jobs/{id}", get(detail).delete(delete))
        .route("/api/v1/jobs/{id}/stop", post(stop))
        .route("/api/v1/jobs/{id}/restart", post(restart))
        .route("/api/v1/jobs/{id}/checkpoints", get(checkpoints))
        .route("/api/v1/jobs/{id}/logs", get(logs))
        .route("/api/v1/boards", get(boards))
        .route("/api/v1/boards/{name}", get(board_snapshot))
        .route("/api/v1/boards/{name}/events", get(board_events))
        .route("/metrics", get(scrape))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize));
    Router::new()
        .route("/ping", get(|| async { "pong\n" }))
        .route("/ready", get(ready))
        .route("/", get(web::console))
        .route("/jobs/{id}", get(web::job))
        .route("/board/{name}", get(board_page))
        .route("/assets/{file}", get(web::asset))
        .merge(api)
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such endpoint",
                "the API is under /api/v1/: GET /api/v1/jobs lists the jobs",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Every API call carries the server's token, when it has one.
async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.token
        && !token.admits(request.headers())
    {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token",
            "send the server's token as `Authorization: Bearer <token>` (the CLI reads \
             SLUICE_AUTH_TOKEN)",
        )
        .into_response();
    }
    next.run(request).await
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.ready.load(Ordering::Relaxed) {
        true => Json(json!({"ready": true})).into_response(),
        false => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: the registry's jobs are being resumed",
            "ask again in a moment",
        )
        .into_response(),
    }
}

async fn info(State(state): State<AppState>) -> Json<serde_json::Value> {
    let settings = state.jobs.settings();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "profile": settings.profile,
        "catalog": settings.catalog_dir,
        "uptime_s": state.started.elapsed().as_secs(),
        "jobs": state.jobs.list().len(),
    }))
}

/// `POST /api/v1/jobs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    sql: String,
    #[serde(default = "default_name")]
    name: String,
    #[serde(default = "default_mode")]
    mode: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    restore: Option<String>,
}

fn default_name() -> String {
    "adhoc".into()
}

fn default_mode() -> String {
    "stream".into()
}

fn parse_from(text: Option<&str>) -> ApiResult<FromCheckpoint> {
    match text {
        None => Ok(FromCheckpoint::Latest),
        Some(t) => t.parse().map_err(|e: String| {
            ApiError::bad_request(e, "restore: latest, none or a checkpoint id")
        }),
    }
}

async fn submit(
    State(state): State<AppState>,
    body: Result<Json<SubmitBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body?;
    parse_mode(&body.mode)?;
    let restore = parse_from(body.restore.as_deref())?;
    let submission = Submission {
        job: NewJob {
            name: body.name,
            mode: body.mode,
            sql: body.sql,
            profile: body.profile,
            settings: body.set,
        },
        restore,
    };
    let record = state.jobs.submit(submission).await?;
    let body = json!({"id": record.id, "state": record.state});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The jobs, each with its latest rates.
async fn list(State(state): State<AppState>) -> Response {
    let jobs: Vec<serde_json::Value> = state
        .jobs
        .list()
        .into_iter()
        .map(|job| {
            let rate = state.rates.latest(job.id.as_str());
            let mut job = serde_json::to_value(job).unwrap_or_default();
            job["rate"] = serde_json::to_value(rate).unwrap_or_default();
            job
        })
        .collect();
    Json(jobs).into_response()
}

async fn detail(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = JobId::from(id.as_str());
    let detail = state.jobs.detail(&id)?;
    let mut body = serde_json::to_value(detail).unwrap_or_default();
    body["rates"] = serde_json::to_value(state.rates.of(id.as_str())).unwrap_or_default();
    Ok(Json(body).into_response())
}

async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let record = state.jobs.delete(&JobId::from(id.as_str()))?;
    Ok(Json(json!({"id": record.id, "deleted": true})).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StopBody {
    #[serde(default)]
    mode: Option<String>,
}

/// A JSON body that may be left out altogether.
fn optional<T: Default>(body: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    match body {
        Ok(Json(b)) => Ok(b),
        Err(JsonRejection::MissingJsonContentType(_)) => Ok(T::default()),
        Err(e) => Err(e.into()),
    }
}

async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<StopBody>, JsonRejection>,
) -> ApiResult<Response> {
    let body = optional(body)?;
    let mode = parse_stop_mode(body.mode.as_deref().unwrap_or("checkpoint"))?;
    let outcome = state
        .jobs
        .stop(&JobId::from(id.as_str()), mode, STOP_WAIT)
        .await?;
    Ok(Json(outcome).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestartBody {
    #[serde(default)]
    from: Option<String>,
}

async fn restart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<RestartBody>, JsonRejection>,
) -> ApiResult<Response> {
    let body = optional(body)?;
    let from = parse_from(body.from.as_deref())?;
    let record = state.jobs.restart(&JobId::from(id.as_str()), from).await?;
    Ok(Json(json!({"id": record.id, "state": record.state})).into_response())
}

async fn checkpoints(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(state.jobs.checkpoints(&JobId::from(id.as_str()))?).into_response())
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    #[serde(default = "default_tail")]
    tail: usize,
    /// Keep the response open and send new lines as they come (Server-Sent Events).
    #[serde(default)]
    follow: bool,
}

fn default_tail() -> usize {
    100
}

async fn logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Query(query) =
        query.map_err(|e| ApiError::bad_request(e.body_text(), "?tail=N&follow=true"))?;
    let log = state.jobs.log(&JobId::from(id.as_str()))?;
    let wants_events = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if !query.follow && !wants_events {
        return Ok(Json(json!({"lines": log.tail(query.tail)})).into_response());
    }
    // Subscribed before the tail is read: no line falls between the two.
    let live = log.subscribe();
    let tail = log.tail(query.tail);
    Ok(Sse::new(follow(tail, live))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The tail, then every new line, as events.
fn follow(
    tail: Vec<String>,
    live: tokio::sync::broadcast::Receiver<String>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    use tokio::sync::broadcast::error::RecvError;
    let tail = futures::stream::iter(tail.into_iter().map(|l| Ok(Event::default().data(l))));
    let live = futures::stream::unfold(live, |mut live| async move {
        let event = match live.recv().await {
            Ok(line) => Event::default().data(line),
            Err(RecvError::Lagged(n)) => Event::default()
                .event("skipped")
                .data(format!("({n} lines skipped: the reader fell behind)")),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), live))
    });
    futures::StreamExt::chain(tail, live)
}

fn board_named(state: &AppState, name: &str) -> ApiResult<Arc<Board>> {
    state.boards.get(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no board {name}"),
            "GET /api/v1/boards lists the boards; `sluice serve --board FILE` adds one",
        )
    })
}

async fn board_page(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    web::board(state.boards.get(&name).is_some())
}

async fn boards(State(state): State<AppState>) -> Response {
    let boards: Vec<serde_json::Value> = state
        .boards
        .iter()
        .map(|b| {
            let s = b.snapshot();
            let panels: Vec<&str> = s.panels.iter().map(|p| p.id.as_str()).collect();
            json!({"name": s.name, "title": s.title, "url": format!("/board/{}", s.name), "panels": panels})
        })
        .collect();
    Json(boards).into_response()
}

/// `GET /api/v1/boards/{name}`: every panel's query run now.
async fn board_snapshot(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let board = board_named(&state, &name)?;
    let snapshot =
        state.boards.query_now(board).await.map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e, "see the server's log")
        })?;
    Ok(Json(snapshot).into_response())
}

/// The board's snapshots as Server-Sent Events (`snapshot`): the latest, then each change.
async fn board_events(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let listener = board_named(&state, &name)?.listen();
    let events = futures::stream::unfold((listener, true), |(mut listener, first)| async move {
        if !first {
            listener.changed().await.ok()?;
        }
        loop {
            let latest = listener.borrow_and_update().clone();
            match latest {
                Some(json) => {
                    let event = Event::default().event("snapshot").data(&*json);
                    return Some((Ok::<_, Infallible>(event), (listener, false)));
                }
                // Nothing computed yet: the refresher was just woken.
                None => listener.changed().await.ok()?,
            }
        }
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

async fn scrape(State(state): State<AppState>) -> Response {
    metrics_response(state.jobs.clone())
}

fn metrics_response(view: Arc<dyn JobsView>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::render(view),
    )
        .into_response()
}

/// `GET /metrics` alone, for one job run in the foreground.
pub fn metrics_router(view: Arc<dyn JobsView>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || async move { metrics_response(view) }),
    )
}
