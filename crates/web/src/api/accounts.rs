//! Registration, sign-in and out, the current account, employees, and operators'
//! authentication codes.

use super::{Body, ListPage, Pagination, created, path_id};
use crate::AppState;
use crate::auth::{Auth, peer};
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use siteward_app::{
    ClientView, EmployeeChange, LoginInput, NewEmployee, Registration, RegistrationInput, UserView,
};
use siteward_core::policy::Actor;
use utoipa::ToSchema;

/// Registers an installation company with an authentication code.
#[utoipa::path(post, path = "/api/v1/companies", tag = "accounts", request_body = RegistrationInput,
    responses((status = 201, body = Registration), (status = 400, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn register(
    State(s): State<AppState>,
    Body(input): Body<RegistrationInput>,
) -> Result<impl IntoResponse, Problem> {
    Ok(created(s.app.register_company(input).await?))
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LoginResult {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    /// Who signed in.
    user: UserView,
    /// For an app that said its version, and for every end user: whether it
    /// handles invitations or must be updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<ClientView>,
}

/// The header an app may say its version in instead of the body's `app_version`.
pub(crate) const APP_VERSION_HEADER: &str = "x-app-version";

/// Signs in and returns a bearer token (throttled: 429 with Retry-After). Apps say
/// their version in `app_version` (or the `X-App-Version` header); one too old to
/// receive invitations is told `client.status: update_required`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginInput,
    params(("X-App-Version" = Option<String>, Header, description = "The app's version, when not in the body")),
    responses((status = 200, body = LoginResult), (status = 400, body = Problem), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn login(
    State(s): State<AppState>,
    parts: Parts,
    Body(mut input): Body<LoginInput>,
) -> Result<Json<LoginResult>, Problem> {
    if input.app_version.is_none() {
        input.app_version = parts
            .headers
            .get(APP_VERSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
    }
    let (token, p) = s.app.login(input, peer(&parts)).await?;
    let client = (p.app_version.is_some() || matches!(p.actor, Actor::EndUser(_)))
        .then(|| s.app.client_status(p.app_version));
    Ok(Json(LoginResult {
        token,
        user: UserView::from(&p.user),
        client,
    }))
}

/// Ends the session the request was made with.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub(crate) async fn logout(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Result<StatusCode, Problem> {
    s.app.logout(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = Problem)))]
pub(crate) async fn me(Auth(p): Auth) -> Json<UserView> {
    Json(UserView::from(&p.user))
}

/// The company's employees (Installer Admin, IT Manager).
#[utoipa::path(get, path = "/api/v1/employees", tag = "accounts", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<UserView>), (status = 403, body = Problem)))]
pub(crate) async fn list_employees(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<UserView>>, Problem> {
    Ok(Json(
        s.app
            .list_employees(&p, q.cursor(), q.limit()?)
            .await?
            .into(),
    ))
}

/// Adds an employee.
#[utoipa::path(post, path = "/api/v1/employees", tag = "accounts", security(("bearer" = [])), request_body = NewEmployee,
    responses((status = 201, body = UserView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn add_employee(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(input): Body<NewEmployee>,
) -> Result<impl IntoResponse, Problem> {
    Ok(created(s.app.add_employee(&p, input).await?))
}

/// One employee.
#[utoipa::path(get, path = "/api/v1/employees/{id}", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 404, body = Problem)))]
pub(crate) async fn get_employee(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<UserView>, Problem> {
    Ok(Json(
        s.app.get_employee(&p, path_id(&id, "employee")?).await?,
    ))
}

/// Changes an employee's name, role, password or active flag.
#[utoipa::path(patch, path = "/api/v1/employees/{id}", tag = "accounts", security(("bearer" = [])), request_body = EmployeeChange,
    responses((status = 200, body = UserView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn change_employee(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(change): Body<EmployeeChange>,
) -> Result<Json<UserView>, Problem> {
    Ok(Json(
        s.app
            .change_employee(&p, path_id(&id, "employee")?, change)
            .await?,
    ))
}

/// Removes an employee.
#[utoipa::path(delete, path = "/api/v1/employees/{id}", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn remove_employee(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    s.app.remove_employee(&p, path_id(&id, "employee")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/auth-codes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueCodes {
    /// Region the codes are bound to.
    region: String,
    /// How many (1 to 1000).
    count: u32,
    /// A remark (for whom).
    #[serde(default)]
    note: Option<String>,
}

/// An authentication code and its state.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuthCodeView {
    /// The code.
    code: String,
    /// Its region.
    region: String,
    /// `unused`, `used` or `expired`.
    state: &'static str,
    /// Expiry, RFC 3339.
    expires_at: String,
    /// The remark.
    note: Option<String>,
}

fn code_view(c: siteward_store::AuthCode, now: i64) -> AuthCodeView {
    let state = match (c.used_at, c.expires_at <= now) {
        (Some(_), _) => "used",
        (None, true) => "expired",
        (None, false) => "unused",
    };
    AuthCodeView {
        state,
        expires_at: siteward_app::rfc3339(c.expires_at),
        region: c.region.to_string(),
        code: c.code,
        note: c.note,
    }
}

/// Issues authentication codes (platform operators).
#[utoipa::path(post, path = "/api/v1/admin/auth-codes", tag = "operators", security(("bearer" = [])), request_body = IssueCodes,
    responses((status = 201, body = Vec<AuthCodeView>), (status = 403, body = Problem)))]
pub(crate) async fn issue_auth_codes(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(input): Body<IssueCodes>,
) -> Result<impl IntoResponse, Problem> {
    let codes = s
        .app
        .issue_auth_codes(&p, &input.region, input.count, input.note)
        .await?;
    let now = s.app.clock().now();
    Ok(created(
        codes
            .into_iter()
            .map(|c| code_view(c, now))
            .collect::<Vec<_>>(),
    ))
}

/// Lists authentication codes with their state (platform operators).
#[utoipa::path(get, path = "/api/v1/admin/auth-codes", tag = "operators", security(("bearer" = [])),
    responses((status = 200, body = Vec<AuthCodeView>), (status = 403, body = Problem)))]
pub(crate) async fn list_auth_codes(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<Vec<AuthCodeView>>, Problem> {
    let now = s.app.clock().now();
    Ok(Json(
        s.app
            .list_auth_codes(&p)
            .await?
            .into_iter()
            .map(|c| code_view(c, now))
            .collect(),
    ))
}
