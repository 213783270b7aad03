//! The JSON API, `/api/v1`, and its OpenAPI document generated from the handlers.

mod accounts;
mod alarms;
mod company;
mod devices;
mod end_users;
mod handover;
mod health;
mod notifications;
mod sites;

use crate::AppState;
use crate::problem::Problem;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::any;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Siteward API",
        version = "1",
        description = "The installer cloud's public interface: companies, people, sites, devices, health."
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem)),
    tags(
        (name = "accounts", description = "Registration, sign-in, employees"),
        (name = "company", description = "Company information and logo"),
        (name = "alarms", description = "The end user's alarms"),
        (name = "sites", description = "Sites, Site Managers, audit log"),
        (name = "handover", description = "Owner invitations, site authorizations, change of installation company"),
        (name = "devices", description = "Devices in sites"),
        (name = "health", description = "Health monitoring, inspections, live events"),
        (name = "notifications", description = "Notifications, exception rules, webhook"),
        (name = "operators", description = "Platform operators"),
        (name = "end users", description = "End users: sign-up, my sites, my installer, audit trail"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::me))
        .routes(routes!(end_users::sign_up))
        .routes(routes!(end_users::my_sites))
        .routes(routes!(end_users::my_site))
        .routes(routes!(end_users::my_site_audit))
        .routes(routes!(end_users::company_logo))
        .routes(routes!(accounts::list_employees, accounts::add_employee))
        .routes(routes!(
            accounts::get_employee,
            accounts::change_employee,
            accounts::remove_employee
        ))
        .routes(routes!(
            accounts::issue_auth_codes,
            accounts::list_auth_codes
        ))
        .routes(routes!(company::get_company, company::update_company))
        .routes(routes!(company::get_logo, company::put_logo))
        .routes(routes!(company::company_audit))
        .routes(routes!(sites::list_sites, sites::create_site))
        .routes(routes!(
            sites::get_site,
            sites::update_site,
            sites::delete_site
        ))
        .routes(routes!(sites::assign_manager))
        .routes(routes!(sites::site_audit))
        .routes(routes!(devices::add_device, devices::site_devices))
        .routes(routes!(devices::list_devices))
        .routes(routes!(devices::pending_devices))
        .routes(routes!(devices::get_device, devices::delete_device))
        .routes(routes!(health::health_list))
        .routes(routes!(health::health_summary))
        .routes(routes!(health::device_health))
        .routes(routes!(health::start_inspection))
        .routes(routes!(health::inspection))
        .routes(routes!(health::events))
        .routes(routes!(notifications::list_notifications))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(notifications::acknowledge))
        .routes(routes!(
            notifications::list_rules,
            notifications::create_rule
        ))
        .routes(routes!(
            notifications::update_rule,
            notifications::delete_rule
        ))
        .routes(routes!(notifications::put_webhook))
        .routes(routes!(handover::claim_site))
        .routes(routes!(
            handover::invite_owner,
            handover::withdraw_invitation
        ))
        .routes(routes!(handover::apply_authorization))
        .routes(routes!(handover::site_authorizations))
        .routes(routes!(handover::release_authorization))
        .routes(routes!(handover::cancel_authorization))
        .routes(routes!(handover::my_invitations))
        .routes(routes!(handover::accept_invitation))
        .routes(routes!(handover::decline_invitation))
        .routes(routes!(handover::my_authorization_requests))
        .routes(routes!(handover::approve_authorization))
        .routes(routes!(handover::reject_authorization))
        .routes(routes!(handover::my_claims))
        .routes(routes!(handover::confirm_claim))
        .routes(routes!(handover::decline_claim))
        .routes(routes!(alarms::my_alarms))
        .routes(routes!(alarms::acknowledge))
}

/// The OpenAPI document, generated once from the handlers' annotations.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| api_router().split_for_parts().1)
}

pub(crate) fn router() -> Router<AppState> {
    let (router, _) = api_router().split_for_parts();
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(|| async { Json(openapi()) }),
        )
        .route("/api/{*rest}", any(unknown_endpoint))
}

async fn unknown_endpoint() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
}

/// A JSON body whose every failure is a problem document (400, 413, 415).
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let Json(v) = Json::<T>::from_request(req, state)
            .await
            .map_err(|r: JsonRejection| Problem::from(r))?;
        Ok(Body(v))
    }
}

/// `?limit=&cursor=` for every list.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct Pagination {
    /// Items per page, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl Pagination {
    pub(crate) fn limit(&self) -> Result<u32, Problem> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(n),
            Some(_) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                "limit: must be 1 to 200",
            )),
        }
    }

    pub(crate) fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|c| !c.is_empty())
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ListPage<T> {
    /// This page's items.
    items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last.
    next_cursor: Option<String>,
}

impl<T> From<siteward_store::Page<T>> for ListPage<T> {
    fn from(p: siteward_store::Page<T>) -> Self {
        Self {
            items: p.items,
            next_cursor: p.next_cursor,
        }
    }
}

/// Reads an id from a path; an id that cannot exist is simply not found.
pub(crate) fn path_id<T: FromStr>(raw: &str, what: &'static str) -> Result<T, Problem> {
    raw.parse()
        .map_err(|_| Problem::from(siteward_app::AppError::NotFound(what)))
}

/// 201 with a JSON body.
pub(crate) fn created<T: Serialize>(v: T) -> impl IntoResponse {
    (StatusCode::CREATED, Json(v))
}
