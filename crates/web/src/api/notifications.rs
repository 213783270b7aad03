//! Notifications: my notifications, the company's exception rules and its
//! webhook.

use super::{Body, Pagination, created};
use crate::AppState;
use crate::auth::Auth;
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use siteward_app::{
    NotificationList, NotificationView, RuleInput, RuleList, RuleView, WebhookInput, WebhookView,
};

/// My notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = NotificationList), (status = 401, body = Problem)))]
pub(crate) async fn list_notifications(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<NotificationList>, Problem> {
    Ok(Json(s.app.notifications(&p, q.cursor(), q.limit()?).await?))
}

/// Marks one of my notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub(crate) async fn mark_read(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    s.app.mark_notification_read(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Acknowledges the device problem one of my notifications tells of: no more
/// reminders until the device changes again; the site's audit log records who.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/acknowledge", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn acknowledge(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<NotificationView>, Problem> {
    Ok(Json(s.app.acknowledge_notification(&p, &id).await?))
}

/// The company's exception rules and those in effect (Installer Admin, IT Manager).
#[utoipa::path(get, path = "/api/v1/exception-rules", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = RuleList), (status = 403, body = Problem)))]
pub(crate) async fn list_rules(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<RuleList>, Problem> {
    Ok(Json(s.app.exception_rules(&p).await?))
}

/// Creates an exception rule (Installer Admin, IT Manager). Hours are in each site's local time.
#[utoipa::path(post, path = "/api/v1/exception-rules", tag = "notifications", security(("bearer" = [])), request_body = RuleInput,
    responses((status = 201, body = RuleView), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn create_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(input): Body<RuleInput>,
) -> Result<impl IntoResponse, Problem> {
    Ok(created(s.app.create_exception_rule(&p, input).await?))
}

/// Changes an exception rule; absent fields keep their value.
#[utoipa::path(patch, path = "/api/v1/exception-rules/{id}", tag = "notifications", security(("bearer" = [])), request_body = RuleInput,
    responses((status = 200, body = RuleView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn update_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(input): Body<RuleInput>,
) -> Result<Json<RuleView>, Problem> {
    Ok(Json(s.app.update_exception_rule(&p, &id, input).await?))
}

/// Deletes an exception rule.
#[utoipa::path(delete, path = "/api/v1/exception-rules/{id}", tag = "notifications", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn delete_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    s.app.delete_exception_rule(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the company's webhook (Installer Admin). Calls are signed:
/// `X-Siteward-Signature: sha256=<hex HMAC-SHA256 of "timestamp.id.body">`.
#[utoipa::path(put, path = "/api/v1/company/webhook", tag = "notifications", security(("bearer" = [])), request_body = WebhookInput,
    responses((status = 200, body = WebhookView), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn put_webhook(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(input): Body<WebhookInput>,
) -> Result<Json<WebhookView>, Problem> {
    Ok(Json(s.app.set_webhook(&p, input).await?))
}
