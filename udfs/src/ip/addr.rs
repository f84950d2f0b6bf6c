//! Dotted-quad IPv4 parsing and the "internal address" rule used by the cleaning jobs.

/// Parses `a.b.c.d` (each 1–3 decimal digits, ≤ 255) into a host-order `u32`.
///
/// Hand-written because `std::net::Ipv4Addr::from_str` is several times slower and this runs
/// per row; leading zeros are read as decimal (nginx never writes them, and octal would
/// surprise everyone).
pub fn parse_ipv4(text: &str) -> Option<u32> {
    let bytes = text.as_bytes();
    if bytes.len() < 7 || bytes.len() > 15 {
        return None;
    }
    let mut ip: u32 = 0;
    let mut octet: u32 = 0;
    let mut digits = 0;
    let mut dots = 0;
    for &b in bytes {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                octet = octet * 10 + u32::from(b - b'0');
                if digits > 3 || octet > 255 {
                    return None;
                }
            }
            b'.' => {
                if digits == 0 || dots == 3 {
                    return None;
                }
                ip = (ip << 8) | octet;
                octet = 0;
                digits = 0;
                dots += 1;
            }
            _ => return None,
        }
    }
    if digits == 0 || dots != 3 {
        return None;
    }
    Some((ip << 8) | octet)
}

/// True when `ip` is not a usable public source: private (10/8, 172.16/12, 192.168/16),
/// loopback (127/8), `0.0.0.0`, or anything that is not a valid dotted IPv4 address (empty,
/// `-`, IPv6 text). The cleaning jobs drop these rows.
pub fn is_internal_ip(ip: &str) -> bool {
    parse_ipv4(ip).is_none_or(is_internal_addr)
}

/// [`is_internal_ip`] on an already parsed address.
pub fn is_internal_addr(ip: u32) -> bool {
    let [a, b, _, _] = ip.to_be_bytes();
    ip == 0 || a == 10 || a == 127 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn parses_like_std_for_canonical_text() {
        for s in [
            "0.0.0.0",
            "1.2.3.4",
            "255.255.255.255",
            "117.35.88.11",
            "10.100.0.1",
        ] {
            let want: Ipv4Addr = s.parse().expect("valid");
            assert_eq!(parse_ipv4(s), Some(u32::from(want)), "{s}");
        }
        assert_eq!(parse_ipv4("001.002.003.004"), Some(0x0102_0304));
    }

    #[test]
    fn rejects_non_ipv4() {
        for s in [
            "",
            "-",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.256",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            " 1.2.3.4",
            "::1",
            "2001:db8::1",
            "1.2.3.1234",
            "a.b.c.d",
            "1.2.3.-4",
            "1111.2.3.4",
        ] {
            assert_eq!(parse_ipv4(s), None, "{s:?}");
        }
    }

    #[test]
    fn internal_ranges() {
        for s in [
            "10.0.0.1",
            "10.100.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "0.0.0.0",
            "",
            "-",
            "1.2.3",
            "256.1.1.1",
            "::1",
            "fe80::1",
        ] {
            assert!(is_internal_ip(s), "{s:?} should be internal");
        }
        for s in [
            "117.35.88.11",
            "172.15.0.1",
            "172.32.0.1",
            "192.169.0.1",
            "11.0.0.1",
            "0.0.0.1",
            "8.8.8.8",
        ] {
            assert!(!is_internal_ip(s), "{s:?} should be public");
        }
    }
}
