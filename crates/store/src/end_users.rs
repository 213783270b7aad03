//! End users' queries: the app version they sign in with,
//! the sites they own with their devices' online state and the managing companies,
//! and the regions offered at sign-up.
//!
//! These read the hand-over columns of `sites` (`owner_id`, `released_at`) on their
//! own, into records of their own, so the end-user side does not depend on how the
//! installer side models a site.

use crate::Result;
use crate::db::Handle;
use crate::repo::{parse, parse_opt};
use siteward_core::handover::AppVersion;
use siteward_core::health::Level;
use siteward_core::{CompanyId, DeviceId, DeviceType, Millis, Region, SiteId, SiteState, UserId};
use sqlx::AssertSqlSafe;

/// A site as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedSite {
    /// Its id.
    pub id: SiteId,
    /// The short shareable Site ID.
    pub site_code: String,
    /// Name.
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// IANA time zone.
    pub time_zone: String,
    /// Region.
    pub region: Region,
    /// Hand-over state.
    pub state: SiteState,
    /// The company on record.
    pub company_id: CompanyId,
    /// Its Site Manager, if any.
    pub manager_id: Option<UserId>,
    /// The owner.
    pub owner_id: UserId,
    /// When the company removed the handed-over site from its list: from
    /// then on no company manages it.
    pub released_at: Option<Millis>,
    /// When it was created.
    pub created_at: Millis,
}

impl OwnedSite {
    /// The company that manages the site now, if any.
    pub fn managing_company(&self) -> Option<CompanyId> {
        self.released_at.is_none().then_some(self.company_id)
    }
}

/// A device of an owned site with its last known level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedDevice {
    /// Its id.
    pub id: DeviceId,
    /// Its site.
    pub site_id: SiteId,
    /// Name.
    pub name: String,
    /// Model.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// What kind of device.
    pub device_type: DeviceType,
    /// The level of its last inspection; `None` before the first.
    pub level: Option<Level>,
    /// When it was last inspected.
    pub last_inspected_at: Option<Millis>,
}

impl OwnedDevice {
    /// Whether it answered at its last inspection: any level but offline or
    /// unknown (those mean it did not, or has not been asked yet).
    pub fn online(&self) -> bool {
        matches!(
            self.level,
            Some(Level::Normal | Level::Warning | Level::Abnormal)
        )
    }
}

#[derive(sqlx::FromRow)]
struct OwnedSiteRow {
    id: String,
    site_code: String,
    name: String,
    address: Option<String>,
    time_zone: String,
    region: String,
    state: String,
    company_id: String,
    manager_id: Option<String>,
    owner_id: String,
    released_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<OwnedSiteRow> for OwnedSite {
    type Error = crate::StoreError;
    fn try_from(r: OwnedSiteRow) -> Result<Self> {
        Ok(OwnedSite {
            id: parse("site id", &r.id)?,
            region: parse("region", &r.region)?,
            state: parse("site state", &r.state)?,
            company_id: parse("company id", &r.company_id)?,
            manager_id: parse_opt("user id", r.manager_id)?,
            owner_id: parse("user id", &r.owner_id)?,
            site_code: r.site_code,
            name: r.name,
            address: r.address,
            time_zone: r.time_zone,
            released_at: r.released_at,
            created_at: r.created_at,
        })
    }
}

const OWNED_SITE_COLS: &str = "id, site_code, name, address, time_zone, region, state, \
    company_id, manager_id, owner_id, released_at, created_at";

#[derive(sqlx::FromRow)]
struct OwnedDeviceRow {
    id: String,
    site_id: String,
    name: String,
    model: String,
    serial: String,
    device_type: String,
    level: Option<String>,
    last_inspected_at: Option<i64>,
}

impl TryFrom<OwnedDeviceRow> for OwnedDevice {
    type Error = crate::StoreError;
    fn try_from(r: OwnedDeviceRow) -> Result<Self> {
        Ok(OwnedDevice {
            id: parse("device id", &r.id)?,
            site_id: parse("site id", &r.site_id)?,
            device_type: parse("device type", &r.device_type)?,
            level: parse_opt("level", r.level)?,
            name: r.name,
            model: r.model,
            serial: r.serial,
            last_inspected_at: r.last_inspected_at,
        })
    }
}

/// End users.
impl Handle {
    /// Records the app version a person signed in with.
    pub async fn set_user_app_version(
        &mut self,
        user: UserId,
        version: AppVersion,
        now: Millis,
    ) -> Result<()> {
        const SQL: &str = "UPDATE users SET app_version = $1, updated_at = $2 WHERE id = $3";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(version.to_string())
            .bind(now)
            .bind(user.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Every site `owner` owns, in creation order (an owner has a handful; R-3
    /// needs all of them at once anyway).
    pub async fn owned_sites(&mut self, owner: UserId) -> Result<Vec<OwnedSite>> {
        let sql = format!("SELECT {OWNED_SITE_COLS} FROM sites WHERE owner_id = $1 ORDER BY id");
        let rows: Vec<OwnedSiteRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(owner.to_string())
                .fetch_all(&mut *c)
                .await)?;
        rows.into_iter().map(OwnedSite::try_from).collect()
    }

    /// One site of `owner`'s, if it is theirs.
    pub async fn owned_site(&mut self, owner: UserId, site: SiteId) -> Result<Option<OwnedSite>> {
        let sql = format!("SELECT {OWNED_SITE_COLS} FROM sites WHERE id = $1 AND owner_id = $2");
        let row: Option<OwnedSiteRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(site.to_string())
                .bind(owner.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(OwnedSite::try_from).transpose()
    }

    /// The devices of every site `owner` owns (or of one of them), with their last
    /// known level, in the order they were added.
    pub async fn owned_devices(
        &mut self,
        owner: UserId,
        site: Option<SiteId>,
    ) -> Result<Vec<OwnedDevice>> {
        const SQL: &str = "SELECT d.id, d.site_id, d.name, d.model, d.serial, d.device_type, \
            h.level, h.last_inspected_at FROM devices d JOIN sites s ON s.id = d.site_id \
            LEFT JOIN device_health h ON h.device_id = d.id \
            WHERE s.owner_id = $1 AND ($2 IS NULL OR d.site_id = $2) ORDER BY d.id";
        let rows: Vec<OwnedDeviceRow> = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(owner.to_string())
            .bind(site.map(|s| s.to_string()))
            .fetch_all(&mut *c)
            .await)?;
        rows.into_iter().map(OwnedDevice::try_from).collect()
    }

    /// The regions Siteward serves: those of issued authentication codes and of
    /// registered companies, sorted.
    pub async fn served_regions(&mut self) -> Result<Vec<Region>> {
        const SQL: &str = "SELECT region FROM auth_codes UNION SELECT region FROM companies \
            ORDER BY 1";
        let rows: Vec<(String,)> =
            on_conn!(self, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
        rows.into_iter().map(|(r,)| parse("region", &r)).collect()
    }
}
