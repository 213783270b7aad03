//! The company's information, logo and audit log.

use super::{ListPage, Pagination};
use crate::AppState;
use crate::auth::Auth;
use crate::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use siteward_app::{AuditView, CompanyInput, CompanyView};

/// The signed-in installer's company.
#[utoipa::path(get, path = "/api/v1/company", tag = "company", security(("bearer" = [])),
    responses((status = 200, body = CompanyView), (status = 401, body = Problem)))]
pub(crate) async fn get_company(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<CompanyView>, Problem> {
    Ok(Json(s.app.company(&p).await?))
}

/// Changes the company's information (Installer Admin, R-2).
#[utoipa::path(patch, path = "/api/v1/company", tag = "company", security(("bearer" = [])), request_body = CompanyInput,
    responses((status = 200, body = CompanyView), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn update_company(
    State(s): State<AppState>,
    Auth(p): Auth,
    super::Body(input): super::Body<CompanyInput>,
) -> Result<Json<CompanyView>, Problem> {
    Ok(Json(s.app.update_company(&p, input).await?))
}

/// The company's logo, with its media type.
#[utoipa::path(get, path = "/api/v1/company/logo", tag = "company", security(("bearer" = [])),
    responses((status = 200, description = "PNG, JPEG or WebP image"), (status = 404, body = Problem)))]
pub(crate) async fn get_logo(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Result<impl IntoResponse, Problem> {
    let (bytes, media_type) = s.app.logo(&p).await?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    ))
}

/// Replaces the logo: the raw image as the body (PNG, JPEG or WebP, at most 1 MiB
/// and 4096 pixels a side), checked by its content.
#[utoipa::path(put, path = "/api/v1/company/logo", tag = "company", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 200, body = CompanyView), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn put_logo(
    State(s): State<AppState>,
    Auth(p): Auth,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CompanyView>, Problem> {
    let bytes = body.map_err(Problem::from)?;
    Ok(Json(s.app.set_logo(&p, &bytes).await?))
}

/// The company's audit log, newest first (Installer Admin, IT Manager).
#[utoipa::path(get, path = "/api/v1/company/audit", tag = "company", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<AuditView>), (status = 403, body = Problem)))]
pub(crate) async fn company_audit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<AuditView>>, Problem> {
    Ok(Json(
        s.app
            .company_audit(&p, q.cursor(), q.limit()?)
            .await?
            .into(),
    ))
}
