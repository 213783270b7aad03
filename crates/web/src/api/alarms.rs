//! Alarms: the end user's alarm list and acknowledgement. Alarms arrive live
//! as `alarm` events on `GET /api/v1/events`.

use super::Pagination;
use crate::AppState;
use crate::auth::Auth;
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use siteward_app::{AlarmList, AlarmView};

/// My alarms (end user), newest first, with how many are not acknowledged.
#[utoipa::path(get, path = "/api/v1/me/alarms", tag = "alarms", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = AlarmList), (status = 404, body = Problem)))]
pub(crate) async fn my_alarms(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<AlarmList>, Problem> {
    Ok(Json(s.app.my_alarms(&p, q.cursor(), q.limit()?).await?))
}

/// Acknowledges one of my alarms (the site's owner); acknowledging again keeps the
/// first acknowledgement.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/acknowledge", tag = "alarms", security(("bearer" = [])),
    responses((status = 200, body = AlarmView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn acknowledge(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<AlarmView>, Problem> {
    Ok(Json(s.app.acknowledge_alarm(&p, &id).await?))
}
