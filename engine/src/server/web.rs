//! The pages `sluice serve` shows in a browser: the job console (`/`, `/jobs/{id}`) and the
//! boards (`/board/{name}`), plain HTML and JavaScript over the REST API. Every file,
//! ECharts and its China map included, is built into the binary (`engine/web/`), so a board
//! works without internet. The pages hold no data, so they need no token; the API calls
//! they make do.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// ECharts 4.9.0's map of China (GeoJSON; `provinces` reads its names).
pub const CHINA_MAP: &[u8] = include_bytes!("../../web/vendor/china.json");

const CONSOLE: &str = include_str!("../../web/console.html");
const JOB: &str = include_str!("../../web/job.html");
const BOARD: &str = include_str!("../../web/board.html");

/// Files under `/assets/`: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("common.js", JS, include_bytes!("../../web/common.js")),
    ("console.js", JS, include_bytes!("../../web/console.js")),
    ("job.js", JS, include_bytes!("../../web/job.js")),
    ("board.js", JS, include_bytes!("../../web/board.js")),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/style.css"),
    ),
    (
        "echarts.min.js",
        JS,
        include_bytes!("../../web/vendor/echarts.min.js"),
    ),
    ("china.json", "application/json", CHINA_MAP),
];
const JS: &str = "text/javascript; charset=utf-8";

fn html(page: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page,
    )
        .into_response()
}

pub async fn console() -> Response {
    html(CONSOLE)
}

pub async fn job() -> Response {
    html(JOB)
}

/// The board page; `known` says whether the board exists.
pub fn board(known: bool) -> Response {
    match known {
        true => html(BOARD),
        false => (
            StatusCode::NOT_FOUND,
            "no such board: GET /api/v1/boards lists them\n",
        )
            .into_response(),
    }
}

pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                // Built into this binary: the same for as long as the server runs.
                (header::CACHE_CONTROL, "max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}
