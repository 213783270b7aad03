//! Siteward over HTTP: the JSON API under `/api/v1` (with its OpenAPI document
//! generated from the handlers), the installer portal, the end-user app (`/app`),
//! and the probes.
//!
//! Handlers are thin: they extract, call one use case of the app crate, and render.
//! Errors become `application/problem+json` in one place ([`problem`]).

// `Problem` is the whole error answer of a request: made once per failure, never in a
// loop, so its size on the error path costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

mod api;
mod auth;
mod enduser;
mod link;
mod portal;
pub mod problem;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use siteward_app::App;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use api::openapi;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The URL people reach the server at; `https://` makes cookies `Secure`.
    pub public_url: String,
}

impl WebConfig {
    pub(crate) fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) app: App,
    pub(crate) config: WebConfig,
}

const BODY_LIMIT: usize = siteward_app::LOGO_MAX_BYTES + 16 * 1024;
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application.
pub fn router(app: App, config: WebConfig) -> Router {
    let state = AppState { app, config };
    Router::new()
        .merge(api::router())
        .merge(portal::router())
        .merge(enduser::router())
        .route(siteward_link::frame::PATH, get(link::link))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
        // The largest body anyone needs is a logo (1 MiB) in a multipart form. The
        // announced length is checked before reading, the received length while reading.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn(problem::api_errors_as_problems))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, Duration::from_secs(60)))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    match s.app.ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
