//! The records the store reads and writes.

use siteward_core::handover::AppVersion;
use siteward_core::{
    CompanyId, DeviceId, DeviceType, Millis, Region, Role, SiteId, SiteState, UserId, UserKind,
};

/// An authentication code as issued by a distributor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    /// The code, grouped as printed (`XXXX-XXXX-XXXX-XXXX`).
    pub code: String,
    /// The region it is bound to.
    pub region: Region,
    /// A free remark of the issuer's.
    pub note: Option<String>,
    /// When it was issued.
    pub created_at: Millis,
    /// When it stops being valid.
    pub expires_at: Millis,
    /// When a company registered with it.
    pub used_at: Option<Millis>,
    /// The company that registered with it.
    pub company_id: Option<CompanyId>,
}

/// An installation company (the tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    /// Its id.
    pub id: CompanyId,
    /// Its name.
    pub name: String,
    /// The region it lives in (fixed by its authentication code).
    pub region: Region,
    /// Postal address.
    pub address: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// The logo's media type and the time it was set, when there is one.
    pub logo: Option<(String, Millis)>,
    /// When it registered.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// The company fields people edit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyInfo {
    /// Name.
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
}

/// A person with an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Installer, end user or operator.
    pub kind: UserKind,
    /// The employing company (installers only).
    pub company_id: Option<CompanyId>,
    /// The role in that company (installers only).
    pub role: Option<Role>,
    /// Full name.
    pub name: String,
    /// E-mail, lower case; unique across all accounts.
    pub email: String,
    /// The Argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot sign in.
    pub active: bool,
    /// The region an end user chose at sign-up (R-8: invitations need the site's);
    /// installers take their company's, so none here.
    pub region: Option<Region>,
    /// The app version the person last signed in with, if the client said.
    pub app_version: Option<AppVersion>,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// A signed-in session (web cookie or API bearer token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the token; the token itself is never stored.
    pub token_hash: String,
    /// Whose session.
    pub user_id: UserId,
    /// The secret every form of this session must carry.
    pub csrf_token: String,
    /// The client app's version, as it said at sign-in.
    pub app_version: Option<AppVersion>,
    /// When it began.
    pub created_at: Millis,
    /// When it ends.
    pub expires_at: Millis,
}

/// A site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Its id.
    pub id: SiteId,
    /// The managing company.
    pub company_id: CompanyId,
    /// The short shareable Site ID.
    pub site_code: String,
    /// Name.
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// IANA time zone.
    pub time_zone: String,
    /// Region (the company's).
    pub region: Region,
    /// The Site Manager (R-6: at most one).
    pub manager_id: Option<UserId>,
    /// Hand-over state as last written (an owner invitation that ran out unanswered
    /// leaves `owner_invited` here until someone writes it down; read the effective
    /// state through the latest invitation).
    pub state: SiteState,
    /// The Site Owner (an end user), once the site is handed over.
    pub owner_id: Option<UserId>,
    /// When the managing company removed the handed-over site from its list:
    /// from then on no company manages it until a claim is confirmed, though
    /// `company_id` still names the last one.
    pub released_at: Option<Millis>,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

impl Site {
    /// The company that manages the site now: none once it was removed from the
    /// company's list.
    pub fn managing_company(&self) -> Option<CompanyId> {
        self.released_at.is_none().then_some(self.company_id)
    }
}

/// One line of the audit log: who did what, when, on which site.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Its id (time-ordered).
    pub id: String,
    /// When.
    pub at: Millis,
    /// The company concerned.
    pub company_id: Option<CompanyId>,
    /// The site concerned.
    pub site_id: Option<SiteId>,
    /// Who (none for the system itself).
    pub actor_id: Option<UserId>,
    /// The actor's name at the time.
    pub actor_name: String,
    /// A stable action name such as `site.create`.
    pub action: String,
    /// What happened, for people.
    pub summary: String,
    /// The details, as JSON.
    pub detail: serde_json::Value,
}

/// How Siteward reaches a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Directly, by IP address or domain name.
    Ip,
    /// Through the device link (the device connects out).
    Link,
}

impl Connection {
    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Ip => "ip",
            Connection::Link => "link",
        }
    }
}

impl std::str::FromStr for Connection {
    type Err = siteward_core::role::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ip" => Ok(Connection::Ip),
            "link" => Ok(Connection::Link),
            other => Err(siteward_core::role::UnknownValue(other.to_owned())),
        }
    }
}

/// A device in a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its id.
    pub id: DeviceId,
    /// The managing company.
    pub company_id: CompanyId,
    /// The site it belongs to (R-6: exactly one).
    pub site_id: SiteId,
    /// The serial number, unique across Siteward.
    pub serial: String,
    /// A name for people (the device's own name at first).
    pub name: String,
    /// `hikvision`, `hilook` or `ezviz`.
    pub brand: String,
    /// The model.
    pub model: String,
    /// What kind of device.
    pub device_type: DeviceType,
    /// Firmware version.
    pub firmware: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// How it is reached.
    pub connection: Connection,
    /// Address (IP devices).
    pub host: Option<String>,
    /// Port (IP devices).
    pub port: Option<u16>,
    /// Whether to speak HTTPS.
    pub https: bool,
    /// Whether a self-signed certificate is accepted.
    pub accept_invalid_certs: bool,
    /// The device account's user name (IP devices).
    pub username: Option<String>,
    /// The sealed password or verification code.
    pub secret: String,
    /// Whether it answered last time.
    pub online: bool,
    /// When it last answered.
    pub last_seen_at: Option<Millis>,
    /// When it was added.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// The serial number it proves itself with on the device link (linked devices).
    pub link_serial: Option<String>,
}

/// The latest health of a device, and when it is next due for inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRecord {
    /// The device.
    pub device_id: DeviceId,
    /// Its company (kept here so health lists need no join for tenancy).
    pub company_id: CompanyId,
    /// Its site.
    pub site_id: SiteId,
    /// The overall level.
    pub level: siteward_core::health::Level,
    /// Why, worst first.
    pub reasons: Vec<siteward_core::health::Reason>,
    /// Everything the last inspection observed.
    pub observation: serde_json::Value,
    /// When it was last inspected.
    pub last_inspected_at: Option<Millis>,
    /// When it is next due.
    pub next_due_at: Millis,
    /// Inspections in a row that found it offline (for back-off).
    pub offline_streak: i32,
    /// When this record last changed.
    pub updated_at: Millis,
}

/// One change of a device's level or reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthChange {
    /// Its id (time-ordered).
    pub id: String,
    /// The device.
    pub device_id: DeviceId,
    /// When.
    pub at: Millis,
    /// The new level.
    pub level: siteward_core::health::Level,
    /// The new reasons.
    pub reasons: Vec<siteward_core::health::Reason>,
}

/// A device on the Health page: identity, site and status.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRow {
    /// The device.
    pub device_id: DeviceId,
    /// Its site.
    pub site_id: SiteId,
    /// The site's name.
    pub site_name: String,
    /// The device's name.
    pub name: String,
    /// Serial number.
    pub serial: String,
    /// Model.
    pub model: String,
    /// Type.
    pub device_type: DeviceType,
    /// Level.
    pub level: siteward_core::health::Level,
    /// Reasons.
    pub reasons: Vec<siteward_core::health::Reason>,
    /// When last inspected.
    pub last_inspected_at: Option<Millis>,
}

/// Filters of the Health page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthFilter {
    /// Only this site.
    pub site_id: Option<SiteId>,
    /// Only this type.
    pub device_type: Option<DeviceType>,
    /// Only this level.
    pub level: Option<siteward_core::health::Level>,
    /// Name or serial contains this (case-insensitive).
    pub search: Option<String>,
}

/// Counts of devices by level in one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteHealthCount {
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// The level.
    pub level: siteward_core::health::Level,
    /// How many devices.
    pub count: i64,
}

/// A manual inspection and its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Its id.
    pub id: String,
    /// The company.
    pub company_id: CompanyId,
    /// Who asked.
    pub requested_by: Option<UserId>,
    /// `device`, `site` or `all`.
    pub scope: String,
    /// The device or site id.
    pub scope_id: Option<String>,
    /// `running` or `done`.
    pub state: String,
    /// Devices to inspect.
    pub total: i64,
    /// Devices inspected.
    pub done: i64,
    /// Devices that could not be inspected (offline, refused).
    pub failures: i64,
    /// When asked.
    pub created_at: Millis,
    /// When finished.
    pub finished_at: Option<Millis>,
}
