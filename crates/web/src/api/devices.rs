//! Devices in sites.

use super::{Body, ListPage, Pagination, created, path_id};
use crate::AppState;
use crate::auth::Auth;
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use siteward_app::{AddDevice, Added, DeviceView, PendingDeviceView};

/// Adds a device to a site by IP address or domain: Siteward connects, signs
/// in with digest authentication, reads the device's identity and checks it against
/// the compatibility list before storing anything.
#[utoipa::path(post, path = "/api/v1/sites/{id}/devices", tag = "devices", security(("bearer" = [])), request_body = AddDevice,
    responses((status = 201, body = DeviceView), (status = 202, description = "added by serial number; waiting for the device to connect", body = PendingDeviceView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 502, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn add_device(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(input): Body<AddDevice>,
) -> Result<impl IntoResponse, Problem> {
    Ok(
        match s.app.add_device(&p, path_id(&id, "site")?, input).await? {
            Added::Device(d) => created(d).into_response(),
            Added::Pending(d) => (StatusCode::ACCEPTED, Json(d)).into_response(),
        },
    )
}

/// The site's devices added by serial number that have not connected yet,
/// or were refused when they did, with the reason.
#[utoipa::path(get, path = "/api/v1/sites/{id}/devices/pending", tag = "devices", security(("bearer" = [])),
    responses((status = 200, body = Vec<PendingDeviceView>), (status = 404, body = Problem)))]
pub(crate) async fn pending_devices(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<PendingDeviceView>>, Problem> {
    Ok(Json(
        s.app
            .pending_site_devices(&p, path_id(&id, "site")?)
            .await?,
    ))
}

/// The site's devices.
#[utoipa::path(get, path = "/api/v1/sites/{id}/devices", tag = "devices", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<DeviceView>), (status = 404, body = Problem)))]
pub(crate) async fn site_devices(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<DeviceView>>, Problem> {
    Ok(Json(
        s.app
            .list_site_devices(&p, path_id(&id, "site")?, q.cursor(), q.limit()?)
            .await?
            .into(),
    ))
}

/// Every device the signed-in person may see.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<DeviceView>)))]
pub(crate) async fn list_devices(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<DeviceView>>, Problem> {
    Ok(Json(
        s.app.list_devices(&p, q.cursor(), q.limit()?).await?.into(),
    ))
}

/// One device.
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "devices", security(("bearer" = [])),
    responses((status = 200, body = DeviceView), (status = 404, body = Problem)))]
pub(crate) async fn get_device(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<DeviceView>, Problem> {
    Ok(Json(s.app.get_device(&p, path_id(&id, "device")?).await?))
}

/// Deletes a device.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "devices", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn delete_device(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    s.app.delete_device(&p, path_id(&id, "device")?).await?;
    Ok(StatusCode::NO_CONTENT)
}
