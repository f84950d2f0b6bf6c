use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Timelike};

use super::*;
use crate::model::{ip4, is_internal};
use crate::text::{push_hex, push_secs3, push_u64};

/// Splits a line on spaces, keeping `"..."` fields whole (quotes removed). The time field
/// `[10/Nov/2016:00:01:02 +0800]` is two tokens, so a well-formed line has 17.
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::with_capacity(17);
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        if b[i] == b'"' {
            let end = line[i + 1..]
                .find('"')
                .map(|e| i + 1 + e)
                .unwrap_or(b.len());
            out.push(&line[i + 1..end]);
            i = end + 1;
        } else {
            let end = line[i..].find(' ').map(|e| i + e).unwrap_or(b.len());
            out.push(&line[i..end]);
            i = end;
        }
    }
    out
}

fn parse_ip(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut v = 0u32;
    for p in parts {
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        v = (v << 8) | p.parse::<u8>().ok()? as u32;
    }
    Some(v)
}

fn is_secs3(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.len() == 3
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn parse_time(t: &[&str]) -> DateTime<FixedOffset> {
    let s = format!(
        "{} {}",
        t[3].trim_start_matches('['),
        t[4].trim_end_matches(']')
    );
    DateTime::parse_from_str(&s, "%d/%b/%Y:%H:%M:%S %z")
        .unwrap_or_else(|e| panic!("bad time {s:?}: {e}"))
}

/// Asserts the 17-field imooc shape; returns the tokens.
fn check_shape(line: &str) -> Vec<&str> {
    assert!(!line.contains('\n'), "newline in {line:?}");
    let t = tokens(line);
    assert_eq!(t.len(), 17, "field count of {line:?}: {t:?}");
    assert!(parse_ip(t[0]).is_some(), "remote_addr in {line:?}");
    assert_eq!((t[1], t[2]), ("-", "-"), "{line:?}");
    assert!(t[3].starts_with('[') && t[4].ends_with(']'), "{line:?}");
    parse_time(&t);
    let req: Vec<&str> = t[5].split(' ').collect();
    assert_eq!(req.len(), 3, "request of {line:?}");
    assert!(["GET", "POST", "HEAD"].contains(&req[0]), "{line:?}");
    assert!(req[1].starts_with('/'), "{line:?}");
    assert!(req[2] == "HTTP/1.1" || req[2] == "HTTP/1.0", "{line:?}");
    assert!(
        t[6].len() == 3 && t[6].parse::<u16>().is_ok(),
        "status of {line:?}"
    );
    let bytes: u64 = t[7].parse().unwrap_or_else(|_| panic!("bytes of {line:?}"));
    assert!(bytes <= 1_048_576, "{line:?}");
    assert!(!t[8].is_empty() && !t[8].contains(' '), "host of {line:?}");
    assert!(
        !t[9].is_empty() && !t[9].contains(' '),
        "referer of {line:?}"
    );
    assert!(
        !t[10].is_empty() && !t[10].contains('"'),
        "args of {line:?}"
    );
    assert!(!t[11].is_empty(), "ua of {line:?}");
    assert!(
        t[12] == "-" || t[12].split(", ").all(|ip| parse_ip(ip).is_some()),
        "xff of {line:?}"
    );
    if t[13] == "-" {
        assert_eq!((t[14], t[15]), ("-", "-"), "{line:?}");
    } else {
        let (host, port) = t[13]
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("upstream of {line:?}"));
        assert!(
            parse_ip(host).is_some() && port.parse::<u16>().is_ok(),
            "{line:?}"
        );
        assert!(t[14].len() == 3 && t[14].parse::<u16>().is_ok(), "{line:?}");
        assert!(is_secs3(t[15]), "{line:?}");
    }
    assert!(is_secs3(t[16]), "request_time of {line:?}");
    // The old jobs split blindly on spaces: the referer must be token 11 then.
    let blind: Vec<&str> = line.split(' ').collect();
    assert_eq!(blind[11].trim_matches('"'), t[9], "blind split of {line:?}");
    t
}

fn lines(cfg: GeneratorConfig, n: usize) -> Vec<String> {
    let mut g = LogGenerator::new(cfg);
    (0..n)
        .map(|_| {
            let mut s = String::new();
            g.next_line(&mut s);
            s
        })
        .collect()
}

fn cfg(seed: u64) -> GeneratorConfig {
    GeneratorConfig {
        seed,
        ..GeneratorConfig::default()
    }
}

#[test]
fn deterministic_for_a_seed() {
    let a = lines(cfg(7), 2000);
    let b = lines(cfg(7), 2000);
    assert_eq!(a, b);
    let c = lines(cfg(8), 2000);
    assert_ne!(a, c);
    // write_lines gives the same lines as next_line.
    let mut g = LogGenerator::new(cfg(7));
    let mut buf = Vec::new();
    let n = g.write_lines(&mut buf, 2000).expect("write to a Vec");
    assert_eq!(n as usize, buf.len());
    let text = String::from_utf8(buf).expect("utf-8");
    let written: Vec<&str> = text.lines().collect();
    assert_eq!(written.len(), 2000);
    assert!(written.iter().zip(&a).all(|(w, l)| *w == l.as_str()));
    assert!(text.ends_with('\n'));
}

#[test]
fn every_line_has_the_imooc_shape() {
    for seed in [1, 2, 3] {
        let c = GeneratorConfig {
            seed,
            max_disorder_ms: 3000,
            internal_ip_share: 0.1,
            ..GeneratorConfig::default()
        };
        for l in lines(c, 20_000) {
            check_shape(&l);
        }
    }
}

#[test]
fn test_lines_have_the_imooc_shape() {
    for l in TEST_LINES {
        check_shape(l);
    }
    // They cover the brief: video, code, learn, article, other hosts, '-' referer, internal IP.
    let refs: Vec<&str> = TEST_LINES.iter().map(|l| tokens(l)[9]).collect();
    for needle in [
        "/video/",
        "/code/",
        "/learn/",
        "/article/",
        "coding.imooc.com",
        "m.imooc.com",
    ] {
        assert!(refs.iter().any(|r| r.contains(needle)), "{needle}");
    }
    assert!(refs.contains(&"-"));
    assert!(TEST_LINES.iter().any(|l| l.starts_with("10.")));
}

#[test]
fn in_order_without_disorder() {
    let c = GeneratorConfig {
        events_per_second: 300.0,
        ..cfg(3)
    };
    let mut g = LogGenerator::new(c.clone());
    assert_eq!(g.current_event_time(), c.start);
    let mut prev = c.start;
    let mut prev_line = c.start;
    let mut s = String::new();
    for _ in 0..20_000 {
        s.clear();
        g.next_line(&mut s);
        let t = g.current_event_time();
        assert!(t >= prev);
        let lt = parse_time(&tokens(&s));
        assert!(lt >= prev_line);
        assert_eq!(lt.timestamp(), t.timestamp());
        prev = t;
        prev_line = lt;
    }
    // 20k lines at 300/s: about 66.7 s of event time.
    let span = (prev - c.start).num_milliseconds();
    assert!((66_000..67_000).contains(&span), "{span}");
}

#[test]
fn disorder_stays_within_the_bound() {
    let d = 2_500i64;
    let c = GeneratorConfig {
        events_per_second: 200.0,
        max_disorder_ms: d as u64,
        ..cfg(5)
    };
    let mut g = LogGenerator::new(c);
    let mut max_seen: Option<DateTime<FixedOffset>> = None;
    let mut max_line_secs = i64::MIN;
    let mut late = 0;
    let mut worst = 0i64;
    let mut s = String::new();
    for _ in 0..50_000 {
        s.clear();
        g.next_line(&mut s);
        let t = g.current_event_time();
        if let Some(m) = max_seen {
            let behind = (m - t).num_milliseconds();
            assert!(behind <= d, "{behind} ms behind");
            if behind > 0 {
                late += 1;
                worst = worst.max(behind);
            }
        }
        max_seen = Some(max_seen.map_or(t, |m| m.max(t)));
        assert_eq!(g.max_event_time(), max_seen.expect("set"));
        // The written second is never more than the bound (rounded up to a second) behind.
        let secs = parse_time(&tokens(&s)).timestamp();
        assert!(
            secs >= max_line_secs.saturating_sub(d / 1000 + 1),
            "line {secs} vs {max_line_secs}"
        );
        max_line_secs = max_line_secs.max(secs);
    }
    assert!(late > 5_000, "only {late} late lines");
    assert!(worst > d / 2, "worst lateness {worst} ms");
}

fn internal(ip: &str) -> bool {
    parse_ip(ip).is_some_and(is_internal)
}

#[test]
fn shares_roughly_as_configured() {
    for (internal_share, dash_share) in [(0.03, 0.55), (0.2, 0.3), (0.0, 0.7)] {
        let c = GeneratorConfig {
            internal_ip_share: internal_share,
            dash_url_share: dash_share,
            ..cfg(11)
        };
        let n = 100_000;
        let all = lines(c, n);
        let mut int = 0usize;
        let mut dash = 0usize;
        let mut types: HashMap<&str, usize> = HashMap::new();
        let mut non_dash = 0usize;
        let mut status: HashMap<&str, usize> = HashMap::new();
        for l in &all {
            let t = tokens(l);
            if internal(t[0]) {
                int += 1;
            }
            *status.entry(t[6]).or_default() += 1;
            if t[9] == "-" {
                dash += 1;
                continue;
            }
            non_dash += 1;
            let ty = t[9]
                .strip_prefix("http://www.imooc.com/")
                .and_then(|rest| rest.split_once('/'))
                .map(|(ty, _)| ty);
            if let Some(ty) = ty {
                *types.entry(ty).or_default() += 1;
            }
        }
        let share = |k: usize| k as f64 / n as f64;
        assert!(
            (share(int) - internal_share).abs() < 0.006,
            "internal {}",
            share(int)
        );
        assert!(
            (share(dash) - dash_share).abs() < 0.01,
            "dash {}",
            share(dash)
        );
        let of_referers = |ty: &str| types.get(ty).copied().unwrap_or(0) as f64 / non_dash as f64;
        assert!(
            (of_referers("video") - 0.355).abs() < 0.03,
            "video {}",
            of_referers("video")
        );
        assert!(
            (of_referers("code") - 0.243).abs() < 0.03,
            "code {}",
            of_referers("code")
        );
        assert!(
            (of_referers("learn") - 0.072).abs() < 0.02,
            "learn {}",
            of_referers("learn")
        );
        assert!(
            (0.004..0.02).contains(&of_referers("article")),
            "article {}",
            of_referers("article")
        );
        // Mostly 200, with some 301/302/304/404.
        let st = |s: &str| status.get(s).copied().unwrap_or(0) as f64 / n as f64;
        assert!(st("200") > 0.6, "200: {}", st("200"));
        assert!(st("304") > 0.005, "304: {}", st("304"));
        assert!(st("404") > 0.001, "404: {}", st("404"));
        assert!(st("302") > 0.0003, "302: {}", st("302"));
        if internal_share > 0.0 {
            assert!(st("301") > 0.005, "301: {}", st("301"));
        }
    }
}

#[test]
fn public_addresses_avoid_reserved_ranges() {
    let c = GeneratorConfig {
        internal_ip_share: 0.0,
        ..cfg(13)
    };
    for l in lines(c, 50_000) {
        let ip = parse_ip(tokens(&l)[0]).expect("ip");
        let [a, b, ..] = ip.to_be_bytes();
        assert!(!is_internal(ip), "{l}");
        assert!(a != 0 && a < 224, "{l}");
        assert!(!(a == 169 && b == 254), "{l}");
        assert!(!(a == 100 && (64..128).contains(&b)), "{l}");
    }
}

#[test]
fn hot_courses_and_heavy_hitters() {
    let all = lines(cfg(17), 100_000);
    let mut videos: HashMap<String, usize> = HashMap::new();
    let mut ips: HashMap<String, usize> = HashMap::new();
    for l in &all {
        let t = tokens(l);
        *ips.entry(t[0].to_string()).or_default() += 1;
        if let Some(id) = t[9].strip_prefix("http://www.imooc.com/video/") {
            let id = id.split('/').next().unwrap_or(id);
            *videos.entry(id.to_string()).or_default() += 1;
        }
    }
    let mut v: Vec<usize> = videos.values().copied().collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    let total: usize = v.iter().sum();
    // A few hot videos: the top one takes several percent, the top 10 well over a tenth.
    assert!(
        v[0] as f64 / total as f64 > 0.02,
        "top video {} of {total}",
        v[0]
    );
    assert!(v[..10].iter().sum::<usize>() as f64 / total as f64 > 0.12);
    assert!(v[0] > 3 * v[9], "{:?}", &v[..10]);
    // Ids stay in range.
    for id in videos.keys() {
        let id: u32 = id.parse().expect("numeric video id");
        assert!((1..=14_000).contains(&id));
    }
    let mut counts: Vec<(usize, &String)> = ips.iter().map(|(k, v)| (*v, k)).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    // The health checker first, then real heavy hitters with distinct counts.
    assert_eq!(counts[0].1, "10.100.0.1");
    let public: Vec<usize> = counts
        .iter()
        .filter(|(_, ip)| !internal(ip))
        .map(|(c, _)| *c)
        .take(11)
        .collect();
    assert!(public[0] > 500, "top public ip {}", public[0]);
    assert!(public[0] > 2 * public[10], "{public:?}");
    assert!(ips.len() > 20_000, "{} distinct ips", ips.len());
}

#[test]
fn a_client_keeps_its_browser() {
    let mut uas: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    for l in lines(cfg(19), 50_000) {
        let t = tokens(&l);
        if t[11].starts_with("Mozilla/5.0 (Windows") && t[8] == "www.imooc.com" {
            uas.entry(t[0].to_string())
                .or_default()
                .insert(t[11].to_string());
        }
    }
    assert!(uas.len() > 1000);
    // Clients draw addresses from the sample's networks, so a few share one (as behind a NAT).
    let shared = uas.values().filter(|s| s.len() > 1).count();
    assert!(
        shared * 100 < uas.len(),
        "{shared} of {} addresses have several browsers",
        uas.len()
    );
}

#[test]
fn for_day_stays_within_the_day() {
    let day = NaiveDate::from_ymd_opt(2016, 11, 11).expect("date");
    let n = 30_000u64;
    let mut c = GeneratorConfig::for_day(23, day, n);
    c.max_disorder_ms = 10_000;
    let start = c.start;
    assert_eq!(
        start,
        FixedOffset::east_opt(8 * 3600)
            .expect("+08")
            .with_ymd_and_hms(2016, 11, 11, 0, 0, 0)
            .unwrap()
    );
    let mut g = LogGenerator::new(c);
    let mut s = String::new();
    let mut last = start;
    for i in 0..n {
        s.clear();
        g.next_line(&mut s);
        let t = parse_time(&tokens(&s));
        assert_eq!(t.date_naive(), day, "line {i}: {s}");
        assert!(s.contains("/Nov/2016:"));
        assert!(s.contains(" +0800] "));
        last = g.current_event_time();
    }
    // The lines spread over the whole day.
    assert!(last.hour() == 23 && last.minute() >= 55, "{last}");
}

#[test]
fn default_config() {
    let c = GeneratorConfig::default();
    assert_eq!(c.start.to_rfc3339(), "2016-11-10T00:00:00+08:00");
    assert_eq!(c.max_disorder_ms, 0);
    assert!((c.internal_ip_share - 0.03).abs() < 1e-12);
    assert!((c.dash_url_share - 0.55).abs() < 1e-12);
    assert!((c.events_per_second - 1_000_000.0 / 86_400.0).abs() < 1e-9);
    let mut g = LogGenerator::new(c);
    let mut s = String::new();
    g.next_line(&mut s);
    assert!(s.contains("[10/Nov/2016:00:00:00 +0800]"), "{s}");
}

#[test]
fn other_offsets_are_written() {
    let start = FixedOffset::west_opt(5 * 3600 + 1800)
        .expect("-05:30")
        .with_ymd_and_hms(2020, 2, 29, 23, 59, 59)
        .unwrap();
    let c = GeneratorConfig {
        start,
        events_per_second: 1.0,
        ..cfg(1)
    };
    let mut g = LogGenerator::new(c);
    let mut s = String::new();
    g.next_line(&mut s);
    assert!(s.contains("[29/Feb/2020:23:59:59 -0530]"), "{s}");
    s.clear();
    g.next_line(&mut s);
    assert!(s.contains("[01/Mar/2020:00:00:00 -0530]"), "{s}");
}

#[test]
fn number_formatting() {
    let mut s = String::new();
    push_u64(&mut s, 0);
    s.push(' ');
    push_u64(&mut s, u64::MAX);
    s.push(' ');
    push_secs3(&mut s, 616);
    s.push(' ');
    push_secs3(&mut s, 140_017);
    s.push(' ');
    push_secs3(&mut s, 5);
    s.push(' ');
    push_ip(&mut s, ip4(117, 35, 88, 11));
    s.push(' ');
    push_hex(&mut s, 0xabc, 4);
    assert_eq!(
        s,
        "0 18446744073709551615 0.616 140.017 0.005 117.35.88.11 0abc"
    );
}

/// `next_event` makes the same lines as `next_line` (same draws), and its fields are what
/// parsing the written line gives (the parser of the `parse_access_log` UDF).
#[test]
fn next_event_is_the_parsed_line() {
    let negative_offset = FixedOffset::west_opt(5 * 3600 + 1800)
        .expect("-05:30")
        .with_ymd_and_hms(2020, 2, 29, 23, 0, 0)
        .unwrap();
    let configs = [
        cfg(1),
        GeneratorConfig {
            max_disorder_ms: 90_000,
            internal_ip_share: 0.3,
            dash_url_share: 0.2,
            events_per_second: 2.0,
            ..cfg(2)
        },
        GeneratorConfig {
            start: negative_offset,
            events_per_second: 0.5,
            max_disorder_ms: 5_000,
            ..cfg(3)
        },
    ];
    for c in configs {
        let offset = i64::from(c.start.offset().local_minus_utc());
        let mut by_line = LogGenerator::new(c.clone());
        let mut by_event = LogGenerator::new(c);
        assert_eq!(by_event.utc_offset_secs(), offset);
        let mut line = String::new();
        let mut ip = String::new();
        for i in 0..50_000 {
            line.clear();
            by_line.next_line(&mut line);
            let p = sluice_udfs::access_log::parse_line(&line)
                .unwrap_or_else(|e| panic!("line {i} does not parse: {e}: {line}"));
            let e = by_event.next_event();
            ip.clear();
            push_ip(&mut ip, e.ip);
            assert_eq!(p.ip, ip, "{line}");
            assert_eq!(p.time.epoch_millis, e.epoch_secs * 1000, "{line}");
            assert_eq!(p.time.offset_seconds as i64, offset, "{line}");
            assert_eq!(p.bytes, Some(e.bytes as i64), "{line}");
            assert_eq!(p.referer, e.referer, "{line}");
        }
        // Still in step after 50,000 lines.
        line.clear();
        by_line.next_line(&mut line);
        let e = by_event.next_event();
        assert!(line.contains(&format!("\"{}\"", e.referer)), "{line}");
    }
}

#[test]
fn push_ip_writes_every_octet() {
    let mut s = String::new();
    for ip in [
        0,
        u32::MAX,
        0x0a64_0001,
        0x6409_5ad1,
        0x0102_0304,
        0xc0a8_ff0a,
    ] {
        for shift in 0..8 {
            let ip = ip.rotate_left(shift * 4);
            s.clear();
            push_ip(&mut s, ip);
            assert_eq!(s, std::net::Ipv4Addr::from(ip).to_string());
        }
    }
}

#[test]
fn push_u64_writes_decimal() {
    let mut s = String::new();
    let mut n = 1u64;
    for _ in 0..64 {
        for v in [
            n - 1,
            n,
            n.wrapping_add(1),
            n.wrapping_mul(7),
            n.wrapping_mul(99) / 10,
            u64::MAX - n,
        ] {
            s.clear();
            push_u64(&mut s, v);
            assert_eq!(s, v.to_string());
        }
        n = n.saturating_mul(2);
    }
}
