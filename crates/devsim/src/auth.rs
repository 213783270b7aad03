//! Request authentication on a device: digest (with stale-nonce re-challenges), web
//! sessions from the session login AX Pro clients use (isapi.md §5.3), and the
//! illegal-login lock of the `lockout` fault (isapi.md §5.2).

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::catalog::Dialect;
use crate::device::{Device, PendingLogin, Session, State, now_ms};
use crate::digest::{self, NonceState, sha256_hex};
use crate::documents::{self, LockInfo, Xml, xml_text};
use crate::respond::{self, Reply};

const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
const ITERATIONS: u32 = 100;

/// Why a request was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No usable credentials: plain challenge.
    Missing,
    /// Credentials of an expired nonce: challenge with `stale=TRUE`.
    Stale,
    /// Wrong user or password (counts towards the lock).
    Wrong,
    /// Account locked.
    Locked,
}

fn lock_info(st: &State) -> Option<LockInfo> {
    let policy = st.faults.lockout?;
    let now = Instant::now();
    let locked_for = st
        .locked_until
        .filter(|t| *t > now)
        .map(|t| t.duration_since(now));
    Some(LockInfo {
        locked: locked_for.is_some(),
        unlock_secs: locked_for.map_or(0, |d| d.as_secs().max(1)),
        retries_left: if locked_for.is_some() {
            0
        } else {
            policy.attempts.saturating_sub(st.failed_logins)
        },
    })
}

fn unauthorized(dev: &Device, refusal: Refusal, had_digest: bool) -> Reply {
    let body_and_type = {
        let st = dev.state();
        match lock_info(&st) {
            Some(l) => (
                documents::user_check(Some(l)),
                "application/xml; charset=\"UTF-8\"",
            ),
            None if dev.dialect() == Dialect::Hik20 && !had_digest => {
                (documents::UNAUTHORIZED_HTML.to_string(), "text/html")
            }
            None => (
                documents::user_check(None),
                "application/xml; charset=\"UTF-8\"",
            ),
        }
    };
    let mut r = respond::with_type(
        dev,
        StatusCode::UNAUTHORIZED,
        body_and_type.1,
        body_and_type.0,
    );
    let style = dev.challenge_style();
    let nonce = digest::make_nonce(&dev.secret, now_ms(), style);
    let value = digest::challenge(style, &dev.id.realm, &nonce, refusal == Refusal::Stale);
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// Counts a wrong password; locks the account when the policy says so.
fn record_failure(st: &mut State) -> Refusal {
    st.failed_logins = st.failed_logins.saturating_add(1);
    if let Some(policy) = st.faults.lockout
        && st.failed_logins >= policy.attempts
    {
        st.locked_until = Some(Instant::now() + policy.duration);
        return Refusal::Locked;
    }
    Refusal::Wrong
}

/// Clears an expired lock; `true` when the account is locked now.
fn locked_now(st: &mut State) -> bool {
    match st.locked_until {
        Some(t) if t > Instant::now() => true,
        Some(_) => {
            st.locked_until = None;
            st.failed_logins = 0;
            false
        }
        None => false,
    }
}

fn session_cookie(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            k.starts_with("WebSession").then(|| v.trim().to_string())
        })
        .collect()
}

/// Lets a request in (`Ok`) or answers it with 401.
pub(crate) fn authenticate(
    dev: &Device,
    method: &str,
    headers: &HeaderMap,
) -> Result<(), Box<Reply>> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(digest::parse_authorization);
    let had_digest = auth.as_ref().is_some_and(|(s, _)| s == "digest");
    let refusal = {
        let mut st = dev.state();
        if locked_now(&mut st) {
            Refusal::Locked
        } else {
            let tokens = session_cookie(headers);
            let now = Instant::now();
            st.sessions
                .retain(|s| now.duration_since(s.last_used) < SESSION_IDLE);
            if let Some(s) = st.sessions.iter_mut().find(|s| tokens.contains(&s.token)) {
                s.last_used = now;
                return Ok(());
            }
            match auth {
                Some((scheme, params)) if scheme == "digest" => {
                    let nonce = params.get("nonce").map(String::as_str).unwrap_or("");
                    match digest::check_nonce(&dev.secret, nonce, dev.options.nonce_ttl, now_ms()) {
                        NonceState::Invalid => Refusal::Missing,
                        NonceState::Stale => Refusal::Stale,
                        NonceState::Fresh => {
                            let user_ok = params.get("username") == Some(&dev.id.username);
                            let expected =
                                digest::expected_response(&params, &dev.id.password, method);
                            if user_ok
                                && expected.is_some()
                                && expected.as_ref() == params.get("response")
                            {
                                st.failed_logins = 0;
                                return Ok(());
                            }
                            record_failure(&mut st)
                        }
                    }
                }
                // Basic (refused like V5.5+ firmware) or nothing.
                _ => Refusal::Missing,
            }
        }
    };
    Err(Box::new(unauthorized(dev, refusal, had_digest)))
}

fn salt(dev: &Device, which: &str) -> String {
    sha256_hex(&format!("{}:{}:{which}", dev.id.serial, dev.secret))
}

/// `GET /ISAPI/Security/sessionLogin/capabilities?username=…`.
pub(crate) fn session_capabilities(dev: &Device) -> Reply {
    let session_id = hex::encode(rand::random::<[u8; 32]>());
    let challenge = hex::encode(rand::random::<[u8; 16]>());
    {
        let mut st = dev.state();
        let now = Instant::now();
        st.pending_logins
            .retain(|p| now.duration_since(p.created) < Duration::from_secs(120));
        if st.pending_logins.len() >= 16 {
            st.pending_logins.remove(0);
        }
        st.pending_logins.push(PendingLogin {
            session_id: session_id.clone(),
            challenge: challenge.clone(),
            created: now,
        });
    }
    let mut x = Xml::root(Dialect::Isapi, "SessionLoginCap");
    x.leaf("sessionID", &session_id)
        .leaf("challenge", &challenge)
        .leaf("iterations", ITERATIONS)
        .leaf("isSupportRTSPWithSession", "true")
        .leaf("isIrreversible", "true")
        .leaf("sessionIDVersion", 2)
        .leaf("salt", salt(dev, "salt"))
        .leaf("salt2", salt(dev, "salt2"));
    respond::ok_xml(dev, x.finish())
}

/// The encodings of isapi.md §5.3 a client may have used.
fn candidates(dev: &Device, user: &str, challenge: &str) -> [String; 3] {
    let pass = &dev.id.password;
    let salt1 = salt(dev, "salt");
    let salt2 = salt(dev, "salt2");
    let mut v2 = sha256_hex(&format!("{user}{salt1}{pass}"));
    v2 = sha256_hex(&format!("{v2}{challenge}"));
    for _ in 2..ITERATIONS {
        v2 = sha256_hex(&v2);
    }
    let mut v1 = sha256_hex(&format!("{user}{salt1}{pass}"));
    v1 = sha256_hex(&format!("{user}{salt2}{v1}"));
    v1 = sha256_hex(&format!("{v1}{challenge}"));
    for _ in 2..ITERATIONS {
        v1 = sha256_hex(&v1);
    }
    let mut rev = format!("{}{challenge}", sha256_hex(pass));
    for _ in 1..ITERATIONS {
        rev = sha256_hex(&rev);
    }
    [v2, v1, rev]
}

/// `POST /ISAPI/Security/sessionLogin` with a `SessionLogin` body.
pub(crate) fn session_login(dev: &Device, body: &str) -> Reply {
    let user = xml_text(body, "userName").unwrap_or_default();
    let password = xml_text(body, "password").unwrap_or_default();
    let sid = xml_text(body, "sessionID");
    let refusal = {
        let mut st = dev.state();
        if locked_now(&mut st) {
            Refusal::Locked
        } else {
            let idx = match &sid {
                Some(s) => st.pending_logins.iter().position(|p| &p.session_id == s),
                None => st.pending_logins.len().checked_sub(1),
            };
            match idx {
                None => Refusal::Missing,
                Some(i) => {
                    let pending = st.pending_logins.remove(i);
                    let ok = user == dev.id.username
                        && candidates(dev, &user, &pending.challenge)
                            .contains(&password.to_ascii_lowercase());
                    if ok {
                        st.failed_logins = 0;
                        let token = hex::encode(rand::random::<[u8; 32]>());
                        st.sessions.push(Session {
                            token: token.clone(),
                            last_used: Instant::now(),
                        });
                        drop(st);
                        let mut x = Xml::root(Dialect::Isapi, "SessionLogin");
                        x.leaf("statusValue", 200)
                            .leaf("statusString", "OK")
                            .leaf("isActivated", "true")
                            .leaf("sessionID", &token)
                            .leaf("isSupportLoginTiming", "true");
                        let mut r = respond::ok_xml(dev, x.finish());
                        let cookie =
                            format!("WebSession_{}={token}; path=/; HttpOnly", &dev.secret[..10]);
                        if let Ok(v) = HeaderValue::from_str(&cookie) {
                            r.headers_mut().insert(header::SET_COOKIE, v);
                        }
                        return r;
                    }
                    record_failure(&mut st)
                }
            }
        }
    };
    unauthorized(dev, refusal, true)
}

/// `PUT /ISAPI/Security/sessionLogout`.
pub(crate) fn session_logout(dev: &Device, headers: &HeaderMap, url: &str) -> Reply {
    let tokens = session_cookie(headers);
    dev.state().sessions.retain(|s| !tokens.contains(&s.token));
    respond::ok_status(dev, url, false)
}
