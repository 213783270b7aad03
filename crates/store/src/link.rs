//! Device-link queries: devices added by serial number and verification code
//! that have not connected yet, and the event counter stored per linked device.

use crate::Result;
use crate::alarms::{AlarmSite, SiteRow};
use crate::db::Handle;
use crate::repo::{list_params, parse, parse_opt};
use siteward_core::{CompanyId, DeviceId, Millis, SiteId, UserId};
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

/// Batches are read and written in statements of at most this many devices.
const CHUNK: usize = 500;

/// What storing a linked device's events needs to know of it: its event counter
/// and its site. Read for a whole batch of events at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkIntake {
    /// The epoch of the last event stored (none before the first).
    pub epoch: Option<String>,
    /// The seq of the last event stored in that epoch.
    pub seq: i64,
    /// The device's site, as alarm intake needs it.
    pub site: AlarmSite,
}

#[derive(sqlx::FromRow)]
struct IntakeRow {
    device_id: String,
    link_epoch: Option<String>,
    link_seq: i64,
    #[sqlx(flatten)]
    site: SiteRow,
}

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

    /// The event counters and sites of these devices (those that exist), in as
    /// few statements as the database allows.
    pub async fn link_intake(
        &mut self,
        devices: &[DeviceId],
    ) -> Result<HashMap<DeviceId, LinkIntake>> {
        let mut found = HashMap::with_capacity(devices.len());
        for chunk in devices.chunks(CHUNK) {
            let sql = format!(
                "SELECT d.id AS device_id, d.link_epoch, d.link_seq, s.id, s.company_id, \
                 s.manager_id, s.state, s.owner_id, s.released_at, d.name AS device_name \
                 FROM devices d JOIN sites s ON s.id = d.site_id WHERE d.id IN ({})",
                list_params(self.backend(), chunk.len(), 1)
            );
            let rows: Vec<IntakeRow> = on_conn!(self, |c| {
                let mut q =
                    sqlx::query_as::<_, IntakeRow>(AssertSqlSafe(sql.as_str())).persistent(false);
                for d in chunk {
                    q = q.bind(d.to_string());
                }
                q.fetch_all(&mut *c).await
            })?;
            for r in rows {
                let intake = LinkIntake {
                    epoch: r.link_epoch,
                    seq: r.link_seq,
                    site: AlarmSite::try_from(r.site)?,
                };
                found.insert(parse("device id", &r.device_id)?, intake);
            }
        }
        Ok(found)
    }

    /// Records for each device that its events up to `seq` of `epoch` are stored,
    /// in as few statements as the database allows.
    pub async fn set_link_seqs(&mut self, counters: &[(DeviceId, &str, i64)]) -> Result<()> {
        for chunk in counters.chunks(CHUNK) {
            // A VALUES list names its columns column1, column2, … on both databases.
            let sql = format!(
                "UPDATE devices SET link_epoch = v.column2, link_seq = v.column3 \
                 FROM (VALUES {}) AS v WHERE devices.id = v.column1",
                list_params(self.backend(), chunk.len(), 3)
            );
            on_conn!(self, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str())).persistent(false);
                for (device, epoch, seq) in chunk {
                    q = q.bind(device.to_string()).bind(*epoch).bind(*seq);
                }
                q.execute(&mut *c).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}
