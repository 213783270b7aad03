//! The owner's answers in the app: invitations to own a site
//! (accept, with or without the maintenance authorization it carries, or decline),
//! installers' authorization requests (approve, perhaps for a shorter time, or
//! reject), authorizations in force (cancel), and a new installation company's
//! claim of a site (confirm or decline).
//!
//! Every answer is a plain form with the session's CSRF secret, posting to one use
//! case of the app crate and coming back with a flash message.

use super::{AppLayout, AppUser, app_error, check_form, render, wants_partial};
use crate::AppState;
use crate::portal::{error_text, redirect_with, take_flash};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use siteward_app::{
    AcceptInput, ApproveInput, AuthorizationView, ClaimView, InvitationView, Principal,
    RequestView, Result,
};
use siteward_core::handover::{GrantDuration, Permission};

/// A time for people: `2026-11-25 10:48 UTC`.
fn when(rfc3339: &str) -> String {
    format!(
        "{} UTC",
        rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
    )
}

/// Permission names as people read them, with what each allows.
fn permissions(names: &[String]) -> Vec<(&'static str, &'static str)> {
    names
        .iter()
        .filter_map(|n| n.parse::<Permission>().ok())
        .map(|p| (p.label(), p.description()))
        .collect()
}

fn devices_text(ids: Option<&Vec<String>>) -> String {
    match ids.map(Vec::len) {
        None => "all devices of the site".into(),
        Some(1) => "1 device".into(),
        Some(n) => format!("{n} devices"),
    }
}

fn duration_of(hours: Option<i64>) -> GrantDuration {
    GrantDuration::from_hours(hours).unwrap_or(GrantDuration::Permanent)
}

/// An authorization asked for, as the owner reads it.
pub(crate) struct Ask {
    permissions: Vec<(&'static str, &'static str)>,
    devices: String,
    duration: &'static str,
    remark: Option<String>,
    /// Shorter grants the owner may choose instead: (form value, label).
    shorter: Vec<(String, &'static str)>,
}

fn ask(
    names: &[String],
    ids: Option<&Vec<String>>,
    hours: Option<i64>,
    remark: Option<String>,
) -> Ask {
    let asked = duration_of(hours);
    Ask {
        permissions: permissions(names),
        devices: devices_text(ids),
        duration: asked.label(),
        remark,
        shorter: GrantDuration::ALL
            .into_iter()
            .filter(|d| *d < asked)
            .map(|d| {
                (
                    d.hours()
                        .map_or_else(|| "permanent".into(), |h| h.to_string()),
                    d.label(),
                )
            })
            .collect(),
    }
}

impl From<&RequestView> for Ask {
    fn from(r: &RequestView) -> Self {
        ask(
            &r.permissions,
            r.device_ids.as_ref(),
            r.duration_hours,
            r.remark.clone(),
        )
    }
}

/// An invitation on the Invitations page.
pub(crate) struct InvitationCard {
    id: String,
    state: String,
    site_name: String,
    site_address: Option<String>,
    company_name: String,
    invited_by: String,
    expires: String,
    closed: Option<String>,
    authorization: Option<Ask>,
}

impl From<InvitationView> for InvitationCard {
    fn from(i: InvitationView) -> Self {
        Self {
            authorization: i.authorization.as_ref().map(Ask::from),
            expires: when(&i.expires_at),
            closed: i.closed_at.as_deref().map(when),
            id: i.id,
            state: i.state,
            site_name: i.site_name,
            site_address: i.site_address,
            company_name: i.company_name,
            invited_by: i.invited_by,
        }
    }
}

#[derive(Template)]
#[template(path = "app_invitations_part.html")]
struct InvitationsPart {
    pending: Vec<InvitationCard>,
    earlier: Vec<InvitationCard>,
    update_required: Option<String>,
    csrf: String,
}

#[derive(Template)]
#[template(path = "app_invitations.html")]
struct InvitationsPage {
    layout: AppLayout,
    pending: Vec<InvitationCard>,
    earlier: Vec<InvitationCard>,
    update_required: Option<String>,
    csrf: String,
}

async fn invitations_part(s: &AppState, p: &Principal) -> Result<InvitationsPart> {
    let list = s.app.my_invitations(p, None, 100).await?;
    let update_required = (list.client.status != "supported").then(|| list.client.minimum.clone());
    let (pending, earlier): (Vec<_>, Vec<_>) = list
        .items
        .into_iter()
        .map(InvitationCard::from)
        .partition(|i| i.state == "pending");
    Ok(InvitationsPart {
        pending,
        earlier,
        update_required,
        csrf: p.csrf_token.clone(),
    })
}

/// Invitations to own a site.
pub(crate) async fn invitations(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    headers: HeaderMap,
) -> Response {
    let part = match invitations_part(&s, &p).await {
        Ok(part) => part,
        Err(e) => return app_error(e),
    };
    if wants_partial(&headers, "invitations") {
        return render(&part);
    }
    let (jar, flash) = take_flash(jar);
    let page = InvitationsPage {
        layout: AppLayout::new(&p, "Invitations", flash),
        pending: part.pending,
        earlier: part.earlier,
        update_required: part.update_required,
        csrf: part.csrf,
    };
    (jar, render(&page)).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    csrf: String,
    /// The checkbox "approve the authorization too" (absent: unchecked).
    #[serde(default)]
    approve: Option<String>,
    /// Empty: as asked; `permanent`; or a number of hours.
    #[serde(default)]
    duration: String,
}

impl AnswerForm {
    /// The duration chosen: `None` as asked, `Some(None)` permanent.
    fn duration_hours(&self) -> Option<Option<i64>> {
        match self.duration.trim() {
            "" => None,
            "permanent" => Some(None),
            h => Some(Some(h.parse().unwrap_or(-1))),
        }
    }
}

/// Parses a path id; a malformed one is simply not found.
fn id_of<T: std::str::FromStr>(raw: &str, what: &'static str) -> Result<T> {
    raw.parse()
        .map_err(|_| siteward_app::AppError::NotFound(what))
}

/// Runs an answer and comes back to `back` with what happened.
fn answered<T>(jar: CookieJar, back: &str, r: Result<T>, ok: impl FnOnce(T) -> String) -> Response {
    match r {
        Ok(v) => redirect_with(jar, back, true, &ok(v)),
        Err(e) => redirect_with(jar, back, false, &error_text(e)),
    }
}

pub(crate) async fn accept_invitation(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    let input = AcceptInput {
        approve_authorization: form.approve.is_some(),
        duration_hours: form.duration_hours(),
    };
    let r = match id_of(&id, "invitation") {
        Ok(id) => s.app.accept_invitation(&p, id, input).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(inv) => redirect_with(
            jar,
            &format!("/app/sites/{}", inv.site_id),
            true,
            &format!(
                "{} is yours now. {} looks after it as before.",
                inv.site_name, inv.company_name
            ),
        ),
        Err(e) => redirect_with(jar, "/app/invitations", false, &error_text(e)),
    }
}

pub(crate) async fn decline_invitation(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    let r = match id_of(&id, "invitation") {
        Ok(id) => s.app.decline_invitation(&p, id).await,
        Err(e) => Err(e),
    };
    answered(jar, "/app/invitations", r, |inv| {
        format!(
            "You declined {}'s invitation for {}.",
            inv.company_name, inv.site_name
        )
    })
}

/// An authorization or an application on the Requests page.
pub(crate) struct AuthorizationCard {
    id: String,
    state: String,
    site_id: String,
    site_name: String,
    company_name: String,
    requested_by: String,
    ask: Ask,
    requested: String,
    expires: Option<String>,
    ended: Option<String>,
}

impl From<AuthorizationView> for AuthorizationCard {
    fn from(a: AuthorizationView) -> Self {
        // In force, it runs for what the owner granted, which may be shorter than
        // what was asked.
        let hours = if a.state == "approved" {
            a.granted_hours
        } else {
            a.duration_hours
        };
        Self {
            ask: ask(
                &a.permissions,
                a.device_ids.as_ref(),
                hours,
                a.remark.clone(),
            ),
            requested: when(&a.requested_at),
            expires: a.expires_at.as_deref().map(when),
            ended: a.ended_at.as_deref().or(a.decided_at.as_deref()).map(when),
            id: a.id,
            state: a.state,
            site_id: a.site_id,
            site_name: a.site_name,
            company_name: a.company_name,
            requested_by: a.requested_by,
        }
    }
}

/// A company's claim of a site, to confirm.
pub(crate) struct ClaimCard {
    id: String,
    site_name: String,
    site_code: String,
    company_name: String,
    claimed_by: String,
    created: String,
}

impl From<ClaimView> for ClaimCard {
    fn from(c: ClaimView) -> Self {
        Self {
            created: when(&c.created_at),
            id: c.id,
            site_name: c.site_name,
            site_code: c.site_code,
            company_name: c.company_name,
            claimed_by: c.claimed_by,
        }
    }
}

#[derive(Template)]
#[template(path = "app_requests_part.html")]
struct RequestsPart {
    pending: Vec<AuthorizationCard>,
    active: Vec<AuthorizationCard>,
    earlier: Vec<AuthorizationCard>,
    claims: Vec<ClaimCard>,
    csrf: String,
}

#[derive(Template)]
#[template(path = "app_requests.html")]
struct RequestsPage {
    layout: AppLayout,
    pending: Vec<AuthorizationCard>,
    active: Vec<AuthorizationCard>,
    earlier: Vec<AuthorizationCard>,
    claims: Vec<ClaimCard>,
    csrf: String,
}

async fn requests_part(s: &AppState, p: &Principal) -> Result<RequestsPart> {
    let page = s.app.my_authorization_requests(p, None, 100).await?;
    let (mut pending, mut active, mut earlier) = (Vec::new(), Vec::new(), Vec::new());
    for a in page.items.into_iter().map(AuthorizationCard::from) {
        match a.state.as_str() {
            "pending" => pending.push(a),
            "approved" => active.push(a),
            _ => earlier.push(a),
        }
    }
    let claims = s
        .app
        .my_claims(p, None, 50)
        .await?
        .items
        .into_iter()
        .filter(|c| c.state == "pending_confirmation")
        .map(ClaimCard::from)
        .collect();
    Ok(RequestsPart {
        pending,
        active,
        earlier,
        claims,
        csrf: p.csrf_token.clone(),
    })
}

/// Authorization requests, authorizations in force, and claims.
pub(crate) async fn requests(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    headers: HeaderMap,
) -> Response {
    let part = match requests_part(&s, &p).await {
        Ok(part) => part,
        Err(e) => return app_error(e),
    };
    if wants_partial(&headers, "requests") {
        return render(&part);
    }
    let (jar, flash) = take_flash(jar);
    let page = RequestsPage {
        layout: AppLayout::new(&p, "Requests", flash),
        pending: part.pending,
        active: part.active,
        earlier: part.earlier,
        claims: part.claims,
        csrf: part.csrf,
    };
    (jar, render(&page)).into_response()
}

pub(crate) async fn approve_request(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    let input = ApproveInput {
        duration_hours: form.duration_hours(),
    };
    let r = match id_of(&id, "authorization request") {
        Ok(id) => s.app.approve_authorization(&p, id, input).await,
        Err(e) => Err(e),
    };
    answered(jar, "/app/requests", r, |a| {
        let until = a.expires_at.as_deref().map_or_else(
            || "until you cancel it".to_owned(),
            |t| format!("until {}", when(t)),
        );
        format!("{} may maintain {} {until}.", a.company_name, a.site_name)
    })
}

pub(crate) async fn reject_request(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    let r = match id_of(&id, "authorization request") {
        Ok(id) => s.app.reject_authorization(&p, id).await,
        Err(e) => Err(e),
    };
    answered(jar, "/app/requests", r, |a| {
        format!(
            "You rejected {}'s request for {}.",
            a.company_name, a.site_name
        )
    })
}

pub(crate) async fn cancel_authorization(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    let r = match id_of(&id, "site") {
        Ok(id) => s.app.cancel_authorization(&p, id).await,
        Err(e) => Err(e),
    };
    answered(jar, "/app/requests", r, |()| {
        "The installer's authorization is cancelled: from now on they need your approval again."
            .to_owned()
    })
}

pub(crate) async fn confirm_claim(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    let r = match id_of(&id, "claim") {
        Ok(id) => s.app.confirm_claim(&p, id).await,
        Err(e) => Err(e),
    };
    answered(jar, "/app/requests", r, |c| {
        format!("{} now looks after {}.", c.company_name, c.site_name)
    })
}

pub(crate) async fn decline_claim(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    let r = match id_of(&id, "claim") {
        Ok(id) => s.app.decline_claim(&p, id).await,
        Err(e) => Err(e),
    };
    answered(jar, "/app/requests", r, |c| {
        format!(
            "You declined {}'s claim of {}.",
            c.company_name, c.site_name
        )
    })
}

/// How many answers wait for the owner: invitations and authorization requests
/// (and claims), for Home.
pub(crate) async fn waiting(s: &AppState, p: &Principal) -> (usize, usize) {
    let invitations = s
        .app
        .my_invitations(p, None, 100)
        .await
        .map(|l| l.items.iter().filter(|i| i.state == "pending").count())
        .unwrap_or(0);
    let requests = s
        .app
        .my_authorization_requests(p, None, 100)
        .await
        .map(|l| l.items.iter().filter(|a| a.state == "pending").count())
        .unwrap_or(0)
        + s.app
            .my_claims(p, None, 50)
            .await
            .map(|l| {
                l.items
                    .iter()
                    .filter(|c| c.state == "pending_confirmation")
                    .count()
            })
            .unwrap_or(0);
    (invitations, requests)
}
