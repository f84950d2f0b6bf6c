//! Splitting `$request` (`GET /path HTTP/1.1`) into method, path and protocol.

/// The parts of a request line. `path`/`protocol` are `None` when the request is not
/// `METHOD PATH [PROTOCOL]` — e.g. `-`, or TLS bytes sent to the plain-HTTP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: Option<&'a str>,
    pub protocol: Option<&'a str>,
}

/// Splits on the first and last space, so a path containing spaces (nginx logs the raw request
/// line) stays whole instead of shifting the protocol.
pub fn split_request(request: &str) -> RequestParts<'_> {
    let Some(first) = request.find(' ') else {
        return RequestParts {
            method: request,
            path: None,
            protocol: None,
        };
    };
    let method = &request[..first];
    let rest = &request[first + 1..];
    match rest.rfind(' ') {
        Some(last) => RequestParts {
            method,
            path: Some(&rest[..last]),
            protocol: Some(&rest[last + 1..]),
        },
        // HTTP/0.9 style `GET /` has no protocol.
        None => RequestParts {
            method,
            path: Some(rest),
            protocol: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(
        method: &'a str,
        path: Option<&'a str>,
        protocol: Option<&'a str>,
    ) -> RequestParts<'a> {
        RequestParts {
            method,
            path,
            protocol,
        }
    }

    #[test]
    fn splits() {
        assert_eq!(
            split_request("GET /x?a=1 HTTP/1.1"),
            parts("GET", Some("/x?a=1"), Some("HTTP/1.1"))
        );
        assert_eq!(
            split_request("GET /a b HTTP/1.0"),
            parts("GET", Some("/a b"), Some("HTTP/1.0"))
        );
        assert_eq!(split_request("GET /"), parts("GET", Some("/"), None));
        assert_eq!(split_request("-"), parts("-", None, None));
        assert_eq!(
            split_request("\\x16\\x03\\x01"),
            parts("\\x16\\x03\\x01", None, None)
        );
        assert_eq!(split_request(""), parts("", None, None));
    }
}
