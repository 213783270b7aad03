//! The overview, the sites pages, and the Health and Devices pages' shells.

use super::session::CsrfForm;
use super::{
    Layout, PageError, PortalUser, ZONES, check_csrf, error_text, redirect_with, render, take_flash,
};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use siteward_app::{AppError, Principal, SiteInput, SitePatch, SiteView};
use siteward_core::{Role, SiteId, SiteState, UserId};
use std::collections::HashMap;

type PageResult = Result<Response, PageError>;

fn can_assign(p: &Principal) -> bool {
    matches!(p.user.role, Some(Role::InstallerAdmin | Role::ItManager))
}

/// Site Managers by id, for showing names and offering choices.
async fn site_managers(s: &AppState, p: &Principal) -> Result<Vec<(String, String)>, PageError> {
    if !can_assign(p) {
        return Ok(vec![(p.user.id.to_string(), p.user.name.clone())]);
    }
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s.app.list_employees(p, cursor.as_deref(), 200).await?;
        out.extend(
            page.items
                .into_iter()
                .filter(|u| u.active && u.role == Some(Role::SiteManager))
                .map(|u| (u.id, u.name)),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// A site as the pages show it.
pub(crate) struct SiteRow {
    id: String,
    name: String,
    address: Option<String>,
    site_code: String,
    region: String,
    time_zone: String,
    manager: String,
    state: &'static str,
    state_label: &'static str,
}

fn row(v: SiteView, names: &HashMap<String, String>) -> SiteRow {
    let (state, state_label) = match v.state {
        SiteState::Managed => ("managed", "Managed"),
        SiteState::OwnerInvited => ("owner_invited", "Owner invited"),
        SiteState::HandedOver => ("handed_over", "Handed over"),
    };
    let manager = v
        .manager_id
        .as_ref()
        .map(|m| {
            names
                .get(m)
                .cloned()
                .unwrap_or_else(|| "(former employee)".into())
        })
        .unwrap_or_else(|| "Not assigned".into());
    SiteRow {
        id: v.id,
        name: v.name,
        address: v.address,
        site_code: v.site_code,
        region: v.region,
        time_zone: v.time_zone,
        manager,
        state,
        state_label,
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    first_name: String,
    site_count: usize,
    unassigned: usize,
    is_site_manager: bool,
    sites: Vec<SiteRow>,
}

pub(crate) async fn dashboard(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
) -> PageResult {
    let (jar, flash) = take_flash(jar);
    let layout = Layout::new(&s, &p, "", flash).await?;
    let names: HashMap<_, _> = site_managers(&s, &p).await?.into_iter().collect();
    let page = s.app.list_sites(&p, None, 200).await?;
    let unassigned = page.items.iter().filter(|v| v.manager_id.is_none()).count();
    let site_count = page.items.len();
    let sites: Vec<SiteRow> = page
        .items
        .into_iter()
        .rev()
        .take(5)
        .map(|v| row(v, &names))
        .collect();
    let first_name = p
        .user
        .name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let page = Dashboard {
        layout,
        first_name,
        site_count,
        unassigned,
        is_site_manager: p.user.role == Some(Role::SiteManager),
        sites,
    };
    Ok((jar, render(&page)).into_response())
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    layout: Layout,
    sites: Vec<SiteRow>,
    next_cursor: Option<String>,
    is_site_manager: bool,
    can_assign: bool,
    managers: Vec<Choice>,
    zones: &'static [&'static str],
    default_zone: &'static str,
    /// An Installer Admin adds existing sites by Site ID.
    can_claim: bool,
    /// The company's claims of other companies' sites, newest first.
    claims: Vec<super::handover::ClaimRow>,
}

pub(crate) struct Choice {
    id: String,
    name: String,
    selected: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    cursor: Option<String>,
}

pub(crate) async fn list(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let (jar, flash) = take_flash(jar);
    let layout = Layout::new(&s, &p, "Sites", flash).await?;
    let managers = site_managers(&s, &p).await?;
    let names: HashMap<_, _> = managers.iter().cloned().collect();
    let page = s.app.list_sites(&p, q.cursor.as_deref(), 100).await?;
    let can_claim = p.user.role == Some(Role::InstallerAdmin);
    let claims = if can_claim {
        s.app
            .company_claims(&p, None, 20)
            .await?
            .items
            .into_iter()
            .map(super::handover::claim_row)
            .collect()
    } else {
        Vec::new()
    };
    let page = SitesPage {
        can_claim,
        claims,
        layout,
        sites: page.items.into_iter().map(|v| row(v, &names)).collect(),
        next_cursor: page.next_cursor,
        is_site_manager: p.user.role == Some(Role::SiteManager),
        can_assign: can_assign(&p),
        managers: managers
            .into_iter()
            .map(|(id, name)| Choice {
                id,
                name,
                selected: false,
            })
            .collect(),
        zones: &ZONES,
        default_zone: "Europe/London",
    };
    Ok((jar, render(&page)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct SiteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    manager_id: String,
}

fn user_id(raw: &str) -> Result<Option<UserId>, PageError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("employee")))
}

pub(crate) async fn create(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Form(f): Form<SiteForm>,
) -> PageResult {
    check_csrf(&p, &f.csrf)?;
    let input = SiteInput {
        name: f.name,
        address: Some(f.address),
        time_zone: f.time_zone,
        manager_id: user_id(&f.manager_id)?,
    };
    Ok(match s.app.create_site(&p, input).await {
        Ok(site) => redirect_with(
            jar,
            &format!("/portal/sites/{}", site.id),
            true,
            &format!(
                "Site {} created. Its Site ID is {}.",
                site.name, site.site_code
            ),
        ),
        Err(e) => redirect_with(jar, "/portal/sites#new", false, &error_text(e)),
    })
}

/// The site page; its `live` block is re-rendered alone when hand-over news
/// arrives (`X-Partial: site-live`).
#[derive(Template)]
#[template(path = "site.html", blocks = ["live"])]
struct SitePage {
    layout: Layout,
    site: SiteRow,
    /// Why the site's details, devices and audit log are not shown (handed over,
    /// without the site-information permission: R-10), if so.
    locked: Option<String>,
    handover: super::handover::Panel,
    devices: Vec<super::devices::DeviceRow>,
    /// Devices added by serial number that have not connected yet.
    pending: Vec<siteward_app::PendingDeviceView>,
    show_site: bool,
    can_add_device: bool,
    can_assign: bool,
    can_delete_site: bool,
    can_delete: bool,
    managers: Vec<Choice>,
    audit: Vec<AuditRow>,
    zones: &'static [&'static str],
}

pub(crate) struct AuditRow {
    at: String,
    at_short: String,
    summary: String,
}

pub(crate) fn site_id(raw: &str) -> Result<SiteId, PageError> {
    raw.parse()
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("site")))
}

pub(crate) async fn show(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> PageResult {
    let id = site_id(&id)?;
    let partial = super::health::wants_partial(&headers, "site-live");
    let (jar, flash) = if partial {
        (jar, None)
    } else {
        take_flash(jar)
    };
    let now = s.app.clock().now();
    // a handed-over site without the site-information permission still shows
    // its card and hand-over panel, saying which permission is missing.
    let (view, mut locked) = match s.app.get_site(&p, id).await {
        Ok(v) => (v, None),
        Err(e @ AppError::Forbidden(_)) => (s.app.site_card(&p, id).await?, Some(error_text(e))),
        Err(e) => return Err(e.into()),
    };
    let layout = Layout::new(&s, &p, "Sites", flash).await?;
    let managers = site_managers(&s, &p).await?;
    let names: HashMap<_, _> = managers.iter().cloned().collect();
    let current = view.manager_id.clone();
    let view_state_managed = view.state == SiteState::Managed;
    let (audit, devices) = if locked.is_some() {
        (Vec::new(), Vec::new())
    } else {
        match (
            s.app.site_audit(&p, id, None, 50).await,
            s.app.list_site_devices(&p, id, None, 200).await,
        ) {
            (Ok(a), Ok(d)) => (a.items, d.items),
            (Err(e @ AppError::Forbidden(_)), _) | (_, Err(e @ AppError::Forbidden(_))) => {
                locked = Some(error_text(e));
                (Vec::new(), Vec::new())
            }
            (Err(e), _) | (_, Err(e)) => return Err(e.into()),
        }
    };
    let pending = if locked.is_some() {
        Vec::new()
    } else {
        s.app.pending_site_devices(&p, id).await?
    };
    let auths = if view.state == SiteState::HandedOver {
        s.app.site_authorizations(&p, id).await?
    } else {
        Vec::new()
    };
    let choices = devices
        .iter()
        .map(|d| (d.id.clone(), format!("{} ({})", d.name, d.serial)))
        .collect();
    let handover = super::handover::panel(&p, &view, &auths, choices, now);
    let page = SitePage {
        layout,
        locked,
        handover,
        devices: devices
            .into_iter()
            .map(|d| super::devices::device_row(d, &HashMap::new()))
            .collect(),
        pending,
        show_site: false,
        can_add_device: super::devices::manages_devices(&p),
        site: row(view, &names),
        can_assign: can_assign(&p),
        can_delete_site: can_assign(&p) && view_state_managed,
        can_delete: super::devices::manages_devices(&p) && view_state_managed,
        managers: managers
            .into_iter()
            .map(|(mid, name)| Choice {
                selected: current.as_deref() == Some(mid.as_str()),
                id: mid,
                name,
            })
            .collect(),
        audit: audit
            .into_iter()
            .map(|e| AuditRow {
                at_short: e.at.get(..16).unwrap_or(&e.at).replace('T', " "),
                at: e.at,
                summary: e.summary,
            })
            .collect(),
        zones: &ZONES,
    };
    if partial {
        return Ok(render(&page.as_live()));
    }
    Ok((jar, render(&page)).into_response())
}

pub(crate) async fn update(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<SiteForm>,
) -> PageResult {
    check_csrf(&p, &f.csrf)?;
    let id = site_id(&id)?;
    let here = format!("/portal/sites/{id}");
    let patch = SitePatch {
        name: Some(f.name),
        address: Some(f.address),
        time_zone: Some(f.time_zone),
    };
    Ok(match s.app.update_site(&p, id, patch).await {
        Ok(_) => redirect_with(jar, &here, true, "Saved."),
        Err(e) => redirect_with(jar, &here, false, &error_text(e)),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct ManagerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    employee_id: String,
}

pub(crate) async fn assign(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<ManagerForm>,
) -> PageResult {
    check_csrf(&p, &f.csrf)?;
    let id = site_id(&id)?;
    let here = format!("/portal/sites/{id}");
    Ok(
        match s.app.assign_manager(&p, id, user_id(&f.employee_id)?).await {
            Ok(v) if v.manager_id.is_some() => {
                redirect_with(jar, &here, true, "Site Manager assigned.")
            }
            Ok(_) => redirect_with(jar, &here, true, "The site has no Site Manager now."),
            Err(e) => redirect_with(jar, &here, false, &error_text(e)),
        },
    )
}

pub(crate) async fn delete(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    check_csrf(&p, &f.csrf)?;
    let id = site_id(&id)?;
    Ok(match s.app.delete_site(&p, id).await {
        Ok(()) => redirect_with(jar, "/portal/sites", true, "Site deleted."),
        Err(e) => redirect_with(jar, &format!("/portal/sites/{id}"), false, &error_text(e)),
    })
}
