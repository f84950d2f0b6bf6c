//! Parser tests on real lines from the imooc sample and on malformed input.

use super::*;
use crate::testdata;
use rand::{Rng, SeedableRng, rngs::SmallRng};

const LINE: &str = r#"117.35.88.11 - - [10/Nov/2016:00:01:02 +0800] "GET /article/ajaxcourserecommends?id=124 HTTP/1.1" 200 2345 "www.imooc.com" "http://www.imooc.com/code/1852" - "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36" "-" 10.100.136.65:80 200 0.616 0.616"#;
const HEAD_LINE: &str = r#"10.100.0.1 - - [10/Nov/2016:00:01:02 +0800] "HEAD / HTTP/1.1" 301 0 "117.121.101.40" "-" - "curl/7.19.7 (x86_64-redhat-linux-gnu) libcurl/7.19.7 NSS/3.16.2.3 Basic ECC zlib/1.2.3 libidn/1.18 libssh2/1.4.2" "-" - - - 0.000"#;

fn err(line: &str) -> String {
    match parse_line(line) {
        Ok(p) => panic!("expected an error for {line:?}, parsed {p:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn parses_a_page_view() {
    let p = parse_line(LINE).expect("valid line");
    assert_eq!(p.ip, "117.35.88.11");
    assert_eq!(p.ident, "-");
    assert_eq!(p.remote_user, "-");
    assert_eq!(p.time.epoch_millis, 1_478_707_262_000);
    assert_eq!(p.time.day(), "20161110");
    assert_eq!(p.method, "GET");
    assert_eq!(p.path, Some("/article/ajaxcourserecommends?id=124"));
    assert_eq!(p.protocol, Some("HTTP/1.1"));
    assert_eq!(p.status, Some(200));
    assert_eq!(p.bytes, Some(2345));
    assert_eq!(p.host, "www.imooc.com");
    assert_eq!(p.referer, "http://www.imooc.com/code/1852");
    assert_eq!(p.query, "-");
    assert!(p.user_agent.starts_with("Mozilla/5.0 (Windows NT 6.1;"));
    assert!(p.user_agent.ends_with("Safari/537.36"));
    assert_eq!(p.forwarded_for, "-");
    assert_eq!(p.upstream_addr, "10.100.136.65:80");
    assert_eq!(p.upstream_status, Some(200));
    assert_eq!(p.upstream_response_time, Some(0.616));
    assert_eq!(p.request_time, Some(0.616));
}

#[test]
fn dashes_become_none_for_numbers_only() {
    let p = parse_line(HEAD_LINE).expect("valid line");
    assert_eq!(p.method, "HEAD");
    assert_eq!(p.status, Some(301));
    assert_eq!(p.bytes, Some(0));
    assert_eq!(p.referer, "-");
    assert_eq!(p.upstream_addr, "-");
    assert_eq!(p.upstream_status, None);
    assert_eq!(p.upstream_response_time, None);
    assert_eq!(p.request_time, Some(0.0));
}

#[test]
fn every_real_line_parses() {
    let text = testdata::access_log();
    let mut lines = 0;
    let mut with_referer = 0;
    for (n, line) in text.lines().enumerate() {
        let p = parse_line(line).unwrap_or_else(|e| panic!("line {}: {e}\n{line}", n + 1));
        lines += 1;
        if p.referer != "-" {
            with_referer += 1;
        }
        assert_eq!(p.time.day(), "20161110", "line {}", n + 1);
        assert!(p.status.is_some(), "line {}", n + 1);
    }
    assert_eq!(lines, 10_000);
    assert_eq!(with_referer, 3_342);
}

#[test]
fn args_with_spaces_stay_one_field() {
    // Real line 938-style: a multipart body logged as $args, full of spaces and \x escapes.
    let text = testdata::access_log();
    let line = text
        .lines()
        .find(|l| l.contains("public static void main"))
        .expect("the sample has a multipart savecode line");
    let p = parse_line(line).expect("parses");
    assert!(p.query.contains("public static void main(String[] args)"));
    assert_eq!(p.user_agent, "Mozilla/4.0");
    assert_eq!(p.upstream_status, Some(200));
    assert_eq!(p.request_time, Some(0.027));
}

#[test]
fn escaped_quotes_and_upstream_lists() {
    let line = r#"1.2.3.4 - bob [10/Nov/2016:00:01:02 -0130] "GET /a b HTTP/1.0" 502 12 "h" "-" a=1 "Mo \"zilla\" x" "5.6.7.8, 9.9.9.9" 10.0.0.1:80, 10.0.0.2:80 502, 200 0.001, 0.250 0.300"#;
    let p = parse_line(line).expect("valid line");
    assert_eq!(p.remote_user, "bob");
    assert_eq!(p.path, Some("/a b"));
    assert_eq!(p.user_agent, r#"Mo \"zilla\" x"#);
    assert_eq!(p.forwarded_for, "5.6.7.8, 9.9.9.9");
    assert_eq!(p.upstream_addr, "10.0.0.1:80, 10.0.0.2:80");
    assert_eq!(p.upstream_status, Some(200));
    assert_eq!(p.upstream_response_time, Some(0.25));
    assert_eq!(p.request_time, Some(0.3));
    assert_eq!(p.time.day(), "20161110");
    assert_eq!(p.time.epoch_millis, 1_478_741_462_000); // 01:31:02Z
    let redirect = LINE.replace(
        "10.100.136.65:80 200 0.616",
        "a:80 : b:80 404 : 200 0.1 : 0.616",
    );
    let p = parse_line(&redirect).expect("valid line");
    assert_eq!(p.upstream_addr, "a:80 : b:80");
    assert_eq!(p.upstream_status, Some(200));
}

#[test]
fn garbage_requests_still_parse() {
    for request in ["-", r"\x16\x03\x01\x00\xA5\x01", ""] {
        let line = LINE.replace("GET /article/ajaxcourserecommends?id=124 HTTP/1.1", request);
        let p = parse_line(&line).unwrap_or_else(|e| panic!("{request}: {e}"));
        assert_eq!(p.method, request);
        assert_eq!(p.path, None);
        assert_eq!(p.protocol, None);
    }
}

#[test]
fn trailing_whitespace_and_crlf_are_fine() {
    for suffix in ["\r", "\n", "\r\n", "   ", " \t\r\n"] {
        let line = format!("{LINE}{suffix}");
        assert!(parse_line(&line).is_ok(), "{suffix:?}");
    }
}

#[test]
fn malformed_lines_say_why() {
    let bad_ua = LINE
        .replacen("\"Mozilla", "\"Mozilla\\", 1)
        .replace("537.36\" \"-\"", "537.36");
    let ua_start = LINE.find("\"Mozilla").expect("ua");
    let cases: Vec<(String, String)> = vec![
        ("".into(), "empty line".into()),
        ("   \t\r\n".into(), "empty line".into()),
        (
            LINE.replace(
                "\"http://www.imooc.com/code/1852\" - \"Mozilla",
                "\"http://www.imooc.com/code/1852\" -\"Mozilla",
            ),
            "expected a space after field 'query' at byte 157".into(),
        ),
        (
            LINE[..LINE.find(" - \"Mozilla").expect("referer end")].to_string(),
            "line ends after field 'referer' (expected 16 fields)".into(),
        ),
        (
            LINE.replace("\"-\" 10.100", "\"- 10.100"),
            format!(
                "unterminated quote in field 'forwarded_for' starting at byte {}",
                LINE.find("\"-\" 10.100").expect("ff")
            ),
        ),
        (
            bad_ua,
            format!("unterminated quote in field 'user_agent' starting at byte {ua_start}"),
        ),
        (
            LINE.replace("10/Nov/2016:00:01:02", "99/Foo/2016:00:01:02"),
            "bad time '[99/Foo/2016:00:01:02 +0800]': unknown month 'Foo'".into(),
        ),
        (
            LINE.replace("10/Nov/2016:00:01:02", "10/Nov/2016:25:01:02"),
            "bad time '[10/Nov/2016:25:01:02 +0800]': hour out of range".into(),
        ),
        (
            LINE.replace(" +0800]", "]"),
            "bad time '[10/Nov/2016:00:01:02]': missing UTC offset".into(),
        ),
        (
            LINE.replace(
                "[10/Nov/2016:00:01:02 +0800]",
                "[10/Nov/2016:00:01:02 +0800",
            ),
            // The next ']' never comes.
            "unterminated '[' in field 'time' starting at byte 17".into(),
        ),
        (
            LINE.replace("[10/Nov", "10/Nov"),
            "expected '[' to start field 'time' at byte 17".into(),
        ),
        (
            LINE.replace(" 200 2345 ", " OK 2345 "),
            "bad status 'OK' at byte 98: not a number".into(),
        ),
        (
            LINE.replace(" 200 2345 ", " 200 -12 "),
            "bad bytes '-12' at byte 102: not a number".into(),
        ),
        (
            LINE.replace(" 0.616 0.616", " 0.616 fast"),
            format!(
                "bad request_time 'fast' at byte {}: not a number",
                LINE.len() - 5
            ),
        ),
        (
            format!("{LINE} extra"),
            format!(
                "unexpected text after field 'request_time' at byte {}",
                LINE.len() + 1
            ),
        ),
        (
            LINE.replace("\"www.imooc.com\"", "www.imooc.com"),
            "expected '\"' to start field 'host' at byte 107".into(),
        ),
        (
            LINE.replace("\"GET", "\"GET\"X"),
            "expected a space after field 'request' at byte 51".into(),
        ),
        (format!(" {LINE}"), "empty field 'ip' at byte 0".into()),
    ];
    for (line, want) in cases {
        assert_eq!(err(&line), want, "{line}");
    }
}

#[test]
fn every_truncation_of_real_lines_is_handled() {
    let text = testdata::access_log();
    let samples: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("HEAD /") || l.contains("public static") || l.contains("/code/1852"))
        .take(3)
        .chain([LINE, HEAD_LINE])
        .collect();
    for line in samples {
        // A prefix that ends before the last field begins lacks a field and must be rejected;
        // one that cuts inside the last number may legitimately parse (`0.61`).
        let last_field = line.rfind(' ').expect("has spaces") + 1;
        for cut in 0..line.len() {
            let Some(prefix) = line.get(..cut) else {
                continue;
            };
            let result = parse_line(prefix);
            if cut < last_field {
                assert!(result.is_err(), "prefix of {cut} bytes parsed: {prefix}");
            }
        }
        assert!(parse_line(line).is_ok());
    }
}

#[test]
fn huge_inputs() {
    let a = "a".repeat(200 * 1024);
    assert_eq!(err(&a), "line ends after field 'ip' (expected 16 fields)");

    let ua = "M".repeat(100 * 1024) + " " + &"z".repeat(100 * 1024);
    let line = LINE.replace(
        "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36",
        &ua,
    );
    let p = parse_line(&line).expect("a 200 KB user agent is still a valid line");
    assert_eq!(p.user_agent.len(), ua.len());
    assert_eq!(p.request_time, Some(0.616));

    // Error text stays short however long the offending field is.
    let long_time = LINE.replace("10/Nov/2016:00:01:02 +0800", &"9".repeat(100_000));
    assert!(err(&long_time).len() < 200);
}

#[test]
fn binary_garbage_never_panics() {
    let mut rng = SmallRng::seed_from_u64(7);
    for _ in 0..2_000 {
        let len = rng.random_range(0..400);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let line = String::from_utf8_lossy(&bytes);
        assert!(parse_line(&line).is_err());
    }
    // Byte-level mutations of a real line hit the delimiters far more often than random bytes.
    let alphabet = b" \"[]\\-0123456789.:,aZ\t\r";
    for _ in 0..20_000 {
        let mut bytes = LINE.as_bytes().to_vec();
        for _ in 0..rng.random_range(1..6) {
            let i = rng.random_range(0..bytes.len());
            match rng.random_range(0..3) {
                0 => bytes[i] = alphabet[rng.random_range(0..alphabet.len())],
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, rng.random()),
            }
        }
        let line = String::from_utf8_lossy(&bytes);
        let _ = parse_line(&line);
    }
}
