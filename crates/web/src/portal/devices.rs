//! The devices pages: all devices, and adding or deleting a site's devices.

use super::session::CsrfForm;
use super::{
    Layout, PageError, PortalUser, check_csrf, error_text, redirect_with, render, take_flash,
};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use siteward_app::{AddDevice, DeviceView, Principal};
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
    Ok(match s.app.add_device(&p, site, input).await {
        Ok(d) => redirect_with(
            jar,
            &here,
            true,
            &format!(
                "{} {} ({}) added.",
                d.device_type.label(),
                d.model,
                d.serial
            ),
        ),
        Err(e) => redirect_with(jar, &here, false, &error_text(e)),
    })
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    layout: Layout,
    d: DeviceView,
    site_name: String,
    type_label: &'static str,
    brand: String,
    address: String,
    last_seen: String,
    can_delete: bool,
}

pub(crate) async fn show(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: DeviceId = id
        .parse()
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("device")))?;
    let (jar, flash) = take_flash(jar);
    let d = s.app.get_device(&p, id).await?;
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
        last_seen: d.last_seen_at.clone().unwrap_or_else(|| "never".into()),
        can_delete: manages_devices(&p) && site.state == siteward_core::SiteState::Managed,
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
