//! Alarm queries: alarms of handed-over sites kept for their owner, written
//! once per device event (idempotent on the event's key) and acknowledged by the
//! owner.

use crate::db::Handle;
use crate::repo::{Page, list_params, parse, parse_opt};
use crate::{Result, StoreError};
use siteward_core::{CompanyId, DeviceId, Millis, SiteId, SiteState, UserId};
use sqlx::AssertSqlSafe;

/// One stored alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlarm {
    /// Its id (UUID v7 text, time-ordered).
    pub id: String,
    /// The site.
    pub site_id: SiteId,
    /// The device that raised it (gone if the device was deleted since).
    pub device_id: Option<DeviceId>,
    /// The device's name then.
    pub device_name: String,
    /// `intrusion`, `tamper`, … (core `AlarmKind`).
    pub kind: String,
    /// One line for people.
    pub detail: String,
    /// What makes the same device event the same alarm.
    pub event_key: String,
    /// When it happened (device time when plausible, else received).
    pub occurred_at: Millis,
    /// When the server stored it.
    pub received_at: Millis,
    /// When the owner acknowledged it.
    pub acknowledged_at: Option<Millis>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<UserId>,
}

/// What alarm intake and the policy need to know of a device's site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmSite {
    /// The site.
    pub site_id: SiteId,
    /// Its managing company (none once released from the company's list).
    pub company_id: Option<CompanyId>,
    /// Its Site Manager.
    pub manager_id: Option<UserId>,
    /// Its hand-over state.
    pub state: SiteState,
    /// Its owner.
    pub owner_id: Option<UserId>,
    /// The device's name (when asked by device).
    pub device_name: String,
}

#[derive(sqlx::FromRow)]
struct AlarmRow {
    id: String,
    site_id: String,
    device_id: Option<String>,
    device_name: String,
    kind: String,
    detail: String,
    event_key: String,
    occurred_at: i64,
    received_at: i64,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
}

impl TryFrom<AlarmRow> for StoredAlarm {
    type Error = StoreError;
    fn try_from(r: AlarmRow) -> Result<Self> {
        Ok(StoredAlarm {
            site_id: parse("site id", &r.site_id)?,
            device_id: parse_opt("device id", r.device_id)?,
            acknowledged_by: parse_opt("user id", r.acknowledged_by)?,
            id: r.id,
            device_name: r.device_name,
            kind: r.kind,
            detail: r.detail,
            event_key: r.event_key,
            occurred_at: r.occurred_at,
            received_at: r.received_at,
            acknowledged_at: r.acknowledged_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SiteRow {
    id: String,
    company_id: String,
    manager_id: Option<String>,
    state: String,
    owner_id: Option<String>,
    released_at: Option<i64>,
    device_name: String,
}

impl TryFrom<SiteRow> for AlarmSite {
    type Error = StoreError;
    fn try_from(r: SiteRow) -> Result<Self> {
        Ok(AlarmSite {
            site_id: parse("site id", &r.id)?,
            company_id: match r.released_at {
                Some(_) => None,
                None => Some(parse("company id", &r.company_id)?),
            },
            manager_id: parse_opt("user id", r.manager_id)?,
            state: parse("site state", &r.state)?,
            owner_id: parse_opt("user id", r.owner_id)?,
            device_name: r.device_name,
        })
    }
}

/// A batch of alarms is written in statements of at most this many rows.
const INSERT_CHUNK: usize = 500;

const COLS: &str = "a.id, a.site_id, a.device_id, a.device_name, a.kind, a.detail, a.event_key, \
    a.occurred_at, a.received_at, a.acknowledged_at, a.acknowledged_by";

/// Alarms.
impl Handle {
    /// The site of a device, as alarm intake needs it.
    pub async fn alarm_site_of_device(&mut self, device: DeviceId) -> Result<Option<AlarmSite>> {
        let row: Option<SiteRow> = on_conn!(self, |c| sqlx::query_as(
            "SELECT s.id, s.company_id, s.manager_id, s.state, s.owner_id, s.released_at, \
             d.name AS device_name FROM devices d JOIN sites s ON s.id = d.site_id WHERE d.id = $1"
        )
        .bind(device.to_string())
        .fetch_optional(&mut *c)
        .await)?;
        row.map(AlarmSite::try_from).transpose()
    }

    /// The site of an alarm, as the policy needs it.
    pub async fn alarm_site(&mut self, site: SiteId) -> Result<Option<AlarmSite>> {
        let row: Option<SiteRow> = on_conn!(self, |c| sqlx::query_as(
            "SELECT s.id, s.company_id, s.manager_id, s.state, s.owner_id, s.released_at, \
             '' AS device_name FROM sites s WHERE s.id = $1"
        )
        .bind(site.to_string())
        .fetch_optional(&mut *c)
        .await)?;
        row.map(AlarmSite::try_from).transpose()
    }

    /// Keeps an alarm; `false` when the same event was kept already.
    pub async fn insert_alarm(&mut self, a: &StoredAlarm) -> Result<bool> {
        Ok(!self
            .insert_alarms(std::slice::from_ref(a))
            .await?
            .is_empty())
    }

    /// Keeps a batch of alarms in as few statements as the database allows;
    /// returns the event keys of those kept now (the others were kept before).
    pub async fn insert_alarms(&mut self, alarms: &[StoredAlarm]) -> Result<Vec<String>> {
        let mut kept = Vec::with_capacity(alarms.len());
        for chunk in alarms.chunks(INSERT_CHUNK) {
            let sql = format!(
                "INSERT INTO alarms (id, site_id, device_id, device_name, kind, detail, event_key, \
                 occurred_at, received_at, acknowledged_at, acknowledged_by) VALUES {} \
                 ON CONFLICT (event_key) DO NOTHING RETURNING event_key",
                list_params(self.backend(), chunk.len(), 11)
            );
            let rows: Vec<(String,)> = on_conn!(self, |c| {
                let mut q =
                    sqlx::query_as::<_, (String,)>(AssertSqlSafe(sql.as_str())).persistent(false);
                for a in chunk {
                    q = q
                        .bind(&a.id)
                        .bind(a.site_id.to_string())
                        .bind(a.device_id.map(|v| v.to_string()))
                        .bind(&a.device_name)
                        .bind(&a.kind)
                        .bind(&a.detail)
                        .bind(&a.event_key)
                        .bind(a.occurred_at)
                        .bind(a.received_at)
                        .bind(a.acknowledged_at)
                        .bind(a.acknowledged_by.map(|v| v.to_string()));
                }
                q.fetch_all(&mut *c).await
            })?;
            kept.extend(rows.into_iter().map(|(k,)| k));
        }
        Ok(kept)
    }

    /// One alarm.
    pub async fn alarm(&mut self, id: &str) -> Result<Option<StoredAlarm>> {
        let sql = format!("SELECT {COLS} FROM alarms a WHERE a.id = $1");
        let row: Option<AlarmRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(&mut *c)
                .await)?;
        row.map(StoredAlarm::try_from).transpose()
    }

    /// The alarms of the sites `owner` owns, newest first (`cursor`: the last id of
    /// the previous page).
    pub async fn alarms_of_owner(
        &mut self,
        owner: UserId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<StoredAlarm>> {
        let sql = format!(
            "SELECT {COLS} FROM alarms a JOIN sites s ON s.id = a.site_id \
             WHERE s.owner_id = $1 AND ($2 = '' OR a.id < $2) ORDER BY a.id DESC LIMIT $3"
        );
        let rows: Vec<AlarmRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(owner.to_string())
                .bind(cursor.unwrap_or(""))
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *c)
                .await)?;
        let mut items = rows
            .into_iter()
            .map(StoredAlarm::try_from)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|a| a.id.clone())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// How many alarms of `owner`'s sites nobody acknowledged.
    pub async fn count_open_alarms(&mut self, owner: UserId) -> Result<i64> {
        let (n,): (i64,) = on_conn!(self, |c| sqlx::query_as(
            "SELECT COUNT(*) FROM alarms a JOIN sites s ON s.id = a.site_id \
             WHERE s.owner_id = $1 AND a.acknowledged_at IS NULL"
        )
        .bind(owner.to_string())
        .fetch_one(&mut *c)
        .await)?;
        Ok(n)
    }

    /// Records the acknowledgement; `false` if it was acknowledged already.
    pub async fn acknowledge_alarm(&mut self, id: &str, by: UserId, now: Millis) -> Result<bool> {
        let done = on_conn!(self, |c| sqlx::query(
            "UPDATE alarms SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE id = $3 AND acknowledged_at IS NULL"
        )
        .bind(now)
        .bind(by.to_string())
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
