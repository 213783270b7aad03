//! Sites, their Site Manager and their audit log.

use super::{Body, ListPage, Pagination, created, path_id};
use crate::AppState;
use crate::auth::Auth;
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use siteward_app::{AuditView, SiteInput, SitePatch, SiteView};
use utoipa::ToSchema;

/// The sites visible to the signed-in person (a Site Manager sees only his or hers).
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<SiteView>), (status = 401, body = Problem)))]
pub(crate) async fn list_sites(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<SiteView>>, Problem> {
    Ok(Json(
        s.app.list_sites(&p, q.cursor(), q.limit()?).await?.into(),
    ))
}

/// Creates a site with a new Site ID.
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", security(("bearer" = [])), request_body = SiteInput,
    responses((status = 201, body = SiteView), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn create_site(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(input): Body<SiteInput>,
) -> Result<impl IntoResponse, Problem> {
    Ok(created(s.app.create_site(&p, input).await?))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "sites", security(("bearer" = [])),
    responses((status = 200, body = SiteView), (status = 404, body = Problem)))]
pub(crate) async fn get_site(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<SiteView>, Problem> {
    Ok(Json(s.app.get_site(&p, path_id(&id, "site")?).await?))
}

/// Changes a site's name, address or time zone.
#[utoipa::path(patch, path = "/api/v1/sites/{id}", tag = "sites", security(("bearer" = [])), request_body = SitePatch,
    responses((status = 200, body = SiteView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn update_site(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(patch): Body<SitePatch>,
) -> Result<Json<SiteView>, Problem> {
    Ok(Json(
        s.app.update_site(&p, path_id(&id, "site")?, patch).await?,
    ))
}

/// Deletes a site (Installer Admin, IT Manager).
#[utoipa::path(delete, path = "/api/v1/sites/{id}", tag = "sites", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn delete_site(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    s.app.delete_site(&p, path_id(&id, "site")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/sites/{id}/manager`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManagerInput {
    /// The Site Manager's employee id; null removes the assignment.
    employee_id: Option<String>,
}

/// Assigns or changes the site's Site Manager (Installer Admin, IT Manager; ).
#[utoipa::path(put, path = "/api/v1/sites/{id}/manager", tag = "sites", security(("bearer" = [])), request_body = ManagerInput,
    responses((status = 200, body = SiteView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn assign_manager(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(input): Body<ManagerInput>,
) -> Result<Json<SiteView>, Problem> {
    let manager = match input.employee_id.as_deref() {
        Some(e) => Some(path_id(e, "employee")?),
        None => None,
    };
    Ok(Json(
        s.app
            .assign_manager(&p, path_id(&id, "site")?, manager)
            .await?,
    ))
}

/// The site's audit log, newest first: who did what, when.
#[utoipa::path(get, path = "/api/v1/sites/{id}/audit", tag = "sites", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<AuditView>), (status = 404, body = Problem)))]
pub(crate) async fn site_audit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<AuditView>>, Problem> {
    Ok(Json(
        s.app
            .site_audit(&p, path_id(&id, "site")?, q.cursor(), q.limit()?)
            .await?
            .into(),
    ))
}
