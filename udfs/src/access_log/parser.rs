//! `parse_line`: one imooc nginx access-log line → typed, borrowed fields.
//!
//! Format:
//! `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_host"
//!  "$http_referer" $args "$http_user_agent" "$http_x_forwarded_for" $upstream_addr
//!  $upstream_status $upstream_response_time $request_time`

use super::cursor::Cursor;
use super::error::{ParseError, excerpt};
use super::numbers::{last_list_entry, parse_decimal, parse_i32_digits, parse_i64_digits};
use super::request::split_request;
use crate::time::{NginxTime, parse_nginx_time};

/// One parsed line. Text fields borrow from the input and keep the log's text exactly (`-`
/// stays `-`); numeric fields are `None` where nginx wrote `-`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine<'a> {
    pub ip: &'a str,
    /// The `-` after the address (`$remote_ident` in older formats).
    pub ident: &'a str,
    pub remote_user: &'a str,
    pub time: NginxTime,
    /// The raw `$request`, e.g. `GET /x HTTP/1.1`.
    pub request: &'a str,
    /// First word of the request, or the whole request when it has no space.
    pub method: &'a str,
    pub path: Option<&'a str>,
    pub protocol: Option<&'a str>,
    pub status: Option<i32>,
    pub bytes: Option<i64>,
    pub host: &'a str,
    pub referer: &'a str,
    /// `$args`; may contain spaces.
    pub query: &'a str,
    pub user_agent: &'a str,
    pub forwarded_for: &'a str,
    pub upstream_addr: &'a str,
    /// Status of the last upstream tried; `None` for `-` or a non-numeric value.
    pub upstream_status: Option<i32>,
    /// Response time of the last upstream tried; `None` for `-` or a non-numeric value.
    pub upstream_response_time: Option<f64>,
    pub request_time: Option<f64>,
}

/// Parses one line (without or with its trailing newline / `\r`).
pub fn parse_line(line: &str) -> Result<ParsedLine<'_>, ParseError> {
    let body = line.trim_ascii_end();
    if body.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut c = Cursor::new(body);

    let ip = c.bare("ip")?;
    c.separator("ip")?;
    let ident = c.bare("ident")?;
    c.separator("ident")?;
    let remote_user = c.bare("remote_user")?;
    c.separator("remote_user")?;

    let (time_text, time_inner) = c.bracketed("time")?;
    let time = parse_nginx_time(time_inner).map_err(|reason| ParseError::BadTime {
        text: excerpt(time_text),
        reason,
    })?;
    c.separator("time")?;

    let request = c.quoted("request")?;
    c.separator("request")?;

    let at = c.pos();
    let status = strict_number(c.bare("status")?, "status", at, parse_i32_digits)?;
    c.separator("status")?;
    let at = c.pos();
    let bytes = strict_number(c.bare("bytes")?, "bytes", at, parse_i64_digits)?;
    c.separator("bytes")?;

    let host = c.quoted("host")?;
    c.separator("host")?;
    let referer = c.quoted("referer")?;
    c.separator("referer")?;
    let query = c.until_quote("query")?;
    c.separator("query")?;
    let user_agent = c.quoted("user_agent")?;
    c.separator("user_agent")?;
    let forwarded_for = c.quoted("forwarded_for")?;
    c.separator("forwarded_for")?;

    let upstream_addr = c.list("upstream_addr")?;
    c.separator("upstream_addr")?;
    let upstream_status = parse_i32_digits(last_list_entry(c.list("upstream_status")?));
    c.separator("upstream_status")?;
    let upstream_response_time = parse_decimal(last_list_entry(c.list("upstream_response_time")?));
    c.separator("upstream_response_time")?;
    let at = c.pos();
    let request_time = strict_number(c.bare("request_time")?, "request_time", at, parse_decimal)?;

    if !c.at_end() {
        // Point at the extra text itself, not at the space before it.
        c.skip_spaces();
        return Err(ParseError::TrailingText { at: c.pos() });
    }

    let parts = split_request(request);
    Ok(ParsedLine {
        ip,
        ident,
        remote_user,
        time,
        request,
        method: parts.method,
        path: parts.path,
        protocol: parts.protocol,
        status,
        bytes,
        host,
        referer,
        query,
        user_agent,
        forwarded_for,
        upstream_addr,
        upstream_status,
        upstream_response_time,
        request_time,
    })
}

/// `-` → `None`; a number → `Some`; anything else means the line is misaligned or corrupt.
fn strict_number<T>(
    text: &str,
    field: &'static str,
    at: usize,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ParseError> {
    if text == "-" {
        return Ok(None);
    }
    match parse(text) {
        Some(v) => Ok(Some(v)),
        None => Err(ParseError::BadNumber {
            field,
            text: excerpt(text),
            at,
        }),
    }
}
