//! Numeric field parsing for log values. Hand-rolled because `str::parse` accepts forms nginx
//! never writes (`+5`, `1e3`, `inf`, `NaN`) that would hide a misaligned line, and because the
//! common `0.616` case is worth a fast path.

/// A non-negative decimal integer made only of ASCII digits; `None` on anything else or overflow.
pub(crate) fn parse_u64_digits(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

pub(crate) fn parse_i32_digits(s: &str) -> Option<i32> {
    parse_u64_digits(s).and_then(|n| i32::try_from(n).ok())
}

pub(crate) fn parse_i64_digits(s: &str) -> Option<i64> {
    parse_u64_digits(s).and_then(|n| i64::try_from(n).ok())
}

/// A plain decimal `digits[.digits]` as nginx writes `$request_time`; `None` otherwise.
pub(crate) fn parse_decimal(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let (int_part, frac_part) = match memchr::memchr(b'.', bytes) {
        Some(dot) => (&bytes[..dot], &bytes[dot + 1..]),
        None => (bytes, &bytes[..0]),
    };
    let all_digits = |p: &[u8]| p.iter().all(u8::is_ascii_digit);
    if int_part.is_empty() || !all_digits(int_part) || !all_digits(frac_part) {
        return None;
    }
    // Fast path: with at most 15 significant digits both the scaled integer and the power of
    // ten are exact f64 values, so one division is correctly rounded — the same result as
    // `str::parse`, without its general-purpose machinery.
    if int_part.len() + frac_part.len() <= 15 {
        let mut n: u64 = 0;
        for &b in int_part.iter().chain(frac_part) {
            n = n * 10 + u64::from(b - b'0');
        }
        return Some(n as f64 / POW10[frac_part.len()]);
    }
    s.parse::<f64>().ok()
}

const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The last entry of an nginx upstream list (`502, 200` or `502 : 200`): the upstream that
/// finally answered. A single value is returned unchanged.
pub(crate) fn last_list_entry(s: &str) -> &str {
    match s.rfind([',', ':']) {
        Some(i) => s[i + 1..].trim_start_matches(' '),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_i32_digits("200"), Some(200));
        assert_eq!(parse_i32_digits("0"), Some(0));
        assert_eq!(parse_i32_digits(""), None);
        assert_eq!(parse_i32_digits("-"), None);
        assert_eq!(parse_i32_digits("+5"), None);
        assert_eq!(parse_i32_digits("2147483648"), None);
        assert_eq!(parse_i64_digits("99999999999999999999"), None);
        assert_eq!(parse_i64_digits("9223372036854775807"), Some(i64::MAX));
    }

    #[test]
    fn decimals_match_std_parse() {
        for s in [
            "0.616",
            "0.000",
            "12",
            "1.5",
            "123456.789012345",
            "0.1",
            "0.3",
            "9.999",
        ] {
            assert_eq!(parse_decimal(s), s.parse::<f64>().ok(), "{s}");
        }
        // Past the fast path
        assert_eq!(
            parse_decimal("1234567890.1234567890"),
            Some(1_234_567_890.123_456_7)
        );
        for s in ["", ".5", "1.", "1e3", "inf", "NaN", "-1", "1.2.3", "a"] {
            let want = if s == "1." { Some(1.0) } else { None };
            assert_eq!(parse_decimal(s), want, "{s}");
        }
    }

    #[test]
    fn upstream_lists() {
        assert_eq!(last_list_entry("200"), "200");
        assert_eq!(last_list_entry("502, 200"), "200");
        assert_eq!(last_list_entry("502 : 404"), "404");
        assert_eq!(last_list_entry("0.001, 0.002"), "0.002");
    }
}
