//! Devices in sites: adding by IP address or domain over
//! ISAPI, listing, and deleting.
//!
//! Adding a device reads its identity over ISAPI before anything is stored, checks it
//! against the compatibility list, and stores its password sealed under the master
//! key. Every refusal says what went wrong: unreachable, wrong credentials (with the
//! attempts left before the device locks its account), locked, incompatible, or
//! already managed elsewhere.

use crate::audit::Record;
use crate::error::Fields;
use crate::probe::Target;
use crate::sites::{load_site, site_facts};
use crate::{App, AppError, Principal, Result, new_uuid};
use serde::{Deserialize, Serialize};
use siteward_core::compat::{self, DeviceType};
use siteward_core::policy::{Action, authorize, site_scope};
use siteward_core::validate;
use siteward_core::{DeviceId, SiteId};
use siteward_store::PendingLink;
use siteward_store::{Connection, Device, Handle, Page, Site};
use utoipa::ToSchema;

/// A device as the API shows it. The password is never shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceView {
    /// Device id.
    pub id: String,
    /// The site it belongs to.
    pub site_id: String,
    /// Serial number.
    pub serial: String,
    /// Name.
    pub name: String,
    /// Model.
    pub model: String,
    /// `hikvision`, `hilook` or `ezviz`.
    pub brand: String,
    /// `ipc`, `nvr`, `dvr`, `control_panel`, `access_control`, `video_intercom` or `doorbell`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub device_type: DeviceType,
    /// Firmware version.
    pub firmware: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// `ip` or `link`.
    pub connection: &'static str,
    /// Address (IP devices).
    pub host: Option<String>,
    /// Port (IP devices).
    pub port: Option<u16>,
    /// Whether Siteward speaks HTTPS to it.
    pub https: bool,
    /// The device account's user name.
    pub username: Option<String>,
    /// Whether it answered last time.
    pub online: bool,
    /// The overall health level (`unknown` until its first inspection).
    pub health: &'static str,
    /// When it last answered, RFC 3339.
    pub last_seen_at: Option<String>,
    /// When it was added, RFC 3339.
    pub created_at: String,
}

impl From<&Device> for DeviceView {
    fn from(d: &Device) -> Self {
        Self {
            id: d.id.to_string(),
            site_id: d.site_id.to_string(),
            serial: d.serial.clone(),
            name: d.name.clone(),
            model: d.model.clone(),
            brand: d.brand.clone(),
            device_type: d.device_type,
            firmware: d.firmware.clone(),
            mac: d.mac.clone(),
            connection: d.connection.as_str(),
            host: d.host.clone(),
            port: d.port,
            https: d.https,
            username: d.username.clone(),
            online: d.online,
            health: "unknown",
            last_seen_at: d.last_seen_at.map(crate::rfc3339),
            created_at: crate::rfc3339(d.created_at),
        }
    }
}

/// What adding a device did: added it, or (by serial number, not connected yet)
/// made it wait for its link.
#[derive(Debug, Clone)]
pub enum Added {
    /// Added.
    Device(DeviceView),
    /// Waiting for the device to connect.
    Pending(PendingDeviceView),
}

impl Added {
    /// The device, if it was added now.
    pub fn device(self) -> Option<DeviceView> {
        match self {
            Added::Device(d) => Some(d),
            Added::Pending(_) => None,
        }
    }
}

/// A device added by serial number and verification code that has not connected
/// yet, or was refused when it did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingDeviceView {
    /// Serial number.
    pub serial: String,
    /// The site it goes to.
    pub site_id: String,
    /// The name asked for.
    pub name: Option<String>,
    /// Always `link`.
    pub connection: &'static str,
    /// `pending` (waiting for the device to connect) or `refused` (it connected and
    /// was refused: see `reason`).
    pub state: &'static str,
    /// Why it was refused.
    pub reason: Option<String>,
    /// When it was added, RFC 3339.
    pub created_at: String,
}

impl PendingDeviceView {
    pub(crate) fn of(p: &PendingLink) -> Self {
        Self {
            serial: p.serial.clone(),
            site_id: p.site_id.to_string(),
            name: p.name.clone(),
            connection: "link",
            state: if p.state == "refused" {
                "refused"
            } else {
                "pending"
            },
            reason: p.reason.clone(),
            created_at: crate::rfc3339(p.created_at),
        }
    }
}

/// The refusal for a serial number Siteward manages already.
pub(crate) fn duplicate(existing: &Device, company: siteward_core::CompanyId) -> AppError {
    if existing.company_id == company {
        AppError::Conflict {
            code: "device.duplicate",
            message: format!("device {} is already in one of your sites", existing.serial),
        }
    } else {
        AppError::Conflict {
            code: "device.managed_elsewhere",
            message: format!(
                "device {} is already managed in Siteward by another installation company",
                existing.serial
            ),
        }
    }
}

/// A new device's health row: unknown, due for its first inspection at once.
pub(crate) async fn first_health(h: &mut Handle, device: &Device, now: i64) -> Result<()> {
    h.upsert_health(&siteward_store::HealthRecord {
        device_id: device.id,
        company_id: device.company_id,
        site_id: device.site_id,
        level: siteward_core::health::Level::Unknown,
        reasons: Vec::new(),
        observation: serde_json::json!({}),
        last_inspected_at: None,
        next_due_at: now,
        offline_streak: 0,
        updated_at: now,
    })
    .await?;
    Ok(())
}

/// `POST /api/v1/sites/{id}/devices`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "via", rename_all = "snake_case", deny_unknown_fields)]
pub enum AddDevice {
    /// By IP address or domain name, over ISAPI.
    Ip {
        /// IP address or domain name.
        host: String,
        /// Port (default 80, or 443 with HTTPS).
        #[serde(default)]
        port: Option<u16>,
        /// Speak HTTPS.
        #[serde(default)]
        https: bool,
        /// Accept the device's self-signed certificate (HTTPS only).
        #[serde(default)]
        accept_invalid_certs: bool,
        /// The device account's user name.
        username: String,
        /// Its password (stored encrypted, never shown again).
        password: String,
        /// A name (default: the device's own).
        #[serde(default)]
        name: Option<String>,
    },
    /// By serial number and verification code, through the device link.
    Link {
        /// Serial number.
        serial: String,
        /// Verification code (on the device's label).
        verification_code: String,
        /// A name.
        #[serde(default)]
        name: Option<String>,
    },
}

/// A host as people type it: an IP address or a domain name, without scheme or path.
fn host(field: &str, raw: &str) -> Result<String, siteward_core::validate::FieldError> {
    let h = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = || {
        siteward_core::validate::FieldError::new(
            field,
            "must be an IP address or a domain name, such as 192.0.2.10 or cam.example.com",
        )
    };
    if h.is_empty() || h.len() > 253 {
        return Err(bad());
    }
    if h.parse::<std::net::IpAddr>().is_ok() {
        return Ok(h);
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if h.split('.').all(label_ok) {
        Ok(h)
    } else {
        Err(bad())
    }
}

impl App {
    /// Adds a device to a site by IP address or domain name, after reading its
    /// identity over ISAPI and checking compatibility.
    pub async fn add_device(
        &self,
        p: &Principal,
        site_id: SiteId,
        input: AddDevice,
    ) -> Result<Added> {
        {
            let mut h = self.inner.store.read().await?;
            let site = load_site(&mut h, site_id).await?;
            let facts = site_facts(&mut h, &site, self.now()).await?;
            authorize(&p.actor, Action::AddDevice(&facts)).map_err(AppError::refused("site"))?;
        }
        let (raw_host, port, https, accept_invalid_certs, username, password, name) = match input {
            AddDevice::Ip {
                host,
                port,
                https,
                accept_invalid_certs,
                username,
                password,
                name,
            } => (
                host,
                port,
                https,
                accept_invalid_certs,
                username,
                password,
                name,
            ),
            AddDevice::Link {
                serial,
                verification_code,
                name,
            } => {
                return self
                    .add_link_device(p, site_id, &serial, &verification_code, name)
                    .await;
            }
        };
        let mut f = Fields::default();
        let host = f.take(host("host", &raw_host));
        let username = f.take(validate::required_text("username", &username, 64));
        if password.is_empty() || password.len() > 128 {
            f.push(validate::FieldError::new(
                "password",
                "is required (at most 128 characters)",
            ));
        }
        let name = f.take(validate::optional_text(
            "name",
            name.as_deref().unwrap_or(""),
            120,
        ));
        if port == Some(0) {
            f.push(validate::FieldError::new("port", "must be 1 to 65535"));
        }
        f.finish()?;
        let target = Target {
            host: host.clone(),
            port: port.unwrap_or(if https { 443 } else { 80 }),
            https,
            accept_invalid_certs: https && accept_invalid_certs,
            username: username.clone(),
            password: password.clone(),
        };
        let identity = self.inner.prober.identify(&target).await?;
        let family =
            compat::classify(&identity.model, identity.manufacturer.as_deref()).map_err(|e| {
                AppError::Unprocessable {
                    code: "device.incompatible",
                    message: e.to_string(),
                }
            })?;
        let serial = identity.serial.trim().to_owned();
        if serial.is_empty() {
            return Err(AppError::Unprocessable {
                code: "device.no_serial",
                message: "the device did not report a serial number".into(),
            });
        }
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        // Asked again in the transaction: the probe took a while, and an
        // authorization may have lapsed or the site moved meanwhile.
        h.lock_site(site_id).await?;
        let site = load_site(&mut h, site_id).await?;
        authorize(
            &p.actor,
            Action::AddDevice(&site_facts(&mut h, &site, now).await?),
        )
        .map_err(AppError::refused("site"))?;
        let id = DeviceId(new_uuid());
        let device = Device {
            id,
            company_id: site.company_id,
            site_id: site.id,
            name: name.unwrap_or_else(|| {
                identity
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| identity.model.clone())
            }),
            brand: family.brand.clone(),
            model: identity.model.clone(),
            device_type: family.device_type,
            firmware: identity.firmware.clone(),
            mac: identity.mac.clone(),
            connection: Connection::Ip,
            host: Some(host),
            port: Some(target.port),
            https,
            accept_invalid_certs: target.accept_invalid_certs,
            username: Some(username),
            secret: self
                .inner
                .key
                .seal(password.as_bytes(), id.to_string().as_bytes()),
            online: true,
            last_seen_at: Some(now),
            created_at: now,
            updated_at: now,
            serial,
            link_serial: None,
        };
        if let Some(existing) = h.device_by_serial(&device.serial).await? {
            return Err(duplicate(&existing, site.company_id));
        }
        if h.pending_link(&device.serial).await?.is_some() {
            return Err(AppError::Conflict {
                code: "device.pending",
                message: format!(
                    "device {} was added by serial number and is waiting to connect through its link",
                    device.serial
                ),
            });
        }
        h.insert_device(&device).await.map_err(|e| match e {
            siteward_store::StoreError::Duplicate(_) => AppError::Conflict {
                code: "device.duplicate",
                message: format!("device {} is already managed in Siteward", device.serial),
            },
            other => other.into(),
        })?;
        // Due for its first inspection at once.
        first_health(&mut h, &device, now).await?;
        Record {
            company_id: Some(site.company_id),
            site_id: Some(site.id),
            action: "device.add",
            summary: format!("{} added {} {} ({})", p.user.name, device.device_type.label(), device.model, device.serial),
            detail: serde_json::json!({ "device_id": device.id, "serial": device.serial, "model": device.model, "host": device.host }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        self.inner.wake.notify_one();
        self.inner.devices_changed.notify_one();
        Ok(Added::Device(DeviceView::from(&device)))
    }

    /// A page of a site's devices.
    pub async fn list_site_devices(
        &self,
        p: &Principal,
        site_id: SiteId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<DeviceView>> {
        let mut h = self.inner.store.read().await?;
        let site = load_site(&mut h, site_id).await?;
        let facts = site_facts(&mut h, &site, self.now()).await?;
        authorize(&p.actor, Action::ViewSite(&facts)).map_err(AppError::refused("site"))?;
        let page = h.list_site_devices(site.id, cursor, limit).await?;
        Ok(Page {
            items: page.items.iter().map(DeviceView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// A page of every device the person may see.
    pub async fn list_devices(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<DeviceView>> {
        let page = self
            .inner
            .store
            .read()
            .await?
            .list_devices(site_scope(&p.actor), cursor, limit, self.now())
            .await?;
        Ok(Page {
            items: page.items.iter().map(DeviceView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn visible_device(
        &self,
        h: &mut Handle,
        p: &Principal,
        id: DeviceId,
    ) -> Result<(Device, Site)> {
        let device = h.device(id).await?.ok_or(AppError::NotFound("device"))?;
        let site = load_site(h, device.site_id).await?;
        let facts = site_facts(h, &site, self.now()).await?;
        authorize(&p.actor, Action::ViewSite(&facts)).map_err(AppError::refused("device"))?;
        Ok((device, site))
    }

    /// One device.
    pub async fn get_device(&self, p: &Principal, id: DeviceId) -> Result<DeviceView> {
        let (device, _) = self
            .visible_device(&mut self.inner.store.read().await?, p, id)
            .await?;
        Ok(DeviceView::from(&device))
    }

    /// Deletes a device (R-16: before the owner is invited, the Installer Admin and
    /// the site's Site Manager may; from the invitation on, only the owner, once
    /// the site is handed over, from the end-user app).
    pub async fn delete_device(&self, p: &Principal, id: DeviceId) -> Result<()> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let device = h.device(id).await?.ok_or(AppError::NotFound("device"))?;
        h.lock_site(device.site_id).await?;
        let site = load_site(&mut h, device.site_id).await?;
        // DeleteDevice says, on its own, who may see the site and who may delete.
        authorize(
            &p.actor,
            Action::DeleteDevice(&site_facts(&mut h, &site, now).await?),
        )
        .map_err(AppError::refused("device"))?;
        h.delete_device(device.id).await?;
        self.inner.clients.forget(device.id);
        self.inner.devices_changed.notify_one();
        Record {
            company_id: Some(site.company_id),
            site_id: Some(site.id),
            action: "device.delete",
            summary: format!(
                "{} deleted {} {} ({})",
                p.user.name,
                device.device_type.label(),
                device.model,
                device.serial
            ),
            detail: serde_json::json!({ "device_id": device.id, "serial": device.serial }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        Ok(())
    }
}
