//! Sites and their Site Manager, and each site's audit log.
//!
//! Every site operation asks the policy with the site's facts *now*
//! ([`site_facts`]): its effective hand-over state, its owner, its managing
//! company and — once handed over — what that company's authorizations in force
//! let it do. So an installer's view, edit, devices, health and audit of a
//! handed-over site stop the moment the authorization lapses, and say which
//! permission is missing.

use crate::accounts::load_employee;
use crate::audit::{AuditView, Record};
use crate::error::Fields;
use crate::handover::{AuthorizationSummary, InvitationSummary, OwnerView};
use crate::{App, AppError, Principal, Result, new_uuid};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use siteward_core::handover::{Access, Authorization, Invitation};
use siteward_core::policy::{Action, Actor, SiteFacts, authorize, site_scope};
use siteward_core::site_code::{self, SITE_CODE_LEN};
use siteward_core::validate;
use siteward_core::{Role, SiteId, SiteState, UserId};
use siteward_store::{Handle, Page, Site};
use std::collections::HashMap;
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
    /// The Site Owner (an end user), once the site is handed over.
    pub owner: Option<OwnerView>,
    /// `managed`, `owner_invited` or `handed_over`, as of now (an invitation that
    /// ran out unanswered leaves the site `managed`).
    #[schema(value_type = String)]
    pub state: SiteState,
    /// The site's latest owner invitation with its state — `pending`, `accepted`,
    /// `declined`, `withdrawn` or `expired` (installers only; ).
    pub invitation: Option<InvitationSummary>,
    /// Your company's latest authorization on the site with its state now
    /// (installers only, handed-over sites; R-10).
    pub authorization: Option<AuthorizationSummary>,
    /// When created, RFC 3339.
    pub created_at: String,
    /// When last changed, RFC 3339.
    pub updated_at: String,
}

/// The hand-over side of a site, loaded with it for its view.
#[derive(Debug, Default)]
pub(crate) struct HandoverOf {
    /// The site's latest owner invitation.
    pub(crate) invitation: Option<Invitation>,
    /// The site's authorizations, oldest first.
    pub(crate) authorizations: Vec<Authorization>,
    /// The owner's name.
    pub(crate) owner_name: Option<String>,
}

impl SiteView {
    /// The view of `s` for `p` at `now`.
    pub(crate) fn of(s: &Site, ho: &HandoverOf, p: &Principal, now: i64) -> Self {
        let company = p.company_id();
        let latest_auth = company.and_then(|c| {
            ho.authorizations
                .iter()
                .filter(|a| a.company_id == c)
                .max_by_key(|a| a.id)
        });
        Self {
            id: s.id.to_string(),
            site_code: s.site_code.clone(),
            name: s.name.clone(),
            address: s.address.clone(),
            time_zone: s.time_zone.clone(),
            region: s.region.to_string(),
            company_id: s.company_id.to_string(),
            manager_id: s.manager_id.map(|m| m.to_string()),
            owner: s.owner_id.map(|id| OwnerView {
                id: id.to_string(),
                name: ho.owner_name.clone().unwrap_or_default(),
            }),
            state: effective_state(s, ho.invitation.as_ref(), now),
            invitation: company
                .and(ho.invitation.as_ref())
                .map(|i| InvitationSummary::of(i, now)),
            authorization: latest_auth.map(|a| AuthorizationSummary::of(a, now)),
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

/// The site's hand-over state at `now`: as stored, except that an owner
/// invitation that ran out unanswered leaves the site managed again, whether
/// or not that has been written down yet.
pub(crate) fn effective_state(s: &Site, latest: Option<&Invitation>, now: i64) -> SiteState {
    match (s.state, latest) {
        (SiteState::OwnerInvited, Some(i)) => i.site_state_at(now),
        (state, _) => state,
    }
}

/// What the policy needs to know of a site at `now`, from the site, its latest
/// invitation and its authorizations: the effective state, the owner, the managing
/// company (none once it removed the site from its list, R-11) and, handed over,
/// what that company may do now.
pub(crate) fn facts_at(
    s: &Site,
    latest: Option<&Invitation>,
    authorizations: &[Authorization],
    now: i64,
) -> SiteFacts {
    let state = effective_state(s, latest, now);
    let mut f = SiteFacts::new(s.company_id, s.manager_id, state).with_owner(s.owner_id);
    if state == SiteState::HandedOver {
        f = f.with_access(Access::at(s.id, s.company_id, authorizations, now));
    }
    f.company_id = s.managing_company();
    f
}

/// [`facts_at`], loading what it needs: the latest invitation of an invited site,
/// the authorizations of a handed-over one.
pub(crate) async fn site_facts(h: &mut Handle, s: &Site, now: i64) -> Result<SiteFacts> {
    let latest = match s.state {
        SiteState::OwnerInvited => h.latest_invitation(s.id).await?,
        _ => None,
    };
    let authorizations = match s.state {
        SiteState::HandedOver => h.site_authorizations(s.id).await?,
        _ => Vec::new(),
    };
    Ok(facts_at(s, latest.as_ref(), &authorizations, now))
}

/// The hand-over side of each of these sites, in a few queries.
pub(crate) async fn handover_of(
    h: &mut Handle,
    sites: &[Site],
) -> Result<HashMap<SiteId, HandoverOf>> {
    let ids: Vec<SiteId> = sites.iter().map(|s| s.id).collect();
    let owners: Vec<UserId> = sites.iter().filter_map(|s| s.owner_id).collect();
    let names = h.user_names(&owners).await?;
    let mut out: HashMap<SiteId, HandoverOf> = sites
        .iter()
        .map(|s| {
            let owner_name = s.owner_id.and_then(|o| names.get(&o).cloned());
            (
                s.id,
                HandoverOf {
                    owner_name,
                    ..HandoverOf::default()
                },
            )
        })
        .collect();
    for i in h.latest_invitations(&ids).await? {
        if let Some(e) = out.get_mut(&i.site_id) {
            e.invitation = Some(i);
        }
    }
    for a in h.authorizations_of_sites(&ids).await? {
        if let Some(e) = out.get_mut(&a.site_id) {
            e.authorizations.push(a);
        }
    }
    Ok(out)
}

/// The views of these sites for `p` at `now`.
pub(crate) async fn site_views(
    h: &mut Handle,
    p: &Principal,
    sites: &[Site],
    now: i64,
) -> Result<Vec<SiteView>> {
    let ho = handover_of(h, sites).await?;
    Ok(sites
        .iter()
        .map(|s| SiteView::of(s, ho.get(&s.id).unwrap_or(&HandoverOf::default()), p, now))
        .collect())
}

/// The view of one site for `p` at `now`.
pub(crate) async fn site_view(
    h: &mut Handle,
    p: &Principal,
    s: &Site,
    now: i64,
) -> Result<SiteView> {
    let mut views = site_views(h, p, std::slice::from_ref(s), now).await?;
    views
        .pop()
        .ok_or_else(|| AppError::Internal("a site without a view".into()))
}

/// A site by id, or "site not found".
pub(crate) async fn load_site(h: &mut Handle, id: SiteId) -> Result<Site> {
    h.site(id).await?.ok_or(AppError::NotFound("site"))
}

impl App {
    /// A page of the sites the person may see: their cards, which an installer
    /// sees after hand-over too, authorized or not, so as to apply for an
    /// authorization or remove the site (`ViewSiteSummary`; ).
    pub async fn list_sites(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<SiteView>> {
        let now = self.now();
        let mut h = self.inner.store.read().await?;
        let page = h.list_sites(site_scope(&p.actor), cursor, limit).await?;
        Ok(Page {
            items: site_views(&mut h, p, &page.items, now).await?,
            next_cursor: page.next_cursor,
        })
    }

    /// One site (handed over, an installer needs the site-information permission).
    pub async fn get_site(&self, p: &Principal, id: SiteId) -> Result<SiteView> {
        let now = self.now();
        let mut h = self.inner.store.read().await?;
        let site = load_site(&mut h, id).await?;
        authorize(
            &p.actor,
            Action::ViewSite(&site_facts(&mut h, &site, now).await?),
        )
        .map_err(AppError::refused("site"))?;
        site_view(&mut h, p, &site, now).await
    }

    /// A site's card — name, Site ID, state, owner, the company's invitation and
    /// latest authorization — which an installer may see authorized or not, so as
    /// to apply for an authorization or remove the site (`ViewSiteSummary`; R-10,
    /// [`App::get_site`] needs the site-information permission once the
    /// site is handed over.
    pub async fn site_card(&self, p: &Principal, id: SiteId) -> Result<SiteView> {
        let now = self.now();
        let mut h = self.inner.store.read().await?;
        let site = load_site(&mut h, id).await?;
        authorize(
            &p.actor,
            Action::ViewSiteSummary(&site_facts(&mut h, &site, now).await?),
        )
        .map_err(AppError::refused("site"))?;
        site_view(&mut h, p, &site, now).await
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
            owner_id: None,
            released_at: None,
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
                        site: &facts_at(&site, None, &[], now),
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
        let view = site_view(&mut h, p, &site, now).await?;
        h.commit().await?;
        Ok(view)
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
        h.lock_site(id).await?;
        let mut site = load_site(&mut h, id).await?;
        authorize(
            &p.actor,
            Action::EditSite(&site_facts(&mut h, &site, now).await?),
        )
        .map_err(AppError::refused("site"))?;
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
            return site_view(&mut h, p, &site, now).await;
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
        let view = site_view(&mut h, p, &site, now).await?;
        h.commit().await?;
        Ok(view)
    }

    /// Deletes a site (Installer Admin or IT Manager). Its audit log stays. A
    /// handed-over site is the owner's: "deleting" it removes it from the company's
    /// list only ([`App::remove_site_from_list`], R-11).
    pub async fn delete_site(&self, p: &Principal, id: SiteId) -> Result<()> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        h.lock_site(id).await?;
        let site = load_site(&mut h, id).await?;
        let facts = site_facts(&mut h, &site, now).await?;
        if facts.is_handed_over() {
            drop(h);
            return self.remove_site_from_list(p, id).await;
        }
        authorize(&p.actor, Action::DeleteSite(&facts)).map_err(AppError::refused("site"))?;
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
        h.lock_site(id).await?;
        let mut site = load_site(&mut h, id).await?;
        let target = match manager {
            Some(m) => Some(load_employee(&mut h, m).await?),
            None => None,
        };
        let facts = site_facts(&mut h, &site, now).await?;
        authorize(
            &p.actor,
            Action::AssignManager {
                site: &facts,
                manager: target.as_ref().map(|(_, f)| f),
            },
        )
        .map_err(|r| match (r, target.is_some()) {
            // The site was visible (checked first), so a hidden manager is the unknown one.
            (siteward_core::policy::Refusal::NotFound, true)
                if authorize(&p.actor, Action::ViewSiteSummary(&facts)).is_ok() =>
            {
                AppError::NotFound("employee")
            }
            (r, _) => AppError::refused("site")(r),
        })?;
        if site.manager_id == manager {
            return site_view(&mut h, p, &site, now).await;
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
        let view = site_view(&mut h, p, &site, now).await?;
        h.commit().await?;
        Ok(view)
    }

    /// A page of the site's audit log, newest first.
    pub async fn site_audit(
        &self,
        p: &Principal,
        id: SiteId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditView>> {
        let now = self.now();
        let mut h = self.inner.store.read().await?;
        let site = load_site(&mut h, id).await?;
        authorize(
            &p.actor,
            Action::ViewSiteAudit(&site_facts(&mut h, &site, now).await?),
        )
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
