//! Device-link queries: devices added by serial number and verification code
//! that have not connected yet, and the event counter stored per linked device.

use crate::Result;
use crate::db::Handle;
use crate::repo::{parse, parse_opt};
use siteward_core::{CompanyId, DeviceId, Millis, SiteId, UserId};

/// A device added by serial number that has not connected yet (or was refused when
/// it did, with the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLink {
    /// Serial number.
    pub serial: String,
    /// The company adding it.
    pub company_id: CompanyId,
    /// The site it goes to.
    pub site_id: SiteId,
    /// The name asked for.
    pub name: Option<String>,
    /// The link key, sealed (bound to the serial).
    pub secret: String,
    /// `waiting` or `refused`.
    pub state: String,
    /// Why it was refused.
    pub reason: Option<String>,
    /// Who added it.
    pub added_by: Option<UserId>,
    /// When.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    serial: String,
    company_id: String,
    site_id: String,
    name: Option<String>,
    secret: String,
    state: String,
    reason: Option<String>,
    added_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<PendingRow> for PendingLink {
    type Error = crate::StoreError;
    fn try_from(r: PendingRow) -> Result<Self> {
        Ok(Self {
            company_id: parse("company id", &r.company_id)?,
            site_id: parse("site id", &r.site_id)?,
            added_by: parse_opt("user id", r.added_by)?,
            serial: r.serial,
            name: r.name,
            secret: r.secret,
            state: r.state,
            reason: r.reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLS: &str =
    "serial, company_id, site_id, name, secret, state, reason, added_by, created_at, updated_at";

/// Device link.
impl Handle {
    /// Stores a device waiting to connect; `false` if its serial already waits.
    pub async fn insert_pending_link(&mut self, p: &PendingLink) -> Result<bool> {
        const SQL: &str = "INSERT INTO pending_links (serial, company_id, site_id, name, secret, \
            state, reason, added_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
            $8, $9, $10) ON CONFLICT (serial) DO NOTHING";
        let done = on_conn!(self, |c| sqlx::query(SQL)
            .bind(&p.serial)
            .bind(p.company_id.to_string())
            .bind(p.site_id.to_string())
            .bind(&p.name)
            .bind(&p.secret)
            .bind(&p.state)
            .bind(&p.reason)
            .bind(p.added_by.map(|u| u.to_string()))
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The device waiting with this serial.
    pub async fn pending_link(&mut self, serial: &str) -> Result<Option<PendingLink>> {
        let sql = format!("SELECT {COLS} FROM pending_links WHERE serial = $1");
        let row: Option<PendingRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(serial)
                .fetch_optional(&mut *c)
                .await)?;
        row.map(PendingLink::try_from).transpose()
    }

    /// The devices waiting to connect to a site, oldest first.
    pub async fn pending_links_of_site(&mut self, site: SiteId) -> Result<Vec<PendingLink>> {
        let sql = format!(
            "SELECT {COLS} FROM pending_links WHERE site_id = $1 ORDER BY created_at, serial"
        );
        let rows: Vec<PendingRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(site.to_string())
                .fetch_all(&mut *c)
                .await)?;
        rows.into_iter().map(PendingLink::try_from).collect()
    }

    /// Marks a waiting device refused, with the reason.
    pub async fn refuse_pending_link(
        &mut self,
        serial: &str,
        reason: &str,
        now: Millis,
    ) -> Result<()> {
        on_conn!(self, |c| {
            sqlx::query(
            "UPDATE pending_links SET state = 'refused', reason = $2, updated_at = $3 WHERE serial = $1"
        )
        .bind(serial)
        .bind(reason)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// Forgets a waiting device; `false` if it was not waiting.
    pub async fn delete_pending_link(&mut self, serial: &str) -> Result<bool> {
        let done = on_conn!(self, |c| sqlx::query(
            "DELETE FROM pending_links WHERE serial = $1"
        )
        .bind(serial)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The linked device that proves itself with this serial number.
    pub async fn device_by_link_serial(&mut self, serial: &str) -> Result<Option<crate::Device>> {
        let id: Option<(String,)> = on_conn!(self, |c| sqlx::query_as(
            "SELECT id FROM devices WHERE link_serial = $1"
        )
        .bind(serial)
        .fetch_optional(&mut *c)
        .await)?;
        match id {
            Some((id,)) => self.device(parse("device id", &id)?).await,
            None => Ok(None),
        }
    }

    /// The event counter stored for a linked device: (epoch, last seq).
    pub async fn link_seq(&mut self, device: DeviceId) -> Result<Option<(Option<String>, i64)>> {
        let row: Option<(Option<String>, i64)> = on_conn!(self, |c| sqlx::query_as(
            "SELECT link_epoch, link_seq FROM devices WHERE id = $1"
        )
        .bind(device.to_string())
        .fetch_optional(&mut *c)
        .await)?;
        Ok(row)
    }

    /// Records that the device's events up to `seq` of `epoch` are stored.
    pub async fn set_link_seq(&mut self, device: DeviceId, epoch: &str, seq: i64) -> Result<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE devices SET link_epoch = $2, link_seq = $3 WHERE id = $1"
        )
        .bind(device.to_string())
        .bind(epoch)
        .bind(seq)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
