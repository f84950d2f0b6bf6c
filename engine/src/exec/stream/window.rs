//! Which windows an event falls in. Windows are aligned to the epoch, as Flink's are, and
//! named by their start in epoch milliseconds.

/// A group window of a stream aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// `TUMBLE(ts, size)`: one window per event.
    Tumble { size_ms: i64 },
    /// `HOP(ts, slide, size)`: `size / slide` windows per event.
    Hop { slide_ms: i64, size_ms: i64 },
    /// `SESSION(ts, gap)`: a key's events less than `gap` apart form one window; it closes
    /// when the watermark is past its last event plus the gap.
    Session { gap_ms: i64 },
    /// A GROUP BY without a window over bounded inputs: one window holding every row,
    /// closed when every input has ended.
    Global,
}

/// The start of the single global window.
pub const GLOBAL_WINDOW: i64 = i64::MIN;

impl WindowKind {
    /// Milliseconds from a window's start to its end (exclusive).
    pub fn size_ms(&self) -> Option<i64> {
        match self {
            WindowKind::Tumble { size_ms } | WindowKind::Hop { size_ms, .. } => Some(*size_ms),
            WindowKind::Global | WindowKind::Session { .. } => None,
        }
    }

    /// The end of the window starting at `start`; the global window ends with the input.
    pub fn end(&self, start: i64) -> i64 {
        match self.size_ms() {
            Some(size) => start.saturating_add(size),
            None => i64::MAX,
        }
    }

    /// Calls `f` with the start of every window holding an event at `ts` (epoch ms).
    pub fn assign(&self, ts: i64, mut f: impl FnMut(i64)) {
        match *self {
            WindowKind::Tumble { size_ms } => f(ts - ts.rem_euclid(size_ms)),
            WindowKind::Hop { slide_ms, size_ms } => {
                let last = ts - ts.rem_euclid(slide_ms);
                let mut start = last;
                while start > ts - size_ms {
                    f(start);
                    start -= slide_ms;
                }
            }
            // Sessions are not aligned windows: the operator groups their rows itself.
            WindowKind::Global | WindowKind::Session { .. } => f(GLOBAL_WINDOW),
        }
    }

    /// Short description for plans: `TUMBLE(1m)`, `HOP(1m, 5m)`, `GLOBAL`.
    pub fn describe(&self) -> String {
        match *self {
            WindowKind::Tumble { size_ms } => format!("TUMBLE({})", duration(size_ms)),
            WindowKind::Hop { slide_ms, size_ms } => {
                format!(
                    "HOP(slide {}, size {})",
                    duration(slide_ms),
                    duration(size_ms)
                )
            }
            WindowKind::Session { gap_ms } => format!("SESSION(gap {})", duration(gap_ms)),
            WindowKind::Global => "GLOBAL (closes at end of input)".into(),
        }
    }
}

/// `60000` → `1m`, `1500` → `1500ms`.
pub fn duration(ms: i64) -> String {
    match ms {
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(kind: WindowKind, ts: i64) -> Vec<i64> {
        let mut v = Vec::new();
        kind.assign(ts, |s| v.push(s));
        v.sort();
        v
    }

    #[test]
    fn tumbling_windows_align_to_the_epoch() {
        let k = WindowKind::Tumble { size_ms: 60_000 };
        assert_eq!(starts(k, 0), vec![0]);
        assert_eq!(starts(k, 59_999), vec![0]);
        assert_eq!(starts(k, 60_000), vec![60_000]);
        assert_eq!(starts(k, -1), vec![-60_000]);
        assert_eq!(k.end(60_000), 120_000);
    }

    #[test]
    fn hopping_windows_hold_every_event_size_over_slide_times() {
        let k = WindowKind::Hop {
            slide_ms: 60_000,
            size_ms: 300_000,
        };
        assert_eq!(
            starts(k, 300_000),
            vec![60_000, 120_000, 180_000, 240_000, 300_000]
        );
        assert_eq!(
            starts(k, 359_999),
            vec![60_000, 120_000, 180_000, 240_000, 300_000]
        );
        for ts in [0i64, 1, 59_999, 123_456_789] {
            for s in starts(k, ts) {
                assert!(s <= ts && ts < k.end(s), "{ts} not in [{s}, {})", k.end(s));
            }
        }
    }

    /// The windows of `kind` holding `ts`, found the slow way: every slide-aligned start
    /// near `ts`, kept when `[start, start + size)` contains it.
    fn containing(slide: i64, size: i64, ts: i64) -> Vec<i64> {
        let first = (ts - size).div_euclid(slide) * slide;
        (0..=size / slide + 2)
            .map(|k| first + k * slide)
            .filter(|&s| s <= ts && ts < s + size)
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn a_tumbling_window_event_lands_in_exactly_the_window_containing_it(
            ts in -10_000_000_000_000i64..10_000_000_000_000,
            size in 1i64..100_000_000,
        ) {
            let k = WindowKind::Tumble { size_ms: size };
            proptest::prop_assert_eq!(starts(k, ts), containing(size, size, ts));
        }

        #[test]
        fn a_hopping_window_event_lands_in_exactly_the_windows_containing_it(
            ts in -10_000_000_000_000i64..10_000_000_000_000,
            slide in 1i64..10_000_000,
            per_slide in 1i64..50,
            extra in 0i64..10_000_000,
        ) {
            // Sizes that are and are not multiples of the slide.
            let size = slide * per_slide + extra % slide;
            let k = WindowKind::Hop { slide_ms: slide, size_ms: size };
            let got = starts(k, ts);
            proptest::prop_assert_eq!(&got, &containing(slide, size, ts));
            // No window twice, and as many as the size spans slides.
            let mut unique = got.clone();
            unique.dedup();
            proptest::prop_assert_eq!(unique.len(), got.len());
            proptest::prop_assert!(got.len() as i64 >= size / slide);
            proptest::prop_assert!(got.len() as i64 <= size / slide + 1);
            for s in got {
                proptest::prop_assert_eq!(s.rem_euclid(slide), 0);
                proptest::prop_assert!(k.end(s) > ts);
            }
        }
    }

    #[test]
    fn durations_read_like_sql_intervals() {
        assert_eq!(duration(60_000), "1m");
        assert_eq!(duration(300_000), "5m");
        assert_eq!(duration(2_000), "2s");
        assert_eq!(duration(3_600_000), "1h");
        assert_eq!(duration(1_500), "1500ms");
    }
}
