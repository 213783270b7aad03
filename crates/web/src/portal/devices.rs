//! The devices pages: all devices, and adding or deleting a site's devices.

use super::session::CsrfForm;
use super::svg;
use super::{
    Layout, PageError, PortalUser, check_csrf, error_text, redirect_with, render, take_flash,
};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use siteward_app::{AddDevice, Added, DeviceHealthView, DeviceView, Principal};
use siteward_core::{DeviceId, Role, SiteId};
use std::collections::HashMap;

/// A device as the tables show it.
pub(crate) struct DeviceRow {
    pub(crate) id: String,
    pub(crate) site_id: String,
    pub(crate) site_name: String,
    pub(crate) name: String,
    pub(crate) brand: String,
    pub(crate) type_label: &'static str,
    pub(crate) model: String,
    pub(crate) firmware: String,
    pub(crate) serial: String,
    pub(crate) address: String,
    pub(crate) online: bool,
}

pub(crate) fn device_row(d: DeviceView, site_names: &HashMap<String, String>) -> DeviceRow {
    let address = match (&d.host, d.port) {
        (Some(h), Some(p)) => format!("{}{h}:{p}", if d.https { "https://" } else { "" }),
        _ => "device link".into(),
    };
    DeviceRow {
        site_name: site_names.get(&d.site_id).cloned().unwrap_or_default(),
        type_label: d.device_type.label(),
        firmware: d.firmware.unwrap_or_default(),
        id: d.id,
        site_id: d.site_id,
        name: d.name,
        brand: match d.brand.as_str() {
            "hikvision" => "Hikvision".to_owned(),
            "hilook" => "HiLook".to_owned(),
            "ezviz" => "EZVIZ".to_owned(),
            other => other.to_owned(),
        },
        model: d.model,
        serial: d.serial,
        address,
        online: d.online,
    }
}

/// Whether the person manages devices in general (the policy decides per site).
pub(crate) fn manages_devices(p: &Principal) -> bool {
    matches!(p.user.role, Some(Role::InstallerAdmin | Role::SiteManager))
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    layout: Layout,
    devices: Vec<DeviceRow>,
    next_cursor: Option<String>,
    show_site: bool,
    can_delete: bool,
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
) -> Result<Response, PageError> {
    let (jar, flash) = take_flash(jar);
    let layout = Layout::new(&s, &p, "Devices", flash).await?;
    let sites = s.app.list_sites(&p, None, 200).await?;
    let names: HashMap<String, String> = sites.items.into_iter().map(|v| (v.id, v.name)).collect();
    let page = s.app.list_devices(&p, q.cursor.as_deref(), 200).await?;
    let page = DevicesPage {
        layout,
        devices: page
            .items
            .into_iter()
            .map(|d| device_row(d, &names))
            .collect(),
        next_cursor: page.next_cursor,
        show_site: true,
        can_delete: false,
    };
    Ok((jar, render(&page)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
    https: Option<String>,
    accept_invalid_certs: Option<String>,
}

pub(crate) async fn add(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<AddForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    let site: SiteId = id
        .parse()
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("site")))?;
    let here = format!("/portal/sites/{site}#devices");
    let port = match f.port.trim() {
        "" => None,
        raw => match raw.parse::<u16>() {
            Ok(port) => Some(port),
            Err(_) => {
                return Ok(redirect_with(
                    jar,
                    &here,
                    false,
                    "port: must be a number from 1 to 65535",
                ));
            }
        },
    };
    let input = AddDevice::Ip {
        host: f.host,
        port,
        https: f.https.is_some(),
        accept_invalid_certs: f.accept_invalid_certs.is_some(),
        username: f.username,
        password: f.password,
        name: Some(f.name).filter(|n| !n.trim().is_empty()),
    };
    Ok(added(jar, &here, s.app.add_device(&p, site, input).await))
}

/// Back to the site's devices, saying what adding did.
fn added(jar: CookieJar, here: &str, outcome: siteward_app::Result<Added>) -> Response {
    match outcome {
        Ok(Added::Pending(d)) => redirect_with(
            jar,
            here,
            true,
            &format!(
                "Device {} added; it appears among the devices once it connects through its link.",
                d.serial
            ),
        ),
        Ok(Added::Device(d)) => redirect_with(
            jar,
            here,
            true,
            &format!(
                "{} {} ({}) added{}.",
                d.device_type.label(),
                d.model,
                d.serial,
                if d.connection == "link" {
                    " through its link"
                } else {
                    ""
                }
            ),
        ),
        Err(e) => redirect_with(jar, here, false, &error_text(e)),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    serial: String,
    #[serde(default)]
    verification_code: String,
    #[serde(default)]
    name: String,
}

/// adds a device by serial number and verification code (device link).
pub(crate) async fn add_by_serial(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    let site: SiteId = id
        .parse()
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("site")))?;
    let here = format!("/portal/sites/{site}#devices");
    let input = AddDevice::Link {
        serial: f.serial,
        verification_code: f.verification_code,
        name: Some(f.name).filter(|n| !n.trim().is_empty()),
    };
    Ok(added(jar, &here, s.app.add_device(&p, site, input).await))
}

/// A disk as the device page shows it.
pub(crate) struct DiskRow {
    label: String,
    status: String,
    bar: String,
    usage: String,
    smart: String,
}

fn disk_rows(h: &DeviceHealthView) -> Vec<DiskRow> {
    h.storage
        .iter()
        .map(|d| {
            let kind = match d.kind.as_str() {
                "sd" => "SD card",
                "nas" => "NAS",
                _ => "HDD",
            };
            let gib = |mb: u64| format!("{:.0} GiB", mb as f64 / 1024.0);
            let usage = match (d.capacity_mb, d.free_mb, d.usage_pct) {
                (Some(c), Some(f), Some(p)) => format!("{p} % of {} ({} free)", gib(c), gib(f)),
                _ => "—".into(),
            };
            let smart = d.smart.as_ref().map_or_else(String::new, |s| {
                let field = |k: &str| {
                    s.get(k)
                        .filter(|v| !v.is_null())
                        .map(|v| v.to_string().trim_matches('"').to_owned())
                };
                [
                    field("overall").map(|v| format!("overall {v}")),
                    field("self_evaluation").map(|v| format!("self-test {v}")),
                    field("temperature_c").map(|v| format!("{v} °C")),
                    field("power_on_days").map(|v| format!("{v} days on")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ")
            });
            DiskRow {
                label: format!("{kind} {}", d.id),
                status: d.status.clone(),
                bar: d.usage_pct.map(svg::usage_bar).unwrap_or_default(),
                usage,
                smart,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    layout: Layout,
    csrf: String,
    d: DeviceView,
    site_name: String,
    type_label: &'static str,
    brand: String,
    address: String,
    can_delete: bool,
    health: DeviceHealthView,
    level_label: &'static str,
    last_inspected: String,
    disks: Vec<DiskRow>,
    battery_svg: Option<String>,
}

#[derive(Template)]
#[template(path = "device_status.html")]
struct DeviceStatus {
    csrf: String,
    d: DeviceView,
    health: DeviceHealthView,
    disks: Vec<DiskRow>,
    battery_svg: Option<String>,
}

pub(crate) async fn show(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: DeviceId = id
        .parse()
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("device")))?;
    let d = s.app.get_device(&p, id).await?;
    let health = s.app.device_health(&p, id).await?;
    let disks = disk_rows(&health);
    let battery_svg = health.battery.map(svg::battery_gauge);
    if super::health::wants_partial(&headers, "device-status") {
        let csrf = p.csrf_token.clone();
        return Ok(render(&DeviceStatus {
            csrf,
            d,
            health,
            disks,
            battery_svg,
        }));
    }
    let (jar, flash) = take_flash(jar);
    let site: SiteId = d
        .site_id
        .parse()
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("site")))?;
    let site = s.app.get_site(&p, site).await?;
    let row = device_row(d.clone(), &HashMap::new());
    let page = DevicePage {
        layout: Layout::new(&s, &p, "Devices", flash).await?,
        site_name: site.name,
        type_label: d.device_type.label(),
        brand: row.brand,
        address: row.address,
        can_delete: manages_devices(&p) && site.state == siteward_core::SiteState::Managed,
        csrf: p.csrf_token.clone(),
        level_label: super::health::level_of(health.level).label(),
        last_inspected: health
            .last_inspected_at
            .clone()
            .unwrap_or_else(|| "not yet".into()),
        health,
        disks,
        battery_svg,
        d,
    };
    Ok((jar, render(&page)).into_response())
}

pub(crate) async fn delete(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    let id: DeviceId = id
        .parse()
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("device")))?;
    let device = s.app.get_device(&p, id).await?;
    let here = format!("/portal/sites/{}#devices", device.site_id);
    Ok(match s.app.delete_device(&p, id).await {
        Ok(()) => redirect_with(jar, &here, true, &format!("{} deleted.", device.name)),
        Err(e) => redirect_with(jar, &here, false, &error_text(e)),
    })
}
