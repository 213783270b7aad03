//! Session login as the web UI does it, required by AX Pro / AX Hub panels
//! (isapi.md §5.3): fetch a challenge, send a SHA-256-derived password, keep the
//! `WebSession` cookie.

use sha2::{Digest, Sha256};

use crate::error::ParseError;
use crate::models::XmlModel;
use crate::xml::{Element, escape};

/// `GET /ISAPI/Security/sessionLogin/capabilities?username=<u>` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLoginCap {
    /// `sessionID` to echo back.
    pub session_id: Option<String>,
    /// `challenge`.
    pub challenge: String,
    /// `iterations`.
    pub iterations: u32,
    /// `isIrreversible`.
    pub irreversible: bool,
    /// `salt`.
    pub salt: Option<String>,
    /// `salt2`.
    pub salt2: Option<String>,
    /// `sessionIDVersion`.
    pub session_id_version: Option<String>,
}

impl XmlModel for SessionLoginCap {
    const ROOTS: &'static [&'static str] = &["SessionLoginCap"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        Ok(Self {
            session_id: root.string_of("sessionID"),
            challenge: root
                .string_of("challenge")
                .ok_or(ParseError::Missing("challenge"))?,
            iterations: root.u32_of("iterations").unwrap_or(1),
            irreversible: root.bool_of("isIrreversible").unwrap_or(false),
            salt: root.string_of("salt"),
            salt2: root.string_of("salt2"),
            session_id_version: root.string_of("sessionIDVersion"),
        })
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Derives the password field of `SessionLogin` (lower-case hex SHA-256 chain).
///
/// - irreversible, `sessionIDVersion` 2: `h = H(user+salt+pass)`, `h = H(h+challenge)`,
///   then `h = H(h)` for iterations 2..n;
/// - irreversible, version 1: `h = H(user+salt+pass)`, `h = H(user+salt2+h)`,
///   `h = H(h+challenge)`, then `h = H(h)` for iterations 2..n;
/// - reversible: `h = H(pass) + challenge`, then `h = H(h)` for iterations 1..n.
pub fn encode_password(cap: &SessionLoginCap, username: &str, password: &str) -> String {
    let salt = cap.salt.as_deref().unwrap_or_default();
    let n = cap.iterations;
    if cap.irreversible {
        let mut h = sha256_hex(&format!("{username}{salt}{password}"));
        if cap.session_id_version.as_deref().map(str::trim) != Some("2") {
            let salt2 = cap.salt2.as_deref().unwrap_or_default();
            h = sha256_hex(&format!("{username}{salt2}{h}"));
        }
        h = sha256_hex(&format!("{h}{}", cap.challenge));
        for _ in 2..n {
            h = sha256_hex(&h);
        }
        h
    } else {
        let mut h = format!("{}{}", sha256_hex(password), cap.challenge);
        for _ in 1..n {
            h = sha256_hex(&h);
        }
        h
    }
}

/// Body of `POST /ISAPI/Security/sessionLogin?timeStamp=<unix>`.
pub fn login_body(cap: &SessionLoginCap, username: &str, password: &str) -> String {
    let encoded = encode_password(cap, username, password);
    let mut body = format!(
        "<SessionLogin><userName>{}</userName><password>{encoded}</password>",
        escape(username)
    );
    if let Some(id) = &cap.session_id {
        body.push_str(&format!("<sessionID>{}</sessionID>", escape(id)));
    }
    body.push_str("<isSessionIDValidLongTerm>false</isSessionIDValidLongTerm>");
    if let Some(v) = &cap.session_id_version {
        body.push_str(&format!(
            "<sessionIDVersion>{}</sessionIDVersion>",
            escape(v)
        ));
    }
    body.push_str("</SessionLogin>");
    body
}

/// Picks the session cookie (`WebSession…=value`) from `Set-Cookie` values;
/// falls back to the first cookie when none is named like that.
pub fn session_cookie<'a>(set_cookies: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let pairs: Vec<String> = set_cookies
        .into_iter()
        .filter_map(|c| c.split(';').next())
        .map(str::trim)
        .filter(|p| p.contains('=') && !p.starts_with('='))
        .map(str::to_owned)
        .collect();
    pairs
        .iter()
        .find(|p| p.to_ascii_lowercase().starts_with("websession"))
        .or_else(|| pairs.first())
        .cloned()
}

/// A `sessionID` from the login answer body, for firmware that sends no cookie.
pub fn session_id_from_body(body: &[u8]) -> Option<String> {
    Element::parse(body)
        .ok()?
        .descendant("sessionID")?
        .non_empty_text()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(irreversible: bool, version: Option<&str>, iterations: u32) -> SessionLoginCap {
        SessionLoginCap {
            session_id: Some("sid".into()),
            challenge: "chal".into(),
            iterations,
            irreversible,
            salt: Some("salt".into()),
            salt2: Some("salt2".into()),
            session_id_version: version.map(str::to_owned),
        }
    }

    #[test]
    fn password_chains_follow_the_reference() {
        // Irreversible v2, 3 iterations: H(H(H(u+salt+p)+chal)).
        let v2 = encode_password(&cap(true, Some("2"), 3), "admin", "pw");
        let expect = sha256_hex(&sha256_hex(&format!("{}chal", sha256_hex("adminsaltpw"))));
        assert_eq!(v2, expect);
        // Irreversible v1 adds the salt2 round.
        let v1 = encode_password(&cap(true, None, 2), "admin", "pw");
        let h = sha256_hex(&format!("adminsalt2{}", sha256_hex("adminsaltpw")));
        assert_eq!(v1, sha256_hex(&format!("{h}chal")));
        // Reversible, 2 iterations: H(H(p)+chal).
        let rev = encode_password(&cap(false, None, 2), "admin", "pw");
        assert_eq!(rev, sha256_hex(&format!("{}chal", sha256_hex("pw"))));
        assert_eq!(v2.len(), 64);
    }

    #[test]
    fn capabilities_and_body() {
        let c = SessionLoginCap::from_xml(
            br#"<SessionLoginCap version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><sessionID>abc</sessionID><challenge>1234</challenge><iterations>100</iterations><isIrreversible>true</isIrreversible><salt>S</salt><sessionIDVersion>2</sessionIDVersion></SessionLoginCap>"#,
        )
        .expect("parses");
        assert_eq!(c.iterations, 100);
        assert!(c.irreversible);
        let body = login_body(&c, "a&b", "pw");
        assert!(body.contains("<userName>a&amp;b</userName>"));
        assert!(body.contains("<sessionID>abc</sessionID>"));
        assert!(body.contains("<sessionIDVersion>2</sessionIDVersion>"));
    }

    #[test]
    fn cookie_choice() {
        assert_eq!(
            session_cookie(["lang=en; Path=/", "WebSession_5F=abc123; HttpOnly"]),
            Some("WebSession_5F=abc123".into())
        );
        assert_eq!(session_cookie(["x=1"]), Some("x=1".into()));
        assert_eq!(session_cookie(["garbage"]), None);
        assert_eq!(
            session_id_from_body(b"<SessionLogin><sessionID>s1</sessionID></SessionLogin>"),
            Some("s1".into())
        );
    }
}
