//! The installer portal: server-rendered pages (askama), plain HTML forms with CSRF
//! tokens, a little JavaScript for comfort, and the same use cases as the API.

mod alert_rules;
pub(crate) mod assets;
mod company;
mod devices;
mod handover;
mod health;
mod notifications;
mod people;
pub(crate) mod session;
mod sites;
mod svg;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, same_secret};
use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use siteward_app::{AppError, Principal};
use siteward_core::Role;
use siteward_core::policy::Actor;
use std::convert::Infallible;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/portal") }))
        .route("/login", get(session::login_page).post(session::login))
        .route(
            "/register",
            get(session::register_page).post(session::register),
        )
        .route("/logout", post(session::logout))
        .route("/portal", get(sites::dashboard))
        .route("/portal/sites", get(sites::list).post(sites::create))
        .route("/portal/sites/{id}", get(sites::show).post(sites::update))
        .route("/portal/sites/{id}/manager", post(sites::assign))
        .route("/portal/sites/{id}/delete", post(sites::delete))
        .route("/portal/sites/claim", post(handover::claim))
        .route("/portal/sites/{id}/invitation", post(handover::invite))
        .route(
            "/portal/sites/{id}/invitation/withdraw",
            post(handover::withdraw),
        )
        .route(
            "/portal/sites/{id}/authorization-requests",
            post(handover::apply),
        )
        .route(
            "/portal/sites/{id}/authorization/release",
            post(handover::release),
        )
        .route("/portal/sites/{id}/remove", post(handover::remove))
        .route("/portal/employees", get(people::list).post(people::add))
        .route("/portal/employees/{id}", post(people::change))
        .route("/portal/company", get(company::show).post(company::update))
        .route("/portal/company/logo", post(company::upload_logo))
        .route("/portal/health", get(health::page))
        .route("/portal/inspections", post(health::inspect))
        .route("/portal/devices", get(devices::list))
        .route("/portal/sites/{id}/devices", post(devices::add))
        .route(
            "/portal/sites/{id}/devices/link",
            post(devices::add_by_serial),
        )
        .route("/portal/devices/{id}", get(devices::show))
        .route("/portal/devices/{id}/delete", post(devices::delete))
        .route("/portal/notifications", get(notifications::page))
        .route("/portal/notifications/{id}/read", post(notifications::read))
        .route(
            "/portal/notifications/{id}/acknowledge",
            post(notifications::acknowledge),
        )
        .route(
            "/portal/notifications/rules",
            get(alert_rules::page).post(alert_rules::create),
        )
        .route(
            "/portal/notifications/rules/{id}",
            post(alert_rules::update),
        )
        .route(
            "/portal/notifications/rules/{id}/delete",
            post(alert_rules::delete),
        )
        .route(
            "/portal/notifications/webhook",
            post(alert_rules::set_webhook),
        )
        .route("/static/{file}", get(assets::serve))
        .layer(axum::middleware::map_response(security_headers))
}

/// Pages may load only our own scripts, styles and images, and never be framed.
pub(crate) async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// A signed-in installer on a portal page; end users are sent to their app, anyone
/// else to sign in.
pub(crate) struct PortalUser(pub(crate) Principal);

impl FromRequestParts<AppState> for PortalUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE) else {
            return Err(Redirect::to("/login").into_response());
        };
        match state.app.authenticate(token.value()).await {
            Ok(p) if matches!(p.actor, Actor::Installer(_)) => Ok(PortalUser(p)),
            Ok(p) if matches!(p.actor, Actor::EndUser(_)) => {
                Err(Redirect::to(crate::enduser::HOME).into_response())
            }
            Ok(_) => Err(PageError::new(
                StatusCode::FORBIDDEN,
                "The installer portal is for installation companies' employees.",
            )
            .into_response()),
            Err(AppError::Unauthenticated) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

impl OptionalFromRequestParts<AppState> for PortalUser {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Infallible> {
        Ok(
            <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

/// Checks the CSRF token a session's form carried.
pub(crate) fn check_csrf(p: &Principal, sent: &str) -> Result<(), PageError> {
    if same_secret(sent, &p.csrf_token) {
        Ok(())
    } else {
        Err(PageError::new(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from Siteward. Go back, reload the page and try again.",
        ))
    }
}

/// A page that could not be shown.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    text: String,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, text: impl Into<String>) -> Self {
        Self {
            status,
            text: text.into(),
        }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let problem = crate::problem::Problem::from(e);
        Self::new(problem.status_code(), problem.detail)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    text: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let page = ErrorPage {
            title,
            text: &self.text,
        };
        (
            self.status,
            Html(page.render().unwrap_or_else(|_| self.text.clone())),
        )
            .into_response()
    }
}

/// Renders a template, or a plain error when rendering fails (a bug).
pub(crate) fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page could not be shown; it has been logged.",
            )
            .into_response()
        }
    }
}

/// A one-time message shown on the next page, carried in a short-lived cookie (not
/// the URL, so nobody can craft a link that puts words in Siteward's mouth).
#[derive(Debug, Clone)]
pub(crate) struct Flash {
    pub(crate) kind: &'static str,
    pub(crate) text: String,
}

const FLASH_COOKIE: &str = "sw_flash";

/// Redirects to `to` with a message for the next page.
pub(crate) fn redirect_with(jar: CookieJar, to: &str, ok: bool, text: &str) -> Response {
    let value = format!(
        "{}{}",
        if ok { 'o' } else { 'e' },
        B64.encode(text.as_bytes())
    );
    let cookie = Cookie::build((FLASH_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    (jar.add(cookie), Redirect::to(to)).into_response()
}

/// Takes the pending message, if any.
pub(crate) fn take_flash(jar: CookieJar) -> (CookieJar, Option<Flash>) {
    let Some(c) = jar.get(FLASH_COOKIE) else {
        return (jar, None);
    };
    let v = c.value();
    let kind = if v.starts_with('o') { "ok" } else { "error" };
    let text = v
        .get(1..)
        .and_then(|b| B64.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|t| t.len() <= 500);
    let jar = jar.remove(Cookie::build(FLASH_COOKIE).path("/"));
    (jar, text.map(|text| Flash { kind, text }))
}

/// One navigation entry.
pub(crate) struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) active: bool,
}

/// What every portal page shows around its content.
pub(crate) struct Layout {
    pub(crate) nav: Vec<NavItem>,
    pub(crate) user_name: String,
    pub(crate) role_label: &'static str,
    pub(crate) company_name: String,
    pub(crate) csrf: String,
    pub(crate) flash: Option<Flash>,
    pub(crate) version: &'static str,
    /// Unread notifications, for the badge in the menu.
    pub(crate) unread: i64,
}

impl Layout {
    pub(crate) async fn new(
        state: &AppState,
        p: &Principal,
        active: &str,
        flash: Option<Flash>,
    ) -> Result<Self, PageError> {
        let company = state.app.company(p).await?;
        let role = p.user.role.unwrap_or(Role::SiteManager);
        let mut items = vec![
            ("/portal/sites", "Sites"),
            ("/portal/health", "Health"),
            ("/portal/devices", "Devices"),
        ];
        if matches!(role, Role::InstallerAdmin | Role::ItManager) {
            items.push(("/portal/employees", "Employees"));
        }
        items.push(("/portal/company", "Company"));
        items.push(("/portal/notifications", "Notifications"));
        Ok(Self {
            nav: items
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    active: label == active,
                })
                .collect(),
            user_name: p.user.name.clone(),
            role_label: role.label(),
            company_name: company.name,
            csrf: p.csrf_token.clone(),
            flash,
            version: env!("CARGO_PKG_VERSION"),
            unread: state.app.unread_notifications(p).await.unwrap_or(0),
        })
    }
}

/// What a failed form submission says: every field message, or the refusal.
pub(crate) fn error_text(e: AppError) -> String {
    match e {
        AppError::Invalid(ref fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field.replace(['_', '.'], " "), f.message))
            .collect::<Vec<_>>()
            .join(" · "),
        other => crate::problem::Problem::from(other).detail,
    }
}

/// Common time zones offered as suggestions (any IANA name is accepted).
pub(crate) const ZONES: [&str; 24] = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
];
