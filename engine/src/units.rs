//! The one grammar for durations and sizes in options, variables and settings: a whole
//! number, optional spaces, and a unit (case does not matter). Durations: `250ms`, `10s`,
//! `10 s`, `5m`, `1 min`, `24h`, `1d`, `30 seconds`; a bare number is seconds. Sizes: `512MB`,
//! `2 GiB`, `1048576`; KB/MB/GB are powers of 1024, as Flink reads memory sizes.

use std::time::Duration;

/// A duration as the grammar above reads it; the error says what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (n, unit) = number_and_unit(text).ok_or_else(|| {
        format!("'{text}' is not a duration (e.g. 500ms, 10s, 10 s, 5m, 1 min, 24h, 1d)")
    })?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1,
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use ms, s, min, h or d)"
            ));
        }
    };
    n.checked_mul(scale)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("'{text}' is too long"))
}

/// A size in bytes as the grammar above reads it.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let (n, unit) = number_and_unit(text)
        .ok_or_else(|| format!("'{text}' is not a size (e.g. 512mb, 2gb, 1048576)"))?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use b, kb, mb, gb)"
            ));
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("'{text}' is too large"))
}

/// `"10 s"` → `(10, "s")`: a whole number and the unit after it (trimmed).
fn number_and_unit(text: &str) -> Option<(u64, &str)> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    Some((number.parse().ok()?, unit.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_spelling() {
        for (text, ms) in [
            ("250ms", 250),
            ("250 ms", 250),
            ("10", 10_000),
            ("10s", 10_000),
            ("10 s", 10_000),
            ("30 seconds", 30_000),
            ("5m", 300_000),
            ("1 min", 60_000),
            ("2 Minutes", 120_000),
            ("24h", 86_400_000),
            ("1d", 86_400_000),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5y").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("512MB"), Ok(512 << 20));
        assert_eq!(parse_bytes("2 GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("4k"), Ok(4096));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
        assert!(
            parse_bytes("99999999999 tb")
                .unwrap_err()
                .contains("too large")
        );
    }
}
