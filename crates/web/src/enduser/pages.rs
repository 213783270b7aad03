//! The app's pages: Home (my sites and devices, my installer, what waits
//! for an answer), a site with its devices (which its owner may remove once the
//! site is handed over, R-16) and audit trail, About (the
//! installer's logo and contact, my account), and alarms.
//! Invitations and authorization requests are in [`super::handover`].
//!
//! Each page has one live part (`data-live`) that the script re-fetches with the
//! `X-Partial` header when the event stream says something changed.

use super::{AppLayout, AppUser, app_error, check_form, render, wants_partial};
use crate::AppState;
use crate::portal::{redirect_with, take_flash};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use siteward_app::{AlarmView, AppError, AuditView, InstallerView, MySiteView, Principal};
use siteward_core::{DeviceId, DeviceType, SiteId, SiteState};

/// A device line: name, kind and an online dot.
pub(crate) struct DeviceLine {
    id: String,
    name: String,
    kind: &'static str,
    model: String,
    connectivity: &'static str,
    connectivity_label: &'static str,
}

/// A site card.
pub(crate) struct SiteCard {
    id: String,
    name: String,
    address: Option<String>,
    online: usize,
    devices: Vec<DeviceLine>,
    /// Whether its owner may remove devices in the app: the site is handed over
    /// . The policy decides again when the owner does.
    removable: bool,
}

fn card(s: MySiteView) -> SiteCard {
    SiteCard {
        removable: s.state == SiteState::HandedOver.as_str(),
        id: s.id,
        name: s.name,
        address: s.address,
        online: s.online_count,
        devices: s
            .devices
            .into_iter()
            .map(|d| DeviceLine {
                kind: d
                    .device_type
                    .parse::<DeviceType>()
                    .map_or("Device", DeviceType::label),
                connectivity_label: match d.connectivity {
                    "online" => "Online",
                    "offline" => "Offline",
                    _ => "Not checked yet",
                },
                connectivity: d.connectivity,
                id: d.id,
                name: d.name,
                model: d.model,
            })
            .collect(),
    }
}

/// A time for people: `2026-11-25 10:48 UTC`.
fn when(rfc3339: &str) -> String {
    format!(
        "{} UTC",
        rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
    )
}

#[derive(Template)]
#[template(path = "app_sites_part.html")]
struct SitesPart {
    sites: Vec<SiteCard>,
    waiting_invitations: usize,
    waiting_requests: usize,
}

#[derive(Template)]
#[template(path = "app_home.html")]
struct HomePage {
    layout: AppLayout,
    first_name: String,
    installer: Option<InstallerView>,
    sites: Vec<SiteCard>,
    waiting_invitations: usize,
    waiting_requests: usize,
}

pub(crate) async fn home(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    headers: HeaderMap,
) -> Response {
    let mine = match s.app.my_sites(&p).await {
        Ok(m) => m,
        Err(e) => return app_error(e),
    };
    let sites: Vec<SiteCard> = mine.items.into_iter().map(card).collect();
    let (waiting_invitations, waiting_requests) = super::handover::waiting(&s, &p).await;
    if wants_partial(&headers, "sites") {
        return render(&SitesPart {
            sites,
            waiting_invitations,
            waiting_requests,
        });
    }
    let (jar, flash) = take_flash(jar);
    let page = HomePage {
        layout: AppLayout::new(&p, "Home", flash),
        first_name: first_name(&p),
        installer: mine.installer,
        sites,
        waiting_invitations,
        waiting_requests,
    };
    (jar, render(&page)).into_response()
}

fn first_name(p: &Principal) -> String {
    p.user
        .name
        .split_whitespace()
        .next()
        .unwrap_or(&p.user.name)
        .to_owned()
}

/// One line of a site's audit trail.
pub(crate) struct AuditLine {
    at: String,
    at_text: String,
    actor: String,
    summary: String,
}

impl From<AuditView> for AuditLine {
    fn from(a: AuditView) -> Self {
        Self {
            at_text: when(&a.at),
            at: a.at,
            actor: a.actor_name,
            summary: a.summary,
        }
    }
}

#[derive(Template)]
#[template(path = "app_site_part.html")]
struct SitePart {
    site: SiteCard,
    audit: Vec<AuditLine>,
    more_href: Option<String>,
    csrf: String,
}

#[derive(Template)]
#[template(path = "app_site.html")]
struct SitePage {
    layout: AppLayout,
    site: SiteCard,
    site_code: String,
    time_zone: String,
    installer: Option<InstallerView>,
    audit: Vec<AuditLine>,
    more_href: Option<String>,
    csrf: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SiteQuery {
    cursor: Option<String>,
}

pub(crate) async fn site(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<SiteQuery>,
) -> Response {
    let Ok(id) = id.parse() else {
        return app_error(siteward_app::AppError::NotFound("site"));
    };
    let site = match s.app.my_site(&p, id).await {
        Ok(v) => v,
        Err(e) => return app_error(e),
    };
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let audit = match s.app.my_site_audit(&p, id, cursor, 25).await {
        Ok(a) => a,
        Err(e) => return app_error(e),
    };
    let more_href = audit
        .next_cursor
        .map(|c| format!("/app/sites/{}?cursor={c}#audit", site.id));
    let audit: Vec<AuditLine> = audit.items.into_iter().map(AuditLine::from).collect();
    let (site_code, time_zone, installer) = (
        site.site_code.clone(),
        site.time_zone.clone(),
        site.installer.clone(),
    );
    let site = card(site);
    if wants_partial(&headers, "site-live") {
        return render(&SitePart {
            site,
            audit,
            more_href,
            csrf: p.csrf_token.clone(),
        });
    }
    let (jar, flash) = take_flash(jar);
    let page = SitePage {
        layout: AppLayout::new(&p, "Home", flash),
        site,
        site_code,
        time_zone,
        installer,
        audit,
        more_href,
        csrf: p.csrf_token.clone(),
    };
    (jar, render(&page)).into_response()
}

/// Removes a device of one of my handed-over sites: the same use case
/// as `DELETE /api/v1/devices/{id}`, which asks the policy; the answer comes back
/// as a message on the site's page (on Home when the site is not mine).
pub(crate) async fn remove_device(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path((site, device)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    // What the owner sees of the site, for the way back and the device's name.
    let mine = match site.parse::<SiteId>() {
        Ok(id) => s.app.my_site(&p, id).await.ok(),
        Err(_) => None,
    };
    let back = mine.as_ref().map_or_else(
        || super::HOME.to_owned(),
        |m| format!("/app/sites/{}", m.id),
    );
    let name = mine
        .as_ref()
        .and_then(|m| m.devices.iter().find(|d| d.id == device))
        .map(|d| d.name.clone());
    let r = match device.parse::<DeviceId>() {
        Ok(id) => s.app.delete_device(&p, id).await,
        Err(_) => Err(AppError::NotFound("device")),
    };
    match r {
        Ok(()) => {
            let text = match (name, mine) {
                (Some(n), Some(m)) => format!("{n} is removed from {}.", m.name),
                _ => "The device is removed.".to_owned(),
            };
            redirect_with(jar, &back, true, &text)
        }
        Err(e) => redirect_with(jar, &back, false, &crate::portal::error_text(e)),
    }
}

#[derive(Template)]
#[template(path = "app_about.html")]
struct AboutPage {
    layout: AppLayout,
    installer: Option<InstallerView>,
    site_count: usize,
    email: String,
    region: String,
    app_version: &'static str,
}

pub(crate) async fn about(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
) -> Response {
    let mine = match s.app.my_sites(&p).await {
        Ok(m) => m,
        Err(e) => return app_error(e),
    };
    let (jar, flash) = take_flash(jar);
    let page = AboutPage {
        layout: AppLayout::new(&p, "About", flash),
        installer: mine.installer,
        site_count: mine.items.len(),
        email: p.user.email.clone(),
        region: p
            .user
            .region
            .as_ref()
            .map_or_else(|| "—".to_owned(), ToString::to_string),
        app_version: super::WEB_APP_VERSION,
    };
    (jar, render(&page)).into_response()
}

/// One alarm line.
pub(crate) struct AlarmLine {
    id: String,
    device_name: String,
    text: String,
    at: String,
    at_text: String,
    /// When it was acknowledged, for people; `None` while it waits.
    acknowledged_at: Option<String>,
}

impl From<AlarmView> for AlarmLine {
    fn from(a: AlarmView) -> Self {
        Self {
            at_text: when(&a.occurred_at),
            at: a.occurred_at,
            acknowledged_at: a.acknowledged_at.as_deref().map(when),
            id: a.id,
            device_name: a.device_name,
            text: a.text,
        }
    }
}

#[derive(Template)]
#[template(path = "app_alarms_part.html")]
struct AlarmsPart {
    alarms: Vec<AlarmLine>,
    unacknowledged: i64,
    more_href: Option<String>,
    csrf: String,
}

#[derive(Template)]
#[template(path = "app_alarms.html")]
struct AlarmsPage {
    layout: AppLayout,
    alarms: Vec<AlarmLine>,
    unacknowledged: i64,
    more_href: Option<String>,
    csrf: String,
}

/// My alarms, newest first, each to acknowledge.
pub(crate) async fn alarms(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    headers: HeaderMap,
    Query(q): Query<SiteQuery>,
) -> Response {
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let list = match s.app.my_alarms(&p, cursor, 50).await {
        Ok(l) => l,
        Err(e) => return app_error(e),
    };
    let more_href = list.next_cursor.map(|c| format!("/app/alarms?cursor={c}"));
    let alarms: Vec<AlarmLine> = list.items.into_iter().map(AlarmLine::from).collect();
    let csrf = p.csrf_token.clone();
    if wants_partial(&headers, "alarms") {
        return render(&AlarmsPart {
            alarms,
            unacknowledged: list.unacknowledged,
            more_href,
            csrf,
        });
    }
    let (jar, flash) = take_flash(jar);
    let page = AlarmsPage {
        layout: AppLayout::new(&p, "Alarms", flash),
        alarms,
        unacknowledged: list.unacknowledged,
        more_href,
        csrf,
    };
    (jar, render(&page)).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Acknowledges one of my alarms.
pub(crate) async fn acknowledge_alarm(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    match s.app.acknowledge_alarm(&p, &id).await {
        Ok(_) => redirect_with(jar, "/app/alarms", true, "Alarm acknowledged."),
        Err(e) => redirect_with(jar, "/app/alarms", false, &crate::portal::error_text(e)),
    }
}
