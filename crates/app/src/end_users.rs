//! End users: signing up, the app version they sign in with,
//! the sites they own with their devices' online state, their installer's contact
//! and logo, and the audit trail of their sites.
//!
//! An end user's lists follow [`owned_sites`]: the sites whose owner he or she is,
//! whichever company manages them, or none. Single reads ask the one policy with the
//! owner in the site's facts, so the owner and nobody else passes.

use crate::accounts::{UserView, insert_account};
use crate::audit::AuditView;
use crate::error::Fields;
use crate::{App, AppError, Principal, Result, new_uuid, password};
use serde::{Deserialize, Serialize};
use siteward_core::handover::{Access, AppVersion, ClientStatus, shown_installer};
use siteward_core::policy::{Action, Actor, SiteFacts, authorize, owned_sites};
use siteward_core::validate::{self, FieldError};
use siteward_core::{CompanyId, Region, SiteId, UserId, UserKind};
use siteward_store::{AuditEntry, Company, Handle, OwnedDevice, OwnedSite, Page, User};
use std::collections::HashMap;
use std::net::IpAddr;
use utoipa::ToSchema;

/// Regions offered at sign-up even before any company works there; the regions of
/// issued authentication codes and registered companies are added to them.
pub const DEFAULT_REGIONS: [&str; 5] = ["APAC", "EU", "LATAM", "MEA", "NA"];

/// `POST /api/v1/end-users`. Every field is checked and every fault reported at
/// once, so fields are optional here and required by the rules.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndUserSignUp {
    /// E-mail (the sign-in name; unique across all accounts).
    #[serde(default)]
    pub email: String,
    /// Password (10+ characters, letters with digits or symbols).
    #[serde(default)]
    pub password: String,
    /// Full name.
    #[serde(default)]
    pub name: String,
    /// The region the end user lives in, such as `EU` (R-8: invitations need the
    /// site's region).
    #[serde(default)]
    pub region: String,
    /// The app's version, such as `4.3`.
    #[serde(default)]
    pub app_version: String,
}

/// What a client is told about its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClientView {
    /// `supported`, or `update_required`: the app is too old to receive invitations
    /// (or did not say its version); they wait until it is updated.
    pub status: &'static str,
    /// The oldest version that handles invitations.
    pub minimum: String,
    /// The version the client said, if it did.
    pub version: Option<String>,
}

/// A new end-user account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndUserView {
    /// The account.
    #[serde(flatten)]
    pub user: UserView,
    /// Whether the app that signed up handles invitations.
    pub client: ClientView,
}

/// An installation company as its end users see it: who to call, and the logo where
/// R-3 allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InstallerView {
    /// Company id.
    pub company_id: String,
    /// Name.
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// The logo (`GET`, changes when the logo does), only when all of the end
    /// user's sites are with this one company and it has a logo.
    pub logo_url: Option<String>,
}

/// A device of one's own site.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyDeviceView {
    /// Device id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Model.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// `ipc`, `nvr`, `dvr`, `control_panel`, `access_control`, `video_intercom`
    /// or `doorbell`.
    #[serde(rename = "type")]
    pub device_type: String,
    /// Whether it answered at its last inspection.
    pub online: bool,
    /// `online`, `offline`, or `unknown` (not inspected yet, or nothing readable).
    pub connectivity: &'static str,
    /// When last inspected, RFC 3339.
    pub last_inspected_at: Option<String>,
}

impl From<&OwnedDevice> for MyDeviceView {
    fn from(d: &OwnedDevice) -> Self {
        Self {
            id: d.id.to_string(),
            name: d.name.clone(),
            model: d.model.clone(),
            serial: d.serial.clone(),
            device_type: d.device_type.as_str().to_owned(),
            online: d.online(),
            connectivity: connectivity(d),
            last_inspected_at: d.last_inspected_at.map(crate::rfc3339),
        }
    }
}

fn connectivity(d: &OwnedDevice) -> &'static str {
    match d.level {
        _ if d.online() => "online",
        Some(siteward_core::health::Level::Offline) => "offline",
        _ => "unknown",
    }
}

/// One of the end user's sites.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MySiteView {
    /// Site id.
    pub id: String,
    /// The short shareable Site ID.
    pub site_code: String,
    /// Name.
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// IANA time zone.
    pub time_zone: String,
    /// Region.
    pub region: String,
    /// `managed`, `owner_invited` or `handed_over`.
    pub state: String,
    /// The installation company managing it; none once it removed the site from
    /// its list.
    pub installer: Option<InstallerView>,
    /// Its devices, in the order they were added.
    pub devices: Vec<MyDeviceView>,
    /// How many of them are online.
    pub online_count: usize,
}

/// `GET /api/v1/me/sites`: every site of the end user's (no further pages).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MySites {
    /// The sites, in creation order.
    pub items: Vec<MySiteView>,
    /// Always null: an owner's sites come in one page.
    pub next_cursor: Option<String>,
    /// The installer whose logo and contact the app's start and About pages show:
    /// present only when all sites are with this one company.
    pub installer: Option<InstallerView>,
}

fn client_view(version: Option<AppVersion>, minimum: AppVersion) -> ClientView {
    let status = match version.map(|v| v.client_status(&minimum)) {
        Some(ClientStatus::Supported) => "supported",
        Some(ClientStatus::UpdateRequired { .. }) | None => "update_required",
    };
    ClientView {
        status,
        minimum: minimum.to_string(),
        version: version.map(|v| v.to_string()),
    }
}

/// The site as the policy sees it, with its owner and its managing company,
/// if any. The installer's access is not needed for an owner's reads.
fn facts(s: &OwnedSite) -> SiteFacts {
    SiteFacts {
        company_id: s.managing_company(),
        manager_id: s.manager_id,
        state: s.state,
        owner_id: Some(s.owner_id),
        access: Access::none(),
    }
}

fn installer_view(c: &Company, shown: Option<CompanyId>) -> InstallerView {
    InstallerView {
        company_id: c.id.to_string(),
        name: c.name.clone(),
        address: c.address.clone(),
        phone: c.phone.clone(),
        email: c.email.clone(),
        website: c.website.clone(),
        logo_url: match &c.logo {
            Some((_, at)) if shown == Some(c.id) => {
                Some(format!("/api/v1/companies/{}/logo?v={at}", c.id))
            }
            _ => None,
        },
    }
}

/// The companies managing `sites`, each loaded once.
async fn companies_of(h: &mut Handle, sites: &[OwnedSite]) -> Result<HashMap<CompanyId, Company>> {
    let mut out = HashMap::new();
    for id in sites.iter().filter_map(OwnedSite::managing_company) {
        if out.contains_key(&id) {
            continue;
        }
        if let Some(c) = h.company(id).await? {
            out.insert(id, c);
        }
    }
    Ok(out)
}

fn site_view(
    s: &OwnedSite,
    devices: &[OwnedDevice],
    companies: &HashMap<CompanyId, Company>,
    shown: Option<CompanyId>,
) -> MySiteView {
    let devices: Vec<MyDeviceView> = devices
        .iter()
        .filter(|d| d.site_id == s.id)
        .map(MyDeviceView::from)
        .collect();
    MySiteView {
        id: s.id.to_string(),
        site_code: s.site_code.clone(),
        name: s.name.clone(),
        address: s.address.clone(),
        time_zone: s.time_zone.clone(),
        region: s.region.to_string(),
        state: s.state.as_str().to_owned(),
        installer: s
            .managing_company()
            .and_then(|c| companies.get(&c))
            .map(|c| installer_view(c, shown)),
        online_count: devices.iter().filter(|d| d.online).count(),
        devices,
    }
}

impl App {
    /// The oldest end-user app that handles invitations.
    pub fn minimum_app_version(&self) -> AppVersion {
        self.inner.config.handover.minimum_app_version
    }

    /// What a client of `version` is told: without a version, or below the
    /// minimum, it must update to receive invitations.
    pub fn client_status(&self, version: Option<AppVersion>) -> ClientView {
        client_view(version, self.minimum_app_version())
    }

    /// Creates an end-user account: all of it, or nothing. Sign-ups are
    /// throttled per address, as they tell whether an e-mail has an account.
    pub async fn sign_up_end_user(
        &self,
        input: EndUserSignUp,
        address: Option<IpAddr>,
    ) -> Result<EndUserView> {
        let mut f = Fields::default();
        let name = f.take(validate::required_text("name", &input.name, 120));
        let email = f.take(validate::email("email", &input.email));
        if let Err(e) = validate::password("password", &input.password, &email) {
            f.push(e);
        }
        let region = match input.region.trim() {
            "" => {
                f.push(FieldError::new("region", "required"));
                None
            }
            r => r
                .parse::<Region>()
                .map_err(|e| f.push(FieldError::new("region", format!("{e}"))))
                .ok(),
        };
        let app_version = match input.app_version.trim() {
            "" => {
                f.push(FieldError::new(
                    "app_version",
                    "required: the app's version, such as 4.3",
                ));
                None
            }
            v => v
                .parse::<AppVersion>()
                .map_err(|e| f.push(e.field_error()))
                .ok(),
        };
        f.finish()?;
        self.inner
            .throttle
            .check_signup(address)
            .map_err(|retry_after_secs| AppError::Throttled { retry_after_secs })?;
        let hash = password::hash(input.password).await?;
        let now = self.now();
        let user = User {
            id: UserId(new_uuid()),
            kind: UserKind::EndUser,
            company_id: None,
            role: None,
            name,
            email,
            password_hash: hash,
            active: true,
            region,
            app_version,
            created_at: now,
            updated_at: now,
        };
        let mut h = self.inner.store.begin().await?;
        insert_account(&mut h, &user).await?;
        // The account's own record: no company or site, the new person as actor.
        h.insert_audit(&AuditEntry {
            id: new_uuid().to_string(),
            at: now,
            company_id: None,
            site_id: None,
            actor_id: Some(user.id),
            actor_name: user.name.clone(),
            action: "end_user.sign_up".into(),
            summary: format!("{} signed up as an end user", user.name),
            detail: serde_json::json!({
                "email": user.email,
                "region": user.region,
                "app_version": user.app_version,
            }),
        })
        .await?;
        h.commit().await?;
        Ok(EndUserView {
            user: UserView::from(&user),
            client: self.client_status(app_version),
        })
    }

    /// The regions offered at sign-up: the usual ones and every region Siteward
    /// serves, sorted.
    pub async fn sign_up_regions(&self) -> Result<Vec<String>> {
        let served = self.inner.store.read().await?.served_regions().await?;
        let mut all: Vec<String> = DEFAULT_REGIONS
            .iter()
            .map(|r| (*r).to_owned())
            .chain(served.into_iter().map(String::from))
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Every site the end user owns, with devices, online state and installer;
    /// the logo only where R-3 allows. Other people own no sites: an empty list.
    pub async fn my_sites(&self, p: &Principal) -> Result<MySites> {
        let Some(owner) = owned_sites(&p.actor) else {
            return Ok(MySites {
                items: vec![],
                next_cursor: None,
                installer: None,
            });
        };
        let mut h = self.inner.store.read().await?;
        let sites = h.owned_sites(owner).await?;
        let devices = h.owned_devices(owner, None).await?;
        let companies = companies_of(&mut h, &sites).await?;
        let shown = shown_installer(sites.iter().map(OwnedSite::managing_company));
        Ok(MySites {
            items: sites
                .iter()
                .map(|s| site_view(s, &devices, &companies, shown))
                .collect(),
            next_cursor: None,
            installer: shown
                .and_then(|c| companies.get(&c))
                .map(|c| installer_view(c, shown)),
        })
    }

    /// Loads one of the end user's own sites, checked by the policy: to see it,
    /// or (`audit`) its audit trail.
    async fn load_my_site(
        &self,
        h: &mut Handle,
        p: &Principal,
        id: SiteId,
        audit: bool,
    ) -> Result<OwnedSite> {
        let owner = owned_sites(&p.actor).ok_or(AppError::NotFound("site"))?;
        let site = h
            .owned_site(owner, id)
            .await?
            .ok_or(AppError::NotFound("site"))?;
        let f = facts(&site);
        let action = if audit {
            Action::ViewSiteAudit(&f)
        } else {
            Action::ViewSite(&f)
        };
        authorize(&p.actor, action).map_err(AppError::refused("site"))?;
        Ok(site)
    }

    /// One of the end user's sites, with devices and installer (R-3 for the logo,
    /// which looks at all of the user's sites).
    pub async fn my_site(&self, p: &Principal, id: SiteId) -> Result<MySiteView> {
        let mut h = self.inner.store.read().await?;
        let site = self.load_my_site(&mut h, p, id, false).await?;
        let all = h.owned_sites(site.owner_id).await?;
        let shown = shown_installer(all.iter().map(OwnedSite::managing_company));
        let devices = h.owned_devices(site.owner_id, Some(site.id)).await?;
        let companies = companies_of(&mut h, std::slice::from_ref(&site)).await?;
        Ok(site_view(&site, &devices, &companies, shown))
    }

    /// A page of the audit trail of one of the end user's sites, newest first:
    /// what the installer (and anyone else) did there.
    pub async fn my_site_audit(
        &self,
        p: &Principal,
        id: SiteId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditView>> {
        let mut h = self.inner.store.read().await?;
        let site = self.load_my_site(&mut h, p, id, true).await?;
        let page = h.site_audit(site.id, cursor, limit).await?;
        Ok(Page {
            items: page.items.into_iter().map(AuditView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// A company's logo: for its own employees, and for an end user whose sites
    /// are all with this company; to anyone else it does not exist.
    pub async fn company_logo(
        &self,
        p: &Principal,
        company: CompanyId,
    ) -> Result<(Vec<u8>, String)> {
        let mut h = self.inner.store.read().await?;
        match p.actor {
            Actor::EndUser(owner) => {
                let sites = h.owned_sites(owner).await?;
                let shown = shown_installer(sites.iter().map(OwnedSite::managing_company));
                if shown != Some(company) {
                    return Err(AppError::NotFound("logo"));
                }
            }
            _ => authorize(&p.actor, Action::ViewCompany(company))
                .map_err(AppError::refused("logo"))?,
        }
        h.company_logo(company)
            .await?
            .ok_or(AppError::NotFound("logo"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// the client is told to update below the minimum, and when it does not
    /// say its version at all (its invitations would wait).
    #[test]
    fn client_status_table() {
        let min = AppVersion::DEFAULT_MINIMUM;
        let v = |s: &str| s.parse::<AppVersion>().ok();
        let cases = [
            (v("4.2.9"), "update_required"),
            (v("4.3"), "supported"),
            (v("5.0"), "supported"),
            (None, "update_required"),
        ];
        for (version, status) in cases {
            let c = client_view(version, min);
            assert_eq!(c.status, status, "{version:?}");
            assert_eq!(c.minimum, "4.3");
            assert_eq!(c.version, version.map(|v| v.to_string()));
        }
    }
}
