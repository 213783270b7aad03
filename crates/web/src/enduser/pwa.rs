//! What makes the app installable (a PWA): the web manifest, the service worker —
//! served under `/app` so that it may control the app's pages — the PNG icons and
//! the page the service worker shows offline.

use super::icons;
use crate::portal::assets;
use crate::portal::render;
use askama::Template;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An embedded static file with its media type and caching.
fn embedded(name: &str, cache: &'static str) -> Response {
    match assets::lookup(name) {
        Some((media_type, body)) => (
            [
                (header::CONTENT_TYPE, media_type),
                (header::CACHE_CONTROL, cache),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `/app/manifest.webmanifest`.
pub(crate) async fn manifest() -> Response {
    embedded("manifest.webmanifest", "public, max-age=3600")
}

/// `/app/sw.js`: always revalidated, so a new release takes over soon. Its scope is
/// `/app` (the start page itself, which has no trailing slash), which the
/// `Service-Worker-Allowed` header permits.
pub(crate) async fn service_worker() -> Response {
    let mut res = embedded("sw.js", "no-cache");
    res.headers_mut().insert(
        HeaderName::from_static("service-worker-allowed"),
        HeaderValue::from_static("/app"),
    );
    res
}

fn png(size: u32) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        icons::png(size),
    )
        .into_response()
}

/// `/app/icon-192.png`.
pub(crate) async fn icon_192() -> Response {
    png(192)
}

/// `/app/icon-512.png`.
pub(crate) async fn icon_512() -> Response {
    png(512)
}

#[derive(Template)]
#[template(path = "app_offline.html")]
struct OfflinePage;

/// `/app/offline`: what the service worker shows when there is no network.
pub(crate) async fn offline() -> Response {
    render(&OfflinePage)
}
