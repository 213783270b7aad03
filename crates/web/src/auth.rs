//! Who is asking: the session cookie (web pages) or the bearer token (API), and the
//! CSRF check that every cookie-authenticated change must pass.

use crate::AppState;
use crate::problem::Problem;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum_extra::extract::CookieJar;
use siteward_app::Principal;
use std::net::{IpAddr, SocketAddr};
use subtle::ConstantTimeEq;

/// The cookie holding the session token.
pub(crate) const SESSION_COOKIE: &str = "sw_session";
/// The header a cookie-authenticated API call must echo the session's CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// Compares secrets without leaking where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The address of the peer, for throttling.
pub(crate) fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The session token sent with the request, if any, and whether it came as a cookie.
pub(crate) fn token(parts: &Parts) -> Result<Option<(String, bool)>, Problem> {
    if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
        let bearer = h
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "auth.malformed",
                    "send the token as Authorization: Bearer <token>",
                )
            })?;
        return Ok(Some((bearer.to_owned(), false)));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    Ok(jar
        .get(SESSION_COOKIE)
        .map(|c| (c.value().to_owned(), true)))
}

/// A signed-in person calling the API.
#[derive(Debug, Clone)]
pub(crate) struct Auth(pub(crate) Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let (token, from_cookie) =
            token(parts)?.ok_or_else(|| Problem::from(siteward_app::AppError::Unauthenticated))?;
        let principal = state.app.authenticate(&token).await?;
        // A cookie rides along with any request the browser makes, so a change made
        // with one must prove it came from our own page.
        if from_cookie && !parts.method.is_safe() {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !same_secret(sent, &principal.csrf_token) {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "csrf.invalid",
                    "this change must carry the page's CSRF token (X-CSRF-Token)",
                ));
            }
        }
        Ok(Auth(principal))
    }
}
