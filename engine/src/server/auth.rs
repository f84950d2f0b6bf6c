//! Who may call the API. Submitting SQL is running code (file connectors read and write
//! paths), so a server listens on loopback by default; on any other address it needs a
//! token, which every API call must carry (`Authorization: Bearer <token>`), compared in
//! constant time.

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq;

/// The cookie the pages keep the token in.
pub const COOKIE: &str = "sluice_token";

/// The server's token.
#[derive(Debug)]
pub struct Token(String);

impl Token {
    /// A token; an empty one is none.
    pub fn new(secret: &str) -> Option<Token> {
        let secret = secret.trim();
        (!secret.is_empty()).then(|| Token(secret.to_string()))
    }

    /// Whether a request's headers carry the token: as `Authorization: Bearer`, or as the
    /// cookie `sluice_token` the pages set (a browser's EventSource sends no headers).
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let cookie = || {
            headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        };
        match bearer.or_else(cookie) {
            Some(given) => given.trim().as_bytes().ct_eq(self.0.as_bytes()).into(),
            None => false,
        }
    }
}

/// Refuses a listen address off loopback without a token.
pub fn check_listen(addr: &SocketAddr, token: Option<&Token>) -> Result<(), String> {
    if addr.ip().is_loopback() || token.is_some() {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {addr} without a token: anyone who reaches it could run SQL \
         that reads and writes files here. Set --auth-token (or SLUICE_AUTH_TOKEN), or \
         listen on 127.0.0.1"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn only_the_exact_token_is_admitted() {
        let token = Token::new("s3cret").unwrap();
        assert!(token.admits(&bearer("Bearer s3cret")));
        assert!(!token.admits(&bearer("Bearer s3cre")));
        assert!(!token.admits(&bearer("Bearer s3cret2")));
        assert!(!token.admits(&bearer("Basic s3cret")));
        assert!(!token.admits(&HeaderMap::new()));
        assert!(Token::new("  ").is_none());
    }

    #[test]
    fn the_pages_cookie_carries_the_token_too() {
        let token = Token::new("s3cret").unwrap();
        let cookie = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, value.parse().unwrap());
            h
        };
        assert!(token.admits(&cookie("theme=dark; sluice_token=s3cret")));
        assert!(!token.admits(&cookie("sluice_token=nope")));
        assert!(!token.admits(&cookie("sluice_tokens=s3cret")));
    }

    #[test]
    fn off_loopback_a_token_is_required() {
        let token = Token::new("t");
        let any: SocketAddr = "0.0.0.0:8088".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8088".parse().unwrap();
        let local6: SocketAddr = "[::1]:8088".parse().unwrap();
        assert!(check_listen(&local, None).is_ok());
        assert!(check_listen(&local6, None).is_ok());
        let refused = check_listen(&any, None).unwrap_err();
        assert!(refused.contains("--auth-token"), "{refused}");
        assert!(check_listen(&any, token.as_ref()).is_ok());
    }
}
