//! The line generator: its state, construction and public API; how lines are made is in
//! the submodules (time, clients, pages, lines, output).

use std::io;

use chrono::{DateTime, FixedOffset};
use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::config::{
    ARTICLE_IDS, CODE_IDS, CODING_CLASS_IDS, COURSE_ZIPF_S, GeneratorConfig, HEAVY_USERS,
    HEAVY_ZIPF_S, INTERNAL_FIXED_DASH, LEARN_IDS, LEARN_ZIPF_S, VIDEO_IDS, VISIT_CONTINUE,
};
use crate::model::{Fields, LineEvent, Visit};
use crate::random::{Rand, Zipf, mix64};

mod clients;
mod emit;
mod lines;
mod mix;
mod page_line;
mod pages;
mod time;

use mix::Mix;
use time::tz_suffix;

/// The line generator. See the module documentation.
pub struct LogGenerator {
    cfg: GeneratorConfig,
    rng: Rand,
    salt: u64,
    // Event time.
    start_ns: i64,
    step_ns: f64,
    disorder_ns: i64,
    offset_secs: i64,
    index: u64,
    last_ns: i64,
    max_ns: i64,
    cached_day: i64,
    date_prefix: String,
    tz_suffix: String,
    // Probabilities.
    p_dash_other: f64,
    // Distributions.
    video: Zipf,
    code: Zipf,
    learn: Zipf,
    article: Zipf,
    coding_class: Zipf,
    heavy: Zipf,
    /// What kinds of pages, lines and requests are made, and how often.
    mix: Mix,
    // The current visit (bursts of requests from one page).
    visit: Option<Visit>,
    // Per-line buffers.
    path: String,
    referer: String,
    args: String,
    chunk: String,
}

impl LogGenerator {
    /// A generator for `cfg`; deterministic for `cfg.seed`.
    pub fn new(cfg: GeneratorConfig) -> Self {
        let mut rng = Rand(SmallRng::seed_from_u64(cfg.seed));
        let salt = mix64(cfg.seed ^ 0x5EED_1A5C_0FFE_E000);
        let video = Zipf::new(VIDEO_IDS, COURSE_ZIPF_S, &mut rng);
        let code = Zipf::new(CODE_IDS, COURSE_ZIPF_S, &mut rng);
        let learn = Zipf::new(LEARN_IDS, LEARN_ZIPF_S, &mut rng);
        let article = Zipf::new(ARTICLE_IDS, COURSE_ZIPF_S, &mut rng);
        let coding_class = Zipf::new(CODING_CLASS_IDS, LEARN_ZIPF_S, &mut rng);
        let heavy = Zipf::new(HEAVY_USERS, HEAVY_ZIPF_S, &mut rng);

        let offset_secs = i64::from(cfg.start.offset().local_minus_utc());
        let start_ns = cfg
            .start
            .timestamp_nanos_opt()
            .unwrap_or_else(|| cfg.start.timestamp().saturating_mul(1_000_000_000));
        let eps = if cfg.events_per_second.is_finite() && cfg.events_per_second > 0.0 {
            cfg.events_per_second
        } else {
            1.0
        };
        let step_ns = 1e9 / eps;
        let disorder_ns = i64::try_from(cfg.max_disorder_ms.min(u64::MAX / 2_000_000))
            .unwrap_or(i64::MAX / 1_000_000)
            .saturating_mul(1_000_000);
        let tz_suffix = tz_suffix(offset_secs);

        let internal = cfg.internal_ip_share.clamp(0.0, 1.0);
        let fixed = internal * INTERNAL_FIXED_DASH;
        let p_dash_other = if fixed >= 1.0 {
            0.0
        } else {
            ((cfg.dash_url_share.clamp(0.0, 1.0) - fixed) / (1.0 - fixed)).clamp(0.0, 1.0)
        };

        Self {
            salt,
            start_ns,
            step_ns,
            disorder_ns,
            offset_secs,
            index: 0,
            last_ns: start_ns,
            max_ns: start_ns,
            cached_day: i64::MIN,
            date_prefix: String::with_capacity(16),
            tz_suffix,
            p_dash_other,
            video,
            code,
            learn,
            article,
            coding_class,
            heavy,
            mix: Mix::new(),
            visit: None,
            path: String::with_capacity(256),
            referer: String::with_capacity(256),
            args: String::with_capacity(512),
            chunk: String::new(),
            cfg,
            rng,
        }
    }

    /// The configuration this generator runs with.
    pub fn config(&self) -> &GeneratorConfig {
        &self.cfg
    }

    /// Number of lines generated so far.
    pub fn lines_generated(&self) -> u64 {
        self.index
    }

    /// Event time of the most recently generated line (`start` before the first line).
    pub fn current_event_time(&self) -> DateTime<FixedOffset> {
        self.ns_to_time(self.last_ns)
    }

    /// Largest event time generated so far (`start` before the first line). Every later
    /// line is at least this minus `max_disorder_ms`.
    pub fn max_event_time(&self) -> DateTime<FixedOffset> {
        self.ns_to_time(self.max_ns)
    }

    fn ns_to_time(&self, ns: i64) -> DateTime<FixedOffset> {
        let secs = ns.div_euclid(1_000_000_000);
        let nanos = ns.rem_euclid(1_000_000_000) as u32;
        match DateTime::from_timestamp(secs, nanos) {
            Some(t) => t.with_timezone(self.cfg.start.offset()),
            None => self.cfg.start,
        }
    }

    /// Appends one line (without `'\n'`) to `out`.
    pub fn next_line(&mut self, out: &mut String) {
        let (ns, f) = self.next_fields();
        self.emit(out, ns, &f);
    }

    /// Makes the next line like [`LogGenerator::next_line`] (same random draws, so a generator
    /// gives the same sequence whichever of the two is called), but returns only what the
    /// cleaning job reads instead of writing the line.
    pub fn next_event(&mut self) -> LineEvent<'_> {
        let (ns, f) = self.next_fields();
        LineEvent {
            ip: f.ip,
            epoch_secs: ns.div_euclid(1_000_000_000),
            bytes: f.bytes,
            referer: if self.referer.is_empty() {
                "-"
            } else {
                &self.referer
            },
        }
    }

    /// The UTC offset written into the lines, in seconds (`+0800` → 28800).
    pub fn utc_offset_secs(&self) -> i64 {
        self.offset_secs
    }

    /// Event time and fields of the next line; the variable-length parts are left in the
    /// `path`, `referer` and `args` buffers.
    fn next_fields(&mut self) -> (i64, Fields) {
        let ns = self.next_time_ns();
        self.path.clear();
        self.referer.clear();
        self.args.clear();
        let f = if self.rng.chance(self.cfg.internal_ip_share) {
            self.internal_line(ns)
        } else if self.rng.chance(self.p_dash_other) {
            let client = self.pick_client();
            self.dash_line(ns, client)
        } else {
            let visit = match self.visit {
                Some(v) if self.rng.chance(VISIT_CONTINUE) => v,
                _ => {
                    let v = Visit {
                        client: self.pick_client(),
                        page: self.pick_page(),
                    };
                    self.visit = Some(v);
                    v
                }
            };
            self.page_line(ns, visit.client, visit.page)
        };
        (ns, f)
    }

    /// Writes `n` lines, each followed by `'\n'`, in large chunks; returns the bytes written.
    pub fn write_lines<W: io::Write>(&mut self, w: &mut W, n: u64) -> io::Result<u64> {
        const CHUNK: usize = 1 << 16;
        let mut chunk = std::mem::take(&mut self.chunk);
        chunk.clear();
        chunk.reserve(CHUNK + 4096);
        let mut written = 0u64;
        let mut result = Ok(());
        for _ in 0..n {
            self.next_line(&mut chunk);
            chunk.push('\n');
            if chunk.len() >= CHUNK {
                if let Err(e) = w.write_all(chunk.as_bytes()) {
                    result = Err(e);
                    break;
                }
                written += chunk.len() as u64;
                chunk.clear();
            }
        }
        if result.is_ok() && !chunk.is_empty() {
            result = w.write_all(chunk.as_bytes());
            if result.is_ok() {
                written += chunk.len() as u64;
            }
        }
        chunk.clear();
        self.chunk = chunk;
        result.map(|()| written)
    }
}
