//! Realistic imooc nginx access-log generator (replaces the old `LogDataProducer`).
//!
//! Lines have exactly the shape of the real imooc log (`shared/data/imooc/10000_access.log`):
//!
//! ```text
//! $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_host" "$http_referer" $args
//! "$http_user_agent" "$http_x_forwarded_for" $upstream_addr $upstream_status $upstream_response_time $request_time
//! ```
//!
//! What makes them realistic:
//! - course ids are Zipf-distributed (a few hot courses) per type: video, code, learn, article;
//! - the referer mix follows the sample (video ≈ 35 %, code ≈ 24 %, learn ≈ 7 % of the non-`-`
//!   referers, course/list pages, qadetail, u/<uid>, article ≈ 1 %, coding.imooc.com,
//!   m.imooc.com, search engines …) with the sample's variants (`/video/5915/0`,
//!   `?from=itblog`, `/learn/85/?src=360onebox`);
//! - requests follow the page that refers them (a video page posts `/course/ajaxmediauser/`,
//!   loads recommendations, the CDN serves `.mp4`…), visits come in bursts from one client;
//! - clients come from public IPv4 blocks with a heavy-hitter subset, and keep their browser;
//! - internal traffic (the load balancer's health checks from 10.100.0.1, internal services,
//!   office machines) and `-` referers (app API calls, chat, bots) come in configurable shares.
//!
//! The generator is deterministic for a seed and allocation-free per line once warm.

mod config;
mod data;
mod generator;
mod model;
mod random;
mod sample;
#[cfg(test)]
mod tests;
mod text;

pub use config::GeneratorConfig;
pub use generator::LogGenerator;
pub use model::LineEvent;
pub use sample::TEST_LINES;
pub use text::push_ip;
