//! Lock status after failed logins (isapi.md §5.2).
//!
//! A 401 body may be a `userCheck` document with `lockStatus`, `unlockTime`
//! (seconds) and `retryLoginTime` (attempts left), a `ResponseStatus` carrying the
//! same fields, JSON, an HTML error page from older cameras, or nothing.
//! While locked, even the right password is refused: callers must stop.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::json;
use crate::xml::Element;

/// What a device said about the account after a failed login.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LockStatus {
    /// `lockStatus`: `lock` → true, `unlock` → false.
    pub locked: Option<bool>,
    /// `unlockTime`: time until the account unlocks.
    pub unlock_in: Option<Duration>,
    /// `retryLoginTime`: attempts left before the lock.
    pub retries_left: Option<u32>,
    /// `isActivated`.
    pub activated: Option<bool>,
    /// `statusValue` (401).
    pub status_value: Option<u32>,
    /// `statusString`.
    pub status_string: Option<String>,
}

impl LockStatus {
    /// Locked now: explicit `lock`, or no attempts left while an unlock time runs.
    pub fn is_locked(&self) -> bool {
        self.locked == Some(true)
            || (self.retries_left == Some(0) && self.unlock_in.is_some_and(|d| !d.is_zero()))
    }

    fn from_element(root: &Element) -> Self {
        let find = |name: &str| {
            root.child(name)
                .or_else(|| root.descendant(name))
                .and_then(Element::non_empty_text)
        };
        Self {
            locked: find("lockStatus").map(|s| s.eq_ignore_ascii_case("lock")),
            unlock_in: find("unlockTime")
                .and_then(crate::value::parse_u64)
                .map(Duration::from_secs),
            retries_left: find("retryLoginTime")
                .and_then(crate::value::parse_u64)
                .and_then(|v| u32::try_from(v).ok()),
            activated: find("isActivated").and_then(crate::value::parse_bool),
            status_value: find("statusValue")
                .or_else(|| find("statusCode"))
                .and_then(crate::value::parse_u64)
                .and_then(|v| u32::try_from(v).ok()),
            status_string: find("statusString").map(str::to_owned),
        }
    }

    fn from_json(v: &serde_json::Value) -> Self {
        let s = |k: &str| json::find(v, k);
        let text = |k: &str| {
            s(k).and_then(|x| match x {
                serde_json::Value::String(t) => Some(t.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
        };
        let num = |k: &str| text(k).as_deref().and_then(crate::value::parse_u64);
        Self {
            locked: text("lockStatus").map(|t| t.eq_ignore_ascii_case("lock")),
            unlock_in: num("unlockTime").map(Duration::from_secs),
            retries_left: num("retryLoginTime").and_then(|v| u32::try_from(v).ok()),
            activated: text("isActivated")
                .as_deref()
                .and_then(crate::value::parse_bool),
            status_value: num("statusValue")
                .or_else(|| num("statusCode"))
                .and_then(|v| u32::try_from(v).ok()),
            status_string: text("statusString"),
        }
    }
}

/// What the body of a 401 turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnauthorizedBody {
    /// A `userCheck`/`ResponseStatus`/JSON document (lock fields may be absent).
    Status(LockStatus),
    /// An HTML error page (older cameras), with its title.
    Html {
        /// `<title>` text, when found.
        title: Option<String>,
    },
    /// No body.
    Empty,
    /// Something else.
    Unrecognised,
}

impl UnauthorizedBody {
    /// The lock status, when the body carried one.
    pub fn lock(&self) -> Option<&LockStatus> {
        match self {
            Self::Status(l) => Some(l),
            _ => None,
        }
    }
}

/// Classifies and parses a 401 body. Never fails.
pub fn parse_unauthorized_body(body: &[u8]) -> UnauthorizedBody {
    let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return UnauthorizedBody::Empty;
    };
    let rest = &body[first..];
    if rest.first() == Some(&b'{') {
        return match json::parse(rest) {
            Ok(v) => UnauthorizedBody::Status(LockStatus::from_json(&v)),
            Err(_) => UnauthorizedBody::Unrecognised,
        };
    }
    let head = String::from_utf8_lossy(&rest[..rest.len().min(512)]).to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        let text = String::from_utf8_lossy(rest);
        let lower = text.to_ascii_lowercase();
        let title = lower.find("<title>").and_then(|start| {
            let from = start + "<title>".len();
            let end = lower[from..].find("</title>")? + from;
            text.get(from..end).map(|t| t.trim().to_owned())
        });
        return UnauthorizedBody::Html { title };
    }
    match Element::parse(rest) {
        Ok(root) => UnauthorizedBody::Status(LockStatus::from_element(&root)),
        Err(_) => UnauthorizedBody::Unrecognised,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_user_check_locked() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<userCheck version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<statusValue>401</statusValue><statusString>Unauthorized</statusString>
<isActivated>true</isActivated><lockStatus>lock</lockStatus><unlockTime>1800</unlockTime><retryLoginTime>0</retryLoginTime>
</userCheck>"#;
        let UnauthorizedBody::Status(l) = parse_unauthorized_body(body) else {
            panic!("expected a status");
        };
        assert!(l.is_locked());
        assert_eq!(l.unlock_in, Some(Duration::from_secs(1800)));
        assert_eq!(l.retries_left, Some(0));
        assert_eq!(l.activated, Some(true));
    }

    #[test]
    fn unlocked_with_retries() {
        let body = b"<userCheck><statusValue>401</statusValue><lockStatus>unlock</lockStatus><unlockTime>0</unlockTime><retryLoginTime>4</retryLoginTime></userCheck>";
        let l = parse_unauthorized_body(body).lock().cloned().expect("lock");
        assert!(!l.is_locked());
        assert_eq!(l.retries_left, Some(4));
    }

    #[test]
    fn json_and_empty_and_html() {
        let l = parse_unauthorized_body(br#"{"statusCode":4,"subStatusCode":"badAuthorization","lockStatus":"lock","unlockTime":"600"}"#)
            .lock()
            .cloned()
            .expect("lock");
        assert!(l.is_locked());
        assert_eq!(l.unlock_in, Some(Duration::from_secs(600)));
        assert_eq!(parse_unauthorized_body(b"  "), UnauthorizedBody::Empty);
        assert_eq!(
            parse_unauthorized_body(b"<html><head><title> Nope </title></head></html>"),
            UnauthorizedBody::Html {
                title: Some("Nope".into())
            }
        );
        assert_eq!(
            parse_unauthorized_body(b"\xff\xfe"),
            UnauthorizedBody::Unrecognised
        );
    }
}
