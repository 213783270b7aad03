//! HTTP Digest authentication as the device side does it (RFC 7616, MD5 with qop=auth;
//! SHA-256 answers accepted too): challenges in the two header styles real firmware uses,
//! self-verifying nonces that expire (so clients meet `stale=TRUE` re-challenges), and
//! verification of the client's `Authorization` header.

use std::collections::HashMap;
use std::time::Duration;

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// How the challenge header looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeStyle {
    /// Camera (`App-webs`): `qop, realm="IP Camera(…)", nonce, stale` — no algorithm, no opaque.
    Camera,
    /// NVR (`DNVRS-Webs`): `realm, domain="::", qop, nonce="<hex>:<ms>", opaque="", algorithm="MD5", stale`.
    Recorder,
}

/// MD5 of a string, lower-case hex.
pub fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// SHA-256 of a string, lower-case hex.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn signature(secret: &str, ts_ms: u64) -> String {
    md5_hex(&format!("{secret}:{ts_ms}:nonce"))
}

/// A fresh nonce carrying its own issue time and signature.
pub fn make_nonce(secret: &str, now_ms: u64, style: ChallengeStyle) -> String {
    let raw = format!("{}:{now_ms}", signature(secret, now_ms));
    match style {
        ChallengeStyle::Recorder => raw,
        // Cameras send the nonce as hex of a text token.
        ChallengeStyle::Camera => hex::encode(raw.as_bytes()),
    }
}

/// What a nonce turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceState {
    /// Issued by this device and still fresh.
    Fresh,
    /// Issued by this device but expired: re-challenge with `stale=TRUE`.
    Stale,
    /// Not ours.
    Invalid,
}

/// Checks a nonce against the device secret and the lifetime.
pub fn check_nonce(secret: &str, nonce: &str, ttl: Duration, now_ms: u64) -> NonceState {
    let raw = if nonce.contains(':') {
        nonce.to_string()
    } else {
        match hex::decode(nonce)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(s) => s,
            None => return NonceState::Invalid,
        }
    };
    let Some((sig, ts)) = raw.split_once(':') else {
        return NonceState::Invalid;
    };
    let Ok(ts) = ts.parse::<u64>() else {
        return NonceState::Invalid;
    };
    if sig != signature(secret, ts) {
        return NonceState::Invalid;
    }
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    if now_ms.saturating_sub(ts) > ttl_ms {
        NonceState::Stale
    } else {
        NonceState::Fresh
    }
}

/// The `WWW-Authenticate` value.
pub fn challenge(style: ChallengeStyle, realm: &str, nonce: &str, stale: bool) -> String {
    let stale = if stale { "TRUE" } else { "FALSE" };
    match style {
        ChallengeStyle::Camera => {
            format!("Digest qop=\"auth\", realm=\"{realm}\", nonce=\"{nonce}\", stale=\"{stale}\"")
        }
        ChallengeStyle::Recorder => format!(
            "Digest realm=\"{realm}\", domain=\"::\", qop=\"auth\", nonce=\"{nonce}\", opaque=\"\", algorithm=\"MD5\", stale=\"{stale}\""
        ),
    }
}

/// Splits an `Authorization` header into its scheme and parameters (keys lower-cased).
pub fn parse_authorization(header: &str) -> Option<(String, HashMap<String, String>)> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while matches!(chars.peek(), Some(c) if c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                value = value.trim().to_string();
            }
        }
        params.insert(key, value);
    }
    Some((scheme.to_ascii_lowercase(), params))
}

/// The response a client should send, for the algorithm it names (MD5 default, SHA-256 too;
/// qop=auth or none).
pub fn expected_response(
    params: &HashMap<String, String>,
    password: &str,
    method: &str,
) -> Option<String> {
    let get = |k: &str| params.get(k).map(String::as_str);
    let username = get("username")?;
    let realm = get("realm")?;
    let nonce = get("nonce")?;
    let uri = get("uri")?;
    let hash: fn(&str) -> String = match get("algorithm").map(str::to_ascii_uppercase).as_deref() {
        None | Some("MD5") => md5_hex,
        Some("SHA-256") => sha256_hex,
        _ => return None,
    };
    let ha1 = hash(&format!("{username}:{realm}:{password}"));
    let ha2 = hash(&format!("{method}:{uri}"));
    Some(match get("qop") {
        Some(qop) if !qop.is_empty() => {
            let nc = get("nc")?;
            let cnonce = get("cnonce")?;
            hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))
        }
        _ => hash(&format!("{ha1}:{nonce}:{ha2}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_lifecycle() {
        for style in [ChallengeStyle::Camera, ChallengeStyle::Recorder] {
            let n = make_nonce("s3cret", 1_000_000, style);
            let ttl = Duration::from_secs(10);
            assert_eq!(check_nonce("s3cret", &n, ttl, 1_005_000), NonceState::Fresh);
            assert_eq!(check_nonce("s3cret", &n, ttl, 1_011_000), NonceState::Stale);
            assert_eq!(
                check_nonce("other", &n, ttl, 1_005_000),
                NonceState::Invalid
            );
            assert_eq!(
                check_nonce("s3cret", "zz", ttl, 1_005_000),
                NonceState::Invalid
            );
        }
    }

    #[test]
    fn rfc2617_example_verifies() {
        // The worked example of RFC 2617 §3.5.
        let h = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let (scheme, p) = parse_authorization(h).expect("parse");
        assert_eq!(scheme, "digest");
        assert_eq!(p.get("nc").map(String::as_str), Some("00000001"));
        assert_eq!(
            expected_response(&p, "Circle Of Life", "GET").as_deref(),
            p.get("response").map(String::as_str)
        );
        assert_ne!(
            expected_response(&p, "circle of life", "GET").as_deref(),
            p.get("response").map(String::as_str)
        );
    }
}
