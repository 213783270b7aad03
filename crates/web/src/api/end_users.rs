//! The end user's API: signing up, my sites with their devices
//! and installer, a site's audit trail, and the installer's logo.

use super::{Body, ListPage, Pagination, created, path_id};
use crate::AppState;
use crate::auth::{Auth, peer};
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use siteward_app::{AuditView, EndUserSignUp, EndUserView, MySiteView, MySites};

/// Creates an end-user account; the answer says whether the app that signed
/// up handles invitations. Throttled per address (429 with Retry-After).
#[utoipa::path(post, path = "/api/v1/end-users", tag = "end users", request_body = EndUserSignUp,
    responses((status = 201, body = EndUserView), (status = 400, body = Problem), (status = 409, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn sign_up(
    State(s): State<AppState>,
    parts: Parts,
    Body(input): Body<EndUserSignUp>,
) -> Result<impl IntoResponse, Problem> {
    Ok(created(s.app.sign_up_end_user(input, peer(&parts)).await?))
}

/// The signed-in end user's sites with their devices' online state and installer;
/// the installer's logo only when all of the sites are with one company.
#[utoipa::path(get, path = "/api/v1/me/sites", tag = "end users", security(("bearer" = [])),
    responses((status = 200, body = MySites), (status = 401, body = Problem)))]
pub(crate) async fn my_sites(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<MySites>, Problem> {
    Ok(Json(s.app.my_sites(&p).await?))
}

/// One of the signed-in end user's sites.
#[utoipa::path(get, path = "/api/v1/me/sites/{id}", tag = "end users", security(("bearer" = [])),
    responses((status = 200, body = MySiteView), (status = 404, body = Problem)))]
pub(crate) async fn my_site(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<MySiteView>, Problem> {
    Ok(Json(s.app.my_site(&p, path_id(&id, "site")?).await?))
}

/// The audit trail of one of the end user's sites, newest first: what the installer
/// did there.
#[utoipa::path(get, path = "/api/v1/me/sites/{id}/audit", tag = "end users", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<AuditView>), (status = 404, body = Problem)))]
pub(crate) async fn my_site_audit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<AuditView>>, Problem> {
    Ok(Json(
        s.app
            .my_site_audit(&p, path_id(&id, "site")?, q.cursor(), q.limit()?)
            .await?
            .into(),
    ))
}

/// An installation company's logo: for its employees, and for end users whose
/// sites are all with that company; anyone else: 404.
#[utoipa::path(get, path = "/api/v1/companies/{id}/logo", tag = "end users", security(("bearer" = [])),
    responses((status = 200, description = "PNG, JPEG or WebP image"), (status = 404, body = Problem)))]
pub(crate) async fn company_logo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Problem> {
    let (bytes, media_type) = s.app.company_logo(&p, path_id(&id, "logo")?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            // The URL carries the logo's version, so a new logo is a new URL.
            (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    ))
}
