//! The end-user app at `/app`: a mobile-first web app, installable
//! as a PWA, over the same use cases as the API — my sites and devices with their
//! online state, my installer's logo and contact, each site's audit trail
//! invitations, authorization requests and changes of installer to answer
//! and alarms.
//!
//! It shares the portal's machinery: the session cookie (one sign-in serves both),
//! the double-submit token before sign-in and the session's CSRF secret on every
//! form after, flash messages in a cookie, and the strict CSP (no inline script or
//! style). Installers who come here are sent to the portal; end users who open the
//! portal are sent here.

mod handover;
mod icons;
mod pages;
mod pwa;
mod session;

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::portal::{Flash, render};
use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use siteward_app::{AppError, Principal};
use siteward_core::policy::Actor;
use std::convert::Infallible;

/// The app's start page.
pub(crate) const HOME: &str = "/app";

/// The version the web app reports when it signs people in and up. The web
/// app is served by this very server, so it always handles everything the server
/// offers: it counts as the newest app, ahead of any minimum an operator sets for
/// the phone apps (4.3 by default).
pub(crate) const WEB_APP_VERSION: &str = "5.0";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(HOME, get(pages::home))
        .route("/app/", get(|| async { Redirect::to(HOME) }))
        .route("/app/login", get(session::login_page).post(session::login))
        .route(
            "/app/signup",
            get(session::signup_page).post(session::signup),
        )
        .route("/app/logout", post(session::logout))
        .route("/app/sites/{id}", get(pages::site))
        .route(
            "/app/sites/{site}/devices/{device}/remove",
            post(pages::remove_device),
        )
        .route("/app/about", get(pages::about))
        .route("/app/invitations", get(handover::invitations))
        .route(
            "/app/invitations/{id}/accept",
            post(handover::accept_invitation),
        )
        .route(
            "/app/invitations/{id}/decline",
            post(handover::decline_invitation),
        )
        .route("/app/requests", get(handover::requests))
        .route(
            "/app/requests/{id}/approve",
            post(handover::approve_request),
        )
        .route("/app/requests/{id}/reject", post(handover::reject_request))
        .route(
            "/app/sites/{id}/authorization/cancel",
            post(handover::cancel_authorization),
        )
        .route("/app/claims/{id}/confirm", post(handover::confirm_claim))
        .route("/app/claims/{id}/decline", post(handover::decline_claim))
        .route("/app/alarms", get(pages::alarms))
        .route(
            "/app/alarms/{id}/acknowledge",
            post(pages::acknowledge_alarm),
        )
        .route("/app/offline", get(pwa::offline))
        .route("/app/manifest.webmanifest", get(pwa::manifest))
        .route("/app/sw.js", get(pwa::service_worker))
        .route("/app/icon-192.png", get(pwa::icon_192))
        .route("/app/icon-512.png", get(pwa::icon_512))
        .layer(axum::middleware::map_response(
            crate::portal::security_headers,
        ))
}

/// A signed-in end user on an app page. Installers are sent to the portal, people
/// not signed in to the app's sign-in page.
pub(crate) struct AppUser(pub(crate) Principal);

impl FromRequestParts<AppState> for AppUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE) else {
            return Err(Redirect::to("/app/login").into_response());
        };
        match state.app.authenticate(token.value()).await {
            Ok(p) if matches!(p.actor, Actor::EndUser(_)) => Ok(AppUser(p)),
            Ok(p) if matches!(p.actor, Actor::Installer(_)) => {
                Err(Redirect::to("/portal").into_response())
            }
            Ok(_) => Err(error_page(
                StatusCode::FORBIDDEN,
                "The Siteward app is for the owners of sites.",
            )),
            Err(AppError::Unauthenticated) => Err(Redirect::to("/app/login").into_response()),
            Err(e) => Err(app_error(e)),
        }
    }
}

impl OptionalFromRequestParts<AppState> for AppUser {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Infallible> {
        Ok(
            <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

#[derive(Template)]
#[template(path = "app_error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    text: &'a str,
}

/// A page that could not be shown, in the app's own look.
pub(crate) fn error_page(status: StatusCode, text: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    (status, render(&ErrorPage { title, text })).into_response()
}

/// A use case's refusal as a page (the same `detail` the API would give).
pub(crate) fn app_error(e: AppError) -> Response {
    let problem = crate::problem::Problem::from(e);
    error_page(problem.status_code(), &problem.detail)
}

/// Checks the CSRF secret a signed-in form carried.
pub(crate) fn check_form(p: &Principal, sent: &str) -> Result<(), Response> {
    if crate::auth::same_secret(sent, &p.csrf_token) {
        Ok(())
    } else {
        Err(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from Siteward. Go back, reload the page and try again.",
        ))
    }
}

/// Whether the page's script asked only for the live part named `id`.
pub(crate) fn wants_partial(headers: &HeaderMap, id: &str) -> bool {
    headers.get("x-partial").and_then(|v| v.to_str().ok()) == Some(id)
}

/// One tab of the app's navigation.
pub(crate) struct Tab {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    /// The outline of its symbol (an SVG path in a 24-unit box), shown above the
    /// label on the phone.
    pub(crate) icon: &'static str,
    pub(crate) active: bool,
}

/// What every app page shows around its content.
pub(crate) struct AppLayout {
    pub(crate) nav: Vec<Tab>,
    pub(crate) user_name: String,
    pub(crate) csrf: String,
    pub(crate) flash: Option<Flash>,
    pub(crate) version: &'static str,
}

/// The app's sections.
const NAV: [(&str, &str, &str); 5] = [
    (HOME, "Home", "M3 11l9-8 9 8M5 9.5V20h5v-6h4v6h5V9.5"),
    (
        "/app/invitations",
        "Invitations",
        "M3 6h18v12H3zM3 7l9 6 9-6",
    ),
    (
        "/app/requests",
        "Requests",
        "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6zM8.5 12l2.5 2.5 4.5-5",
    ),
    (
        "/app/alarms",
        "Alarms",
        "M6 16v-5a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0",
    ),
    (
        "/app/about",
        "About",
        "M12 3a9 9 0 1 0 0 18 9 9 0 1 0 0-18zM12 11v6M12 7.5v.5",
    ),
];

impl AppLayout {
    pub(crate) fn new(p: &Principal, active: &str, flash: Option<Flash>) -> Self {
        Self {
            nav: NAV
                .iter()
                .map(|&(href, label, icon)| Tab {
                    href,
                    label,
                    icon,
                    active: label == active,
                })
                .collect(),
            user_name: p.user.name.clone(),
            csrf: p.csrf_token.clone(),
            flash,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}
