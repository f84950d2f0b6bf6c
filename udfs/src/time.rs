//! nginx `$time_local` parsing: `10/Nov/2016:00:01:02 +0800`.
//!
//! Hand-written rather than chrono's `parse_from_str` because it runs once per log line on the
//! hot path, and because the error must say *which* part is wrong ("hour out of range").

use std::fmt;

/// A parsed `$time_local`: the instant plus the calendar day as written in the log's own zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NginxTime {
    /// The instant, milliseconds since the Unix epoch (UTC), offset applied.
    pub epoch_millis: i64,
    /// The line's UTC offset in seconds (`+0800` → 28800).
    pub offset_seconds: i32,
    // `YYYYMMDD` of the local date, kept as ASCII so callers can borrow it without allocating.
    day: [u8; 8],
}

impl NginxTime {
    /// What parsing nginx's text for the instant `epoch_millis`, written at `offset_seconds`,
    /// gives: for producers of parsed lines that never write the text (the log generator).
    /// `None` outside the years 1..=9999 nginx's format can hold.
    pub fn at(epoch_millis: i64, offset_seconds: i32) -> Option<NginxTime> {
        use chrono::Datelike as _;
        let local_millis = epoch_millis.checked_add(i64::from(offset_seconds) * 1_000)?;
        let date = chrono::DateTime::from_timestamp_millis(local_millis)?.date_naive();
        let year = u32::try_from(date.year())
            .ok()
            .filter(|y| (1..=9999).contains(y))?;
        let digit = |n: u32| b'0' + (n % 10) as u8;
        let (month, day) = (date.month(), date.day());
        Some(NginxTime {
            epoch_millis,
            offset_seconds,
            day: [
                digit(year / 1000),
                digit(year / 100),
                digit(year / 10),
                digit(year),
                digit(month / 10),
                digit(month),
                digit(day / 10),
                digit(day),
            ],
        })
    }

    /// The local calendar day as `YYYYMMDD` (the warehouse partition key).
    pub fn day(&self) -> &str {
        // Only ASCII digits are ever stored, so this cannot fail; the fallback keeps it panic-free.
        std::str::from_utf8(&self.day).unwrap_or("")
    }
}

/// Why a `$time_local` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("empty time")]
    Empty,
    #[error("expected dd/Mon/yyyy:HH:MM:SS +zzzz")]
    Malformed,
    #[error("unknown month '{0}'")]
    UnknownMonth(String),
    #[error("{0} out of range")]
    OutOfRange(TimePart),
    #[error("missing UTC offset")]
    MissingOffset,
    #[error("bad UTC offset (expected +hhmm or -hhmm)")]
    BadOffset,
}

/// The component named in an out-of-range error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePart {
    Day,
    Year,
    Hour,
    Minute,
    Second,
    Offset,
}

impl fmt::Display for TimePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimePart::Day => "day",
            TimePart::Year => "year",
            TimePart::Hour => "hour",
            TimePart::Minute => "minute",
            TimePart::Second => "second",
            TimePart::Offset => "UTC offset",
        })
    }
}

/// Length of `dd/Mon/yyyy:HH:MM:SS`.
const DATE_TIME_LEN: usize = 20;
/// Length of `dd/Mon/yyyy:HH:MM:SS +zzzz`.
const FULL_LEN: usize = 26;

/// Parses `10/Nov/2016:00:01:02 +0800`, with or without the surrounding `[` `]`.
///
/// The offset is required: without it the instant is ambiguous, and silently assuming UTC
/// would shift every event by hours.
pub fn parse_nginx_time(text: &str) -> Result<NginxTime, TimeError> {
    let mut s = text.trim().as_bytes();
    if let Some(rest) = s.strip_prefix(b"[") {
        s = rest;
    }
    if let Some(rest) = s.strip_suffix(b"]") {
        s = rest;
    }
    if s.is_empty() {
        return Err(TimeError::Empty);
    }
    if s.len() < DATE_TIME_LEN || !separators_ok(s) {
        return Err(TimeError::Malformed);
    }
    let day = two_digits(s, 0)?;
    let month = month_number(&s[3..6])?;
    let year = four_digits(s, 7)?;
    let hour = two_digits(s, 12)?;
    let minute = two_digits(s, 15)?;
    let second = two_digits(s, 18)?;

    let offset_seconds = parse_offset(&s[DATE_TIME_LEN..])?;

    if year == 0 {
        return Err(TimeError::OutOfRange(TimePart::Year));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(TimeError::OutOfRange(TimePart::Day));
    }
    if hour > 23 {
        return Err(TimeError::OutOfRange(TimePart::Hour));
    }
    if minute > 59 {
        return Err(TimeError::OutOfRange(TimePart::Minute));
    }
    // nginx never writes leap seconds; 60 would be a corrupt line.
    if second > 59 {
        return Err(TimeError::OutOfRange(TimePart::Second));
    }

    let days = days_from_civil(i64::from(year), month, day);
    let local_seconds =
        days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second);
    let epoch_millis = (local_seconds - i64::from(offset_seconds)) * 1_000;

    // The day text is copied from the input digits: it is the local date by construction.
    let day_text = [
        s[7],
        s[8],
        s[9],
        s[10],
        month_tens(month),
        month_ones(month),
        s[0],
        s[1],
    ];
    Ok(NginxTime {
        epoch_millis,
        offset_seconds,
        day: day_text,
    })
}

fn separators_ok(s: &[u8]) -> bool {
    s[2] == b'/' && s[6] == b'/' && s[11] == b':' && s[14] == b':' && s[17] == b':'
}

fn digit(s: &[u8], i: usize) -> Result<u32, TimeError> {
    match s.get(i) {
        Some(b) if b.is_ascii_digit() => Ok(u32::from(b - b'0')),
        _ => Err(TimeError::Malformed),
    }
}

fn two_digits(s: &[u8], i: usize) -> Result<u32, TimeError> {
    Ok(digit(s, i)? * 10 + digit(s, i + 1)?)
}

fn four_digits(s: &[u8], i: usize) -> Result<u32, TimeError> {
    Ok(two_digits(s, i)? * 100 + two_digits(s, i + 2)?)
}

/// `[+-]hhmm` after a single space; anything else is a bad or missing offset.
fn parse_offset(rest: &[u8]) -> Result<i32, TimeError> {
    let rest = match rest {
        [] => return Err(TimeError::MissingOffset),
        [b' ', tail @ ..] => tail,
        _ => return Err(TimeError::Malformed),
    };
    if rest.is_empty() {
        return Err(TimeError::MissingOffset);
    }
    if rest.len() != FULL_LEN - DATE_TIME_LEN - 1 {
        return Err(TimeError::BadOffset);
    }
    let sign = match rest[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(TimeError::BadOffset),
    };
    let hours = two_digits(rest, 1).map_err(|_| TimeError::BadOffset)?;
    let minutes = two_digits(rest, 3).map_err(|_| TimeError::BadOffset)?;
    if hours > 23 || minutes > 59 {
        return Err(TimeError::OutOfRange(TimePart::Offset));
    }
    // hours ≤ 23 and minutes ≤ 59, so this fits an i32 without overflow.
    Ok(sign * (hours * 3_600 + minutes * 60) as i32)
}

/// Month abbreviation → 1..=12; nginx writes `Nov`, but case is not worth rejecting a line for.
fn month_number(m: &[u8]) -> Result<u32, TimeError> {
    let lower = [
        m[0].to_ascii_lowercase(),
        m[1].to_ascii_lowercase(),
        m[2].to_ascii_lowercase(),
    ];
    let n = match &lower {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => {
            return Err(TimeError::UnknownMonth(
                String::from_utf8_lossy(m).into_owned(),
            ));
        }
    };
    Ok(n)
}

fn month_tens(month: u32) -> u8 {
    b'0' + (month / 10) as u8
}

fn month_ones(month: u32) -> u8 {
    b'0' + (month % 10) as u8
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Datelike, FixedOffset};

    #[test]
    fn a_time_at_an_instant_is_what_parsing_its_text_gives() {
        for text in [
            "10/Nov/2016:00:01:02 +0800",
            "09/Nov/2016:23:59:59 +0800",
            "31/Dec/2016:23:30:00 -0130",
            "01/Jan/2017:00:00:00 +0000",
            "29/Feb/2016:07:00:00 +1400",
        ] {
            let parsed = parse_nginx_time(text).unwrap();
            let at = NginxTime::at(parsed.epoch_millis, parsed.offset_seconds);
            assert_eq!(at, Some(parsed), "{text}");
        }
        assert_eq!(NginxTime::at(i64::MAX, 3_600), None);
        assert_eq!(NginxTime::at(-70_000_000_000_000, 0), None);
    }

    #[test]
    fn parses_with_and_without_brackets() {
        let a = parse_nginx_time("[10/Nov/2016:00:01:02 +0800]").expect("valid");
        let b = parse_nginx_time("10/Nov/2016:00:01:02 +0800").expect("valid");
        assert_eq!(a, b);
        // 2016-11-09T16:01:02Z
        assert_eq!(a.epoch_millis, 1_478_707_262_000);
        assert_eq!(a.offset_seconds, 8 * 3600);
        assert_eq!(a.day(), "20161110");
    }

    #[test]
    fn local_day_differs_from_utc_day() {
        // 07:59 local on the 10th is 23:59 UTC on the 9th: the partition is the local day.
        let t = parse_nginx_time("10/Nov/2016:07:59:59 +0800").expect("valid");
        assert_eq!(t.day(), "20161110");
        let t = parse_nginx_time("31/Dec/2016:23:30:00 -0500").expect("valid");
        assert_eq!(t.day(), "20161231");
        assert_eq!(t.epoch_millis, 1_483_245_000_000); // 2017-01-01T04:30:00Z
    }

    #[test]
    fn agrees_with_chrono() {
        let samples = [
            "01/Jan/1970:00:00:00 +0000",
            "29/Feb/2000:12:34:56 -0930",
            "28/Feb/1900:23:59:59 +1400",
            "10/Nov/2016:00:01:02 +0800",
            "31/Mar/2099:01:02:03 -0000",
            "15/Jul/0001:10:00:00 +0100",
        ];
        for s in samples {
            let ours = parse_nginx_time(s).expect(s);
            let theirs =
                DateTime::<FixedOffset>::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z").expect(s);
            assert_eq!(ours.epoch_millis, theirs.timestamp_millis(), "{s}");
            let local = theirs.naive_local();
            let want = format!("{:04}{:02}{:02}", local.year(), local.month(), local.day());
            assert_eq!(ours.day(), want, "{s}");
        }
    }

    #[test]
    fn rejects_bad_values_with_reasons() {
        let cases: &[(&str, TimeError)] = &[
            ("", TimeError::Empty),
            ("[]", TimeError::Empty),
            (
                "99/Foo/2016:00:01:02 +0800",
                TimeError::UnknownMonth("Foo".into()),
            ),
            (
                "10/Nov/2016:25:01:02 +0800",
                TimeError::OutOfRange(TimePart::Hour),
            ),
            (
                "10/Nov/2016:23:60:02 +0800",
                TimeError::OutOfRange(TimePart::Minute),
            ),
            (
                "10/Nov/2016:23:00:60 +0800",
                TimeError::OutOfRange(TimePart::Second),
            ),
            (
                "31/Nov/2016:00:00:00 +0800",
                TimeError::OutOfRange(TimePart::Day),
            ),
            (
                "29/Feb/2015:00:00:00 +0800",
                TimeError::OutOfRange(TimePart::Day),
            ),
            (
                "00/Feb/2015:00:00:00 +0800",
                TimeError::OutOfRange(TimePart::Day),
            ),
            (
                "10/Nov/0000:00:00:00 +0800",
                TimeError::OutOfRange(TimePart::Year),
            ),
            ("10/Nov/2016:00:01:02", TimeError::MissingOffset),
            ("10/Nov/2016:00:01:02 ", TimeError::MissingOffset),
            ("10/Nov/2016:00:01:02 0800", TimeError::BadOffset),
            ("10/Nov/2016:00:01:02 +08:00", TimeError::BadOffset),
            (
                "10/Nov/2016:00:01:02 +2500",
                TimeError::OutOfRange(TimePart::Offset),
            ),
            ("10/Nov/2016:00:01:02+0800", TimeError::Malformed),
            ("1/Nov/2016:00:01:02 +0800", TimeError::Malformed),
            ("10-Nov-2016 00:01:02 +0800", TimeError::Malformed),
            ("aa/Nov/2016:00:01:02 +0800", TimeError::Malformed),
            ("10/Nov/2016", TimeError::Malformed),
        ];
        for (input, want) in cases {
            assert_eq!(parse_nginx_time(input).as_ref(), Err(want), "{input:?}");
        }
        assert_eq!(
            TimeError::OutOfRange(TimePart::Hour).to_string(),
            "hour out of range"
        );
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for s in [
            "[",
            "]",
            "[[]]",
            "é/Nov/2016:00:01:02 +0800",
            "10/Növ/2016:00:01:02 +0800",
            "\u{0}",
        ] {
            let _ = parse_nginx_time(s);
        }
    }
}
