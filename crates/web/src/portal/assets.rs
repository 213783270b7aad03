//! The portal's static files, embedded in the binary.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: [(&str, &str, &str); 8] = [
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../static/icon.svg"),
    ),
    // The end-user app (`/app`): its style, script, PWA manifest, service worker
    // (served at `/app/sw.js` for its scope) and full-bleed icon.
    (
        "enduser.css",
        "text/css; charset=utf-8",
        include_str!("../../static/enduser.css"),
    ),
    (
        "enduser.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/enduser.js"),
    ),
    (
        "manifest.webmanifest",
        "application/manifest+json",
        include_str!("../../static/manifest.webmanifest"),
    ),
    (
        "sw.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/sw.js"),
    ),
    (
        "app-icon.svg",
        "image/svg+xml",
        include_str!("../../static/app-icon.svg"),
    ),
];

/// An embedded file's media type and body, by name.
pub(crate) fn lookup(file: &str) -> Option<(&'static str, &'static str)> {
    FILES
        .iter()
        .find(|(name, _, _)| *name == file)
        .map(|(_, media_type, body)| (*media_type, *body))
}

pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, body)) => (
            [
                (header::CONTENT_TYPE, *media_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
