//! The records the store reads and writes.

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
    /// Hand-over state.
    pub state: SiteState,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
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
}
