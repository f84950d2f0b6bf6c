//! What a generator makes: its seed, event-time density and shares, and the tuning constants.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta};

/// Offset of the imooc logs (+08:00, China Standard Time), in seconds.
pub(crate) const CST_SECS: i32 = 8 * 3600;

/// Number of distinct ids per course type (ids run 1..=N).
pub(crate) const VIDEO_IDS: usize = 14_000;
pub(crate) const CODE_IDS: usize = 9_000;
pub(crate) const LEARN_IDS: usize = 900;
pub(crate) const ARTICLE_IDS: usize = 12_000;
pub(crate) const CODING_CLASS_IDS: usize = 90;

/// Zipf exponents: a few hot courses, a long tail.
pub(crate) const COURSE_ZIPF_S: f64 = 0.9;
pub(crate) const LEARN_ZIPF_S: f64 = 1.0;

/// Client population: `HEAVY_USERS` heavy hitters (Zipf) take `HEAVY_SHARE` of the public
/// traffic, the rest comes uniformly from `NORMAL_USERS` other clients.
pub(crate) const HEAVY_USERS: usize = 2_000;
pub(crate) const HEAVY_SHARE: f64 = 0.15;
pub(crate) const HEAVY_ZIPF_S: f64 = 1.0;
pub(crate) const NORMAL_USERS: u32 = 400_000;

/// Probability that a page-referred line continues the previous visit (same client, same page).
pub(crate) const VISIT_CONTINUE: f64 = 0.55;
/// Share of internal lines that are load-balancer health checks or internal service calls
/// (both always have referer `-`); the rest are office machines browsing the site.
pub(crate) const INTERNAL_HEALTH: u32 = 60;
pub(crate) const INTERNAL_SERVICE: u32 = 10;
pub(crate) const INTERNAL_FIXED_DASH: f64 = (INTERNAL_HEALTH + INTERNAL_SERVICE) as f64 / 100.0;
/// Share of lines that arrive late when `max_disorder_ms > 0`.
pub(crate) const LATE_SHARE: f64 = 0.2;

/// Configuration of a [`LogGenerator`].
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    /// Seed: the same seed and configuration give the same lines.
    pub seed: u64,
    /// Event time of the first line (default 2016-11-10T00:00:00+08:00); its offset is the
    /// offset written into the lines.
    pub start: DateTime<FixedOffset>,
    /// Event-time density: timestamps advance by `1 / events_per_second` seconds per line on
    /// average (default: one million lines spread over one day, as [`GeneratorConfig::for_day`]).
    pub events_per_second: f64,
    /// Lines may carry an event time up to this much earlier than the largest event time
    /// emitted so far (0 = in order). About a fifth of the lines are late when it is set.
    pub max_disorder_ms: u64,
    /// Share of lines from internal IPs (10.x, 192.168.x, 172.16-31.x, 127.0.0.1), default 0.03.
    pub internal_ip_share: f64,
    /// Share of lines whose referer is `-` (API calls, chat, bots), default 0.55.
    pub dash_url_share: f64,
}

impl GeneratorConfig {
    /// One day of logs in +08:00: `lines` lines spread evenly over `day`, in order.
    /// The first `lines` lines all fall within that day.
    pub fn for_day(seed: u64, day: NaiveDate, lines: u64) -> Self {
        let events_per_second = if lines == 0 {
            1.0
        } else {
            lines as f64 / 86_400.0
        };
        Self {
            seed,
            start: local_midnight(day, cst()),
            events_per_second,
            max_disorder_ms: 0,
            internal_ip_share: 0.03,
            dash_url_share: 0.55,
        }
    }
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        let day = NaiveDate::from_ymd_opt(2016, 11, 10).unwrap_or_default();
        Self::for_day(42, day, 1_000_000)
    }
}

pub(crate) fn cst() -> FixedOffset {
    FixedOffset::east_opt(CST_SECS).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

pub(crate) fn local_midnight(day: NaiveDate, offset: FixedOffset) -> DateTime<FixedOffset> {
    let utc =
        day.and_time(NaiveTime::MIN) - TimeDelta::seconds(i64::from(offset.local_minus_utc()));
    DateTime::from_naive_utc_and_offset(utc, offset)
}
