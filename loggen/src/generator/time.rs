//! Event time: ordered with optional disorder, and written as nginx writes it.

use chrono::{Datelike, NaiveDate};

use super::LogGenerator;
use crate::config::LATE_SHARE;
use crate::data::MONTHS;
use crate::text::{push_2, push_u64};

impl LogGenerator {
    pub(super) fn next_time_ns(&mut self) -> i64 {
        let base = self
            .start_ns
            .saturating_add((self.index as f64 * self.step_ns) as i64);
        self.index += 1;
        let mut ns = base;
        if self.disorder_ns > 0 && self.rng.chance(LATE_SHARE) {
            let late = (self.rng.unit() * self.disorder_ns as f64) as i64;
            ns = (base - late)
                .max(self.start_ns)
                .max(self.max_ns - self.disorder_ns);
        }
        self.max_ns = self.max_ns.max(ns);
        self.last_ns = ns;
        ns
    }

    pub(super) fn push_time(&mut self, out: &mut String, ns: i64) {
        let local = ns.div_euclid(1_000_000_000) + self.offset_secs;
        let day = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400) as u32;
        if day != self.cached_day {
            self.cached_day = day;
            self.date_prefix.clear();
            let date = i32::try_from(day + 719_163)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .unwrap_or_default();
            push_2(&mut self.date_prefix, date.day());
            self.date_prefix.push('/');
            self.date_prefix.push_str(MONTHS[date.month0() as usize]);
            self.date_prefix.push('/');
            push_u64(&mut self.date_prefix, date.year().max(0) as u64);
            self.date_prefix.push(':');
        }
        out.push('[');
        out.push_str(&self.date_prefix);
        push_2(out, sod / 3600);
        out.push(':');
        push_2(out, sod % 3600 / 60);
        out.push(':');
        push_2(out, sod % 60);
        out.push_str(&self.tz_suffix);
    }

    pub(super) fn event_ms(ns: i64) -> u64 {
        ns.div_euclid(1_000_000).max(0) as u64
    }
}

/// ` +0800]`: how the lines write an offset of `offset_secs`.
pub(super) fn tz_suffix(offset_secs: i64) -> String {
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let a = offset_secs.unsigned_abs();
    let mut s = String::with_capacity(8);
    s.push(' ');
    s.push(sign);
    push_2(&mut s, (a / 3600) as u32);
    push_2(&mut s, (a % 3600 / 60) as u32);
    s.push(']');
    s
}
