//! Sites and their Site Manager, and each site's audit log.

use crate::accounts::load_employee;
use crate::audit::{AuditView, Record};
use crate::error::Fields;
use crate::{App, AppError, Principal, Result, new_uuid};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use siteward_core::policy::{Action, Actor, SiteFacts, authorize, site_scope};
use siteward_core::site_code::{self, SITE_CODE_LEN};
use siteward_core::validate;
use siteward_core::{Role, SiteId, SiteState, UserId};
use siteward_store::{Handle, Page, Site};
use utoipa::ToSchema;

/// A site as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteView {
    /// Site id (for API paths).
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
    /// The managing company.
    pub company_id: String,
    /// The Site Manager's employee id.
    pub manager_id: Option<String>,
    /// The Site Owner (an end user), once invited.
    pub owner: Option<String>,
    /// `managed`, `owner_invited` or `handed_over`.
    #[schema(value_type = String)]
    pub state: SiteState,
    /// When created, RFC 3339.
    pub created_at: String,
    /// When last changed, RFC 3339.
    pub updated_at: String,
}

impl From<&Site> for SiteView {
    fn from(s: &Site) -> Self {
        Self {
            id: s.id.to_string(),
            site_code: s.site_code.clone(),
            name: s.name.clone(),
            address: s.address.clone(),
            time_zone: s.time_zone.clone(),
            region: s.region.to_string(),
            company_id: s.company_id.to_string(),
            manager_id: s.manager_id.map(|m| m.to_string()),
            owner: None,
            state: s.state,
            created_at: crate::rfc3339(s.created_at),
            updated_at: crate::rfc3339(s.updated_at),
        }
    }
}

/// `POST /api/v1/sites`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteInput {
    /// Name.
    pub name: String,
    /// Postal address.
    #[serde(default)]
    pub address: Option<String>,
    /// IANA time zone, such as `Europe/Berlin`.
    pub time_zone: String,
    /// A Site Manager to assign at once (Installer Admin or IT Manager only). A Site
    /// Manager who creates a site manages it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub manager_id: Option<UserId>,
}

/// `PATCH /api/v1/sites/{id}`: absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Postal address (empty clears it).
    #[serde(default)]
    pub address: Option<String>,
    /// IANA time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// What the policy needs to know of a site.
pub(crate) fn facts(s: &Site) -> SiteFacts {
    SiteFacts::new(s.company_id, s.manager_id, s.state)
}

/// A site by id, or "site not found".
pub(crate) async fn load_site(h: &mut Handle, id: SiteId) -> Result<Site> {
    h.site(id).await?.ok_or(AppError::NotFound("site"))
}

impl App {
    /// A page of the sites the person may see.
    pub async fn list_sites(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<SiteView>> {
        let page = self
            .inner
            .store
            .read()
            .await?
            .list_sites(site_scope(&p.actor), cursor, limit)
            .await?;
        Ok(Page {
            items: page.items.iter().map(SiteView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// One site.
    pub async fn get_site(&self, p: &Principal, id: SiteId) -> Result<SiteView> {
        let site = load_site(&mut self.inner.store.read().await?, id).await?;
        authorize(&p.actor, Action::ViewSite(&facts(&site))).map_err(AppError::refused("site"))?;
        Ok(SiteView::from(&site))
    }

    /// Creates a site with a fresh Site ID in the company's region.
    pub async fn create_site(&self, p: &Principal, input: SiteInput) -> Result<SiteView> {
        let company_id = p.company_id().ok_or(AppError::NotFound("company"))?;
        authorize(&p.actor, Action::CreateSite(company_id))
            .map_err(AppError::refused("company"))?;
        let mut f = Fields::default();
        let name = f.take(validate::required_text("name", &input.name, 120));
        let address = f.take(validate::optional_text(
            "address",
            input.address.as_deref().unwrap_or(""),
            300,
        ));
        let time_zone = f.take(validate::time_zone("time_zone", &input.time_zone));
        f.finish()?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let company = h
            .company(company_id)
            .await?
            .ok_or(AppError::NotFound("company"))?;
        let mut site = Site {
            id: SiteId(new_uuid()),
            company_id,
            site_code: self.free_site_code(&mut h).await?,
            name,
            address,
            time_zone,
            region: company.region,
            manager_id: None,
            state: SiteState::Managed,
            created_at: now,
            updated_at: now,
        };
        // A Site Manager's own new site is his or hers; others may name a manager.
        let manager = match (&p.actor, input.manager_id) {
            (Actor::Installer(i), None) if i.role == Role::SiteManager => Some(i.user_id),
            (_, requested) => requested,
        };
        if let Some(m) = manager {
            let (_, mf) = load_employee(&mut h, m).await?;
            let own = matches!(p.actor, Actor::Installer(i) if i.user_id == m && i.role == Role::SiteManager);
            if !own {
                authorize(
                    &p.actor,
                    Action::AssignManager {
                        site: &facts(&site),
                        manager: Some(&mf),
                    },
                )
                .map_err(AppError::refused("employee"))?;
            }
            site.manager_id = Some(m);
        }
        h.insert_site(&site).await?;
        Record {
            company_id: Some(company_id),
            site_id: Some(site.id),
            action: "site.create",
            summary: format!("{} created site {} ({})", p.user.name, site.name, site.site_code),
            detail: serde_json::json!({ "site_code": site.site_code, "name": site.name, "manager_id": site.manager_id }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        Ok(SiteView::from(&site))
    }

    async fn free_site_code(&self, h: &mut Handle) -> Result<String> {
        // 32^8 codes: a clash is rare, five in a row means something is wrong.
        for _ in 0..5 {
            let mut bytes = [0u8; SITE_CODE_LEN];
            rand::rng().fill_bytes(&mut bytes);
            let code = site_code::new_site_code(bytes);
            if !h.site_code_taken(&code).await? {
                return Ok(code);
            }
        }
        Err(AppError::Internal("no free Site ID after 5 tries".into()))
    }

    /// Changes a site's name, address or time zone.
    pub async fn update_site(
        &self,
        p: &Principal,
        id: SiteId,
        patch: SitePatch,
    ) -> Result<SiteView> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let mut site = load_site(&mut h, id).await?;
        authorize(&p.actor, Action::EditSite(&facts(&site))).map_err(AppError::refused("site"))?;
        let mut f = Fields::default();
        let mut changed = serde_json::Map::new();
        if let Some(name) = &patch.name {
            let name = f.take(validate::required_text("name", name, 120));
            if name != site.name {
                changed.insert("name".into(), name.clone().into());
                site.name = name;
            }
        }
        if let Some(address) = &patch.address {
            let address = f.take(validate::optional_text("address", address, 300));
            if address != site.address {
                changed.insert("address".into(), address.clone().into());
                site.address = address;
            }
        }
        if let Some(tz) = &patch.time_zone {
            let tz = f.take(validate::time_zone("time_zone", tz));
            if tz != site.time_zone {
                changed.insert("time_zone".into(), tz.clone().into());
                site.time_zone = tz;
            }
        }
        f.finish()?;
        if changed.is_empty() {
            return Ok(SiteView::from(&site));
        }
        site.updated_at = now;
        h.update_site(&site).await?;
        let fields: Vec<&str> = changed.keys().map(String::as_str).collect();
        Record {
            company_id: Some(site.company_id),
            site_id: Some(site.id),
            action: "site.update",
            summary: format!(
                "{} changed the site's {}",
                p.user.name,
                fields.join(", ").replace('_', " ")
            ),
            detail: serde_json::Value::Object(changed.clone()),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        Ok(SiteView::from(&site))
    }

    /// Deletes a site (Installer Admin or IT Manager). Its audit log stays.
    pub async fn delete_site(&self, p: &Principal, id: SiteId) -> Result<()> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let site = load_site(&mut h, id).await?;
        authorize(&p.actor, Action::DeleteSite(&facts(&site)))
            .map_err(AppError::refused("site"))?;
        h.delete_site(site.id).await?;
        Record {
            company_id: Some(site.company_id),
            site_id: Some(site.id),
            action: "site.delete",
            summary: format!(
                "{} deleted site {} ({})",
                p.user.name, site.name, site.site_code
            ),
            detail: serde_json::json!({ "site_code": site.site_code, "name": site.name }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        Ok(())
    }

    /// Assigns, changes or (with `None`) removes the site's Site Manager.
    pub async fn assign_manager(
        &self,
        p: &Principal,
        id: SiteId,
        manager: Option<UserId>,
    ) -> Result<SiteView> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let mut site = load_site(&mut h, id).await?;
        let target = match manager {
            Some(m) => Some(load_employee(&mut h, m).await?),
            None => None,
        };
        authorize(
            &p.actor,
            Action::AssignManager {
                site: &facts(&site),
                manager: target.as_ref().map(|(_, f)| f),
            },
        )
        .map_err(|r| match (r, target.is_some()) {
            // The site was visible (checked first), so a hidden manager is the unknown one.
            (siteward_core::policy::Refusal::NotFound, true)
                if authorize(&p.actor, Action::ViewSite(&facts(&site))).is_ok() =>
            {
                AppError::NotFound("employee")
            }
            (r, _) => AppError::refused("site")(r),
        })?;
        if site.manager_id == manager {
            return Ok(SiteView::from(&site));
        }
        let previous = site.manager_id;
        site.manager_id = manager;
        site.updated_at = now;
        h.update_site(&site).await?;
        let summary = match &target {
            Some((u, _)) => format!("{} made {} Site Manager", p.user.name, u.name),
            None => format!("{} removed the Site Manager", p.user.name),
        };
        Record {
            company_id: Some(site.company_id),
            site_id: Some(site.id),
            action: "site.manager",
            summary,
            detail: serde_json::json!({ "manager_id": manager, "previous_manager_id": previous }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        Ok(SiteView::from(&site))
    }

    /// A page of the site's audit log, newest first.
    pub async fn site_audit(
        &self,
        p: &Principal,
        id: SiteId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditView>> {
        let mut h = self.inner.store.read().await?;
        let site = load_site(&mut h, id).await?;
        authorize(&p.actor, Action::ViewSiteAudit(&facts(&site)))
            .map_err(AppError::refused("site"))?;
        let page = h.site_audit(site.id, cursor, limit).await?;
        Ok(Page {
            items: page.items.into_iter().map(AuditView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// A page of the company's audit log, newest first (Installer Admin, IT Manager).
    pub async fn company_audit(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditView>> {
        let company = p.company_id().ok_or(AppError::NotFound("company"))?;
        authorize(&p.actor, Action::ListEmployees(company))
            .map_err(AppError::refused("company"))?;
        let page = self
            .inner
            .store
            .read()
            .await?
            .company_audit(company, cursor, limit)
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(AuditView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }
}
