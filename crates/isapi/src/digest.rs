//! HTTP authentication as devices do it: RFC 7616 digest (MD5, SHA-256, their
//! `-sess` variants, `qop=auth`, client nonce and nonce counting) and Basic.
//!
//! Challenges from real devices omit `algorithm` and `opaque` (cameras) or send
//! `opaque=""` (NVRs); both are handled. The Authorization header quotes `qop`
//! the way the recorded exchange with a DS-2CD2155FWD-I did (and servers accept).

use md5::Md5;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Authentication scheme of a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// `Digest`.
    Digest,
    /// `Basic`.
    Basic,
    /// Anything else.
    Other(String),
}

/// One parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Scheme.
    pub scheme: Scheme,
    /// Parameters in order, names lower-cased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Parameter by (case-insensitive) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `realm`.
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<&str> {
        self.param("nonce")
    }

    /// `stale=true` (any case, quoted or not): the nonce expired, credentials were fine.
    pub fn stale(&self) -> bool {
        self.param("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true"))
    }

    /// The digest algorithm, `None` if unsupported. Missing means MD5.
    pub fn algorithm(&self) -> Option<Algorithm> {
        Algorithm::parse(self.param("algorithm").unwrap_or("MD5"))
    }

    /// True when `qop` offers `auth`.
    pub fn offers_qop_auth(&self) -> bool {
        self.param("qop")
            .is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")))
    }
}

/// Digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5` (what devices use).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl Algorithm {
    /// Parses the `algorithm` parameter (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MD5" => Some(Self::Md5),
            "MD5-SESS" => Some(Self::Md5Sess),
            "SHA-256" | "SHA256" => Some(Self::Sha256),
            "SHA-256-SESS" | "SHA256-SESS" => Some(Self::Sha256Sess),
            _ => None,
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Self::Md5 | Self::Md5Sess => hex::encode(Md5::digest(data.as_bytes())),
            Self::Sha256 | Self::Sha256Sess => hex::encode(Sha256::digest(data.as_bytes())),
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }

    /// Preference when several challenges are offered (stronger first).
    fn rank(self) -> u8 {
        match self {
            Self::Sha256 | Self::Sha256Sess => 2,
            Self::Md5 | Self::Md5Sess => 1,
        }
    }
}

/// Parses every challenge in one `WWW-Authenticate` header value.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut p = Cursor {
        s: header.as_bytes(),
        i: 0,
    };
    loop {
        p.skip_ws_commas();
        let Some(token) = p.token() else {
            break;
        };
        p.skip_ws();
        if p.peek() == Some(b'=') {
            // A parameter of the current challenge.
            p.i += 1;
            p.skip_ws();
            let value = p.value();
            if let Some(current) = out.last_mut() {
                current.params.push((token.to_ascii_lowercase(), value));
            }
        } else {
            let scheme = match token.to_ascii_lowercase().as_str() {
                "digest" => Scheme::Digest,
                "basic" => Scheme::Basic,
                _ => Scheme::Other(token),
            };
            out.push(Challenge {
                scheme,
                params: Vec::new(),
            });
        }
    }
    out
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn skip_ws_commas(&mut self) {
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_whitespace() || c == b',')
        {
            self.i += 1;
        }
    }
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| !c.is_ascii_whitespace() && c != b'=' && c != b',' && c != b'"')
        {
            self.i += 1;
        }
        if self.i == start {
            // Skip a stray byte (e.g. an unexpected quote) so parsing always advances.
            if self.peek().is_some() {
                self.i += 1;
                return self.token();
            }
            return None;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn value(&mut self) -> String {
        if self.peek() == Some(b'"') {
            self.i += 1;
            let mut out = Vec::new();
            while let Some(c) = self.peek() {
                self.i += 1;
                match c {
                    b'\\' => {
                        if let Some(n) = self.peek() {
                            out.push(n);
                            self.i += 1;
                        }
                    }
                    b'"' => break,
                    _ => out.push(c),
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        } else {
            let start = self.i;
            while self
                .peek()
                .is_some_and(|c| c != b',' && !c.is_ascii_whitespace())
            {
                self.i += 1;
            }
            String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
        }
    }
}

/// Picks the best usable digest challenge, else a Basic one.
pub fn choose(challenges: &[Challenge]) -> Option<&Challenge> {
    challenges
        .iter()
        .filter(|c| c.scheme == Scheme::Digest && c.nonce().is_some())
        .filter_map(|c| c.algorithm().map(|a| (a.rank(), c)))
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, c)| c)
        .or_else(|| challenges.iter().find(|c| c.scheme == Scheme::Basic))
}

/// Inputs of one digest computation (RFC 7616 §3.4.1).
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    /// Hash algorithm.
    pub algorithm: Algorithm,
    /// User name.
    pub username: &'a str,
    /// Realm from the challenge.
    pub realm: &'a str,
    /// Password.
    pub password: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Request target (path and query).
    pub uri: &'a str,
    /// Server nonce.
    pub nonce: &'a str,
    /// Nonce count as 8 hex digits.
    pub nc: &'a str,
    /// Client nonce.
    pub cnonce: &'a str,
    /// `Some("auth")`, or `None` for the legacy RFC 2069 form.
    pub qop: Option<&'a str>,
}

/// Computes the `response` value.
pub fn compute_response(i: &DigestInput<'_>) -> String {
    let a = i.algorithm;
    let mut ha1 = a.hash(&format!("{}:{}:{}", i.username, i.realm, i.password));
    if a.is_sess() {
        ha1 = a.hash(&format!("{ha1}:{}:{}", i.nonce, i.cnonce));
    }
    let ha2 = a.hash(&format!("{}:{}", i.method, i.uri));
    match i.qop {
        Some(qop) => a.hash(&format!(
            "{ha1}:{}:{}:{}:{qop}:{ha2}",
            i.nonce, i.nc, i.cnonce
        )),
        None => a.hash(&format!("{ha1}:{}:{ha2}", i.nonce)),
    }
}

/// A digest challenge in use: counts nonce uses so the nonce can be reused
/// (cameras accept `nc` increments), and builds Authorization headers.
#[derive(Debug, Clone)]
pub struct DigestSession {
    challenge: Challenge,
    algorithm: Algorithm,
    nc: u32,
}

impl DigestSession {
    /// Starts from a digest challenge; `None` if it is not usable.
    pub fn new(challenge: Challenge) -> Option<Self> {
        if challenge.scheme != Scheme::Digest {
            return None;
        }
        challenge.nonce()?;
        let algorithm = challenge.algorithm()?;
        Some(Self {
            challenge,
            algorithm,
            nc: 0,
        })
    }

    /// The server nonce in use.
    pub fn nonce(&self) -> &str {
        self.challenge.nonce().unwrap_or_default()
    }

    /// How many times the nonce has been used.
    pub fn uses(&self) -> u32 {
        self.nc
    }

    /// Next Authorization header with a random client nonce.
    pub fn authorize(&mut self, username: &str, password: &str, method: &str, uri: &str) -> String {
        let mut bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut bytes);
        self.authorize_with_cnonce(username, password, method, uri, &hex::encode(bytes))
    }

    /// Next Authorization header with a given client nonce (deterministic, for tests).
    pub fn authorize_with_cnonce(
        &mut self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> String {
        self.nc = self.nc.wrapping_add(1);
        let nc = format!("{:08x}", self.nc);
        let qop = self.challenge.offers_qop_auth().then_some("auth");
        let realm = self.challenge.realm().unwrap_or_default();
        let nonce = self.nonce();
        let response = compute_response(&DigestInput {
            algorithm: self.algorithm,
            username,
            realm,
            password,
            method,
            uri,
            nonce,
            nc: &nc,
            cnonce,
            qop,
        });
        let mut h = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\"",
            quote(username),
            quote(realm),
            quote(nonce),
            quote(uri)
        );
        if let Some(alg) = self.challenge.param("algorithm") {
            h.push_str(&format!(", algorithm={alg}"));
        }
        if let Some(opaque) = self.challenge.param("opaque") {
            h.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
        }
        if let Some(qop) = qop {
            h.push_str(&format!(
                ", qop=\"{qop}\", nc={nc}, cnonce=\"{}\"",
                quote(cnonce)
            ));
        }
        h
    }
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `Basic` Authorization header value.
pub fn basic_authorization(username: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// Parses an `Authorization: Digest …` header (used by tests and simulators).
pub fn parse_authorization(header: &str) -> Option<Challenge> {
    parse_challenges(header)
        .into_iter()
        .find(|c| c.scheme == Scheme::Digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7616_md5_and_sha256_vectors() {
        let base = DigestInput {
            algorithm: Algorithm::Md5,
            username: "Mufasa",
            realm: "http-auth@example.org",
            password: "Circle of Life",
            method: "GET",
            uri: "/dir/index.html",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            nc: "00000001",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            qop: Some("auth"),
        };
        assert_eq!(compute_response(&base), "8ca523f5e9506fed4657c9700eebdbec");
        let sha = DigestInput {
            algorithm: Algorithm::Sha256,
            ..base
        };
        assert_eq!(
            compute_response(&sha),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn rfc_2617_vector() {
        let i = DigestInput {
            algorithm: Algorithm::Md5,
            username: "Mufasa",
            realm: "testrealm@host.com",
            password: "Circle Of Life",
            method: "GET",
            uri: "/dir/index.html",
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            nc: "00000001",
            cnonce: "0a4f113b",
            qop: Some("auth"),
        };
        assert_eq!(compute_response(&i), "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn camera_and_nvr_challenges() {
        let cam = parse_challenges(
            r#"Digest qop="auth", realm="IP Camera(83813)", nonce="4d5755784d7a41344d546b365a446b31597a51354e513d3d", stale="FALSE""#,
        );
        assert_eq!(cam.len(), 1);
        assert_eq!(cam[0].realm(), Some("IP Camera(83813)"));
        assert!(!cam[0].stale());
        assert_eq!(cam[0].algorithm(), Some(Algorithm::Md5));
        assert!(cam[0].param("opaque").is_none());
        let nvr = parse_challenges(
            r#"Digest realm="fe12f37bd", domain="::", qop="auth", nonce="300b7e88:1685", opaque="", algorithm="MD5", stale="TRUE""#,
        );
        assert_eq!(nvr[0].param("opaque"), Some(""));
        assert_eq!(nvr[0].param("domain"), Some("::"));
        assert!(nvr[0].stale());
        let mut session = DigestSession::new(nvr[0].clone()).expect("usable");
        let h = session.authorize_with_cnonce("admin", "pw", "GET", "/ISAPI/System/status", "abc");
        assert!(h.contains("opaque=\"\""));
        assert!(h.contains("algorithm=MD5"));
        assert!(h.contains("nc=00000001"));
    }

    #[test]
    fn multiple_challenges_prefer_sha256_then_basic() {
        let cs = parse_challenges(
            r#"Digest realm="r", nonce="n1", algorithm=MD5, qop="auth", Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth", Basic realm="r""#,
        );
        assert_eq!(cs.len(), 3);
        assert_eq!(choose(&cs).and_then(Challenge::nonce), Some("n2"));
        let basic = parse_challenges(r#"Basic realm="x""#);
        assert_eq!(choose(&basic).map(|c| &c.scheme), Some(&Scheme::Basic));
        let bogus = parse_challenges(r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#);
        assert!(choose(&bogus).is_none());
    }

    #[test]
    fn nonce_count_increments_and_header_round_trips() {
        let ch = parse_challenges(r#"Digest realm="r", nonce="abc", qop="auth,auth-int""#)
            .pop()
            .expect("challenge");
        let mut s = DigestSession::new(ch).expect("usable");
        let first = s.authorize_with_cnonce("admin", "pw", "GET", "/a", "c1");
        let second = s.authorize_with_cnonce("admin", "pw", "GET", "/a", "c1");
        assert!(first.contains("nc=00000001"));
        assert!(second.contains("nc=00000002"));
        let parsed = parse_authorization(&second).expect("parses");
        assert_eq!(parsed.param("username"), Some("admin"));
        assert_eq!(parsed.param("qop"), Some("auth"));
        let expected = compute_response(&DigestInput {
            algorithm: Algorithm::Md5,
            username: "admin",
            realm: "r",
            password: "pw",
            method: "GET",
            uri: "/a",
            nonce: "abc",
            nc: "00000002",
            cnonce: "c1",
            qop: Some("auth"),
        });
        assert_eq!(parsed.param("response"), Some(expected.as_str()));
    }

    #[test]
    fn basic_header() {
        assert_eq!(
            basic_authorization("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn parser_survives_junk() {
        for junk in [
            "",
            "\"",
            "Digest",
            "=",
            "Digest realm=\"unterminated",
            ",,,",
            "Digest a=b=c, \"x\"=1",
        ] {
            let _ = parse_challenges(junk);
        }
    }
}
