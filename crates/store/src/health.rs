//! Health queries: the latest status per device, its history, the inspection
//! schedule (claimed with a lease, so several nodes can share it) and manual
//! inspections.

use crate::db::{Conn, Handle};
use crate::handover::granted_sql;
use crate::model::*;
use crate::repo::Page;
use crate::repo::parse;
use crate::{Result, StoreError};
use siteward_core::handover::Permission;
use siteward_core::health::{Level, Reason};
use siteward_core::policy::SiteScope;
use siteward_core::{DeviceId, Millis, SiteId};
use sqlx::AssertSqlSafe;

fn reasons(json: &str) -> Result<Vec<Reason>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("reasons: {e}")))
}

fn reasons_json(r: &[Reason]) -> String {
    serde_json::to_string(r).unwrap_or_else(|_| "[]".into())
}

#[derive(sqlx::FromRow)]
struct HealthDbRow {
    device_id: String,
    company_id: String,
    site_id: String,
    level: String,
    reasons: String,
    observation: String,
    last_inspected_at: Option<i64>,
    next_due_at: i64,
    offline_streak: i32,
    updated_at: i64,
}

impl TryFrom<HealthDbRow> for HealthRecord {
    type Error = StoreError;
    fn try_from(r: HealthDbRow) -> Result<Self> {
        Ok(HealthRecord {
            device_id: parse("device id", &r.device_id)?,
            company_id: parse("company id", &r.company_id)?,
            site_id: parse("site id", &r.site_id)?,
            level: parse("level", &r.level)?,
            reasons: reasons(&r.reasons)?,
            observation: serde_json::from_str(&r.observation)
                .map_err(|e| StoreError::Corrupt(format!("observation: {e}")))?,
            last_inspected_at: r.last_inspected_at,
            next_due_at: r.next_due_at,
            offline_streak: r.offline_streak,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ListRow {
    device_id: String,
    site_id: String,
    site_name: String,
    name: String,
    serial: String,
    model: String,
    device_type: String,
    level: String,
    reasons: String,
    last_inspected_at: Option<i64>,
}

impl TryFrom<ListRow> for HealthRow {
    type Error = StoreError;
    fn try_from(r: ListRow) -> Result<Self> {
        Ok(HealthRow {
            device_id: parse("device id", &r.device_id)?,
            site_id: parse("site id", &r.site_id)?,
            device_type: parse("device type", &r.device_type)?,
            level: parse("level", &r.level)?,
            reasons: reasons(&r.reasons)?,
            site_name: r.site_name,
            name: r.name,
            serial: r.serial,
            model: r.model,
            last_inspected_at: r.last_inspected_at,
        })
    }
}

/// The scope as query parameters: company and, for a Site Manager, the manager.
fn scope_params(scope: SiteScope) -> Option<(String, Option<String>)> {
    match scope {
        SiteScope::Company(c) => Some((c.to_string(), None)),
        SiteScope::ManagedBy(c, u) => Some((c.to_string(), Some(u.to_string()))),
        SiteScope::Nothing => None,
    }
}

/// Health.
impl Handle {
    /// Writes a device's latest health (insert or replace).
    pub async fn upsert_health(&mut self, r: &HealthRecord) -> Result<()> {
        const SQL: &str = "INSERT INTO device_health (device_id, company_id, site_id, level, level_rank, \
            reasons, observation, last_inspected_at, next_due_at, offline_streak, updated_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
            ON CONFLICT (device_id) DO UPDATE SET level = excluded.level, level_rank = excluded.level_rank, \
            reasons = excluded.reasons, observation = excluded.observation, \
            last_inspected_at = excluded.last_inspected_at, next_due_at = excluded.next_due_at, \
            offline_streak = excluded.offline_streak, updated_at = excluded.updated_at";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(r.device_id.to_string())
            .bind(r.company_id.to_string())
            .bind(r.site_id.to_string())
            .bind(r.level.as_str())
            .bind(i32::from(r.level.rank()))
            .bind(reasons_json(&r.reasons))
            .bind(r.observation.to_string())
            .bind(r.last_inspected_at)
            .bind(r.next_due_at)
            .bind(r.offline_streak)
            .bind(r.updated_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A device's latest health, if it has a record.
    pub async fn health(&mut self, device: DeviceId) -> Result<Option<HealthRecord>> {
        const SQL: &str = "SELECT device_id, company_id, site_id, level, reasons, observation, \
            last_inspected_at, next_due_at, offline_streak, updated_at FROM device_health WHERE device_id = $1";
        let row: Option<HealthDbRow> = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(device.to_string())
            .fetch_optional(&mut *c)
            .await)?;
        row.map(HealthRecord::try_from).transpose()
    }

    /// A device's latest health, locked until the transaction ends (PostgreSQL; on
    /// SQLite the write transaction already excludes other writers), so two
    /// inspections finishing together cannot both record the same change.
    pub async fn health_for_update(&mut self, device: DeviceId) -> Result<Option<HealthRecord>> {
        const COLS: &str = "SELECT device_id, company_id, site_id, level, reasons, observation, \
            last_inspected_at, next_due_at, offline_streak, updated_at FROM device_health WHERE device_id = $1";
        let row: Option<HealthDbRow> = match self.conn() {
            Conn::Sqlite(c) => {
                sqlx::query_as(COLS)
                    .bind(device.to_string())
                    .fetch_optional(&mut *c)
                    .await?
            }
            Conn::Postgres(c) => {
                sqlx::query_as(AssertSqlSafe(format!("{COLS} FOR UPDATE")))
                    .bind(device.to_string())
                    .fetch_optional(&mut *c)
                    .await?
            }
        };
        row.map(HealthRecord::try_from).transpose()
    }

    /// Claims up to `limit` devices due for inspection: moves their due time to
    /// `lease_until`, so no other worker or node takes them meanwhile, and returns
    /// them. PostgreSQL skips rows another node is claiming at the same moment.
    pub async fn claim_due(
        &mut self,
        now: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<DeviceId>> {
        const SQLITE: &str = "UPDATE device_health SET next_due_at = $1 WHERE device_id IN \
            (SELECT device_id FROM device_health WHERE next_due_at <= $2 ORDER BY next_due_at LIMIT $3) \
            RETURNING device_id";
        const PG: &str = "UPDATE device_health SET next_due_at = $1 WHERE device_id IN \
            (SELECT device_id FROM device_health WHERE next_due_at <= $2 ORDER BY next_due_at LIMIT $3 \
            FOR UPDATE SKIP LOCKED) RETURNING device_id";
        let rows: Vec<(String,)> = match self.conn() {
            Conn::Sqlite(c) => {
                sqlx::query_as(SQLITE)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?
            }
            Conn::Postgres(c) => {
                sqlx::query_as(PG)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?
            }
        };
        rows.iter().map(|(id,)| parse("device id", id)).collect()
    }

    /// Makes devices due now (manual inspection, an event from the device).
    pub async fn make_due(&mut self, device: DeviceId, at: Millis) -> Result<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE device_health SET next_due_at = $1 WHERE device_id = $2"
        )
        .bind(at)
        .bind(device.to_string())
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Makes every device in `scope` due now (a person opened the Health page);
    /// returns how many. Devices whose health the company may not collect
    /// are left alone.
    pub async fn make_scope_due(&mut self, scope: SiteScope, now: Millis) -> Result<u64> {
        let Some((company, manager)) = scope_params(scope) else {
            return Ok(0);
        };
        let sql = format!(
            "UPDATE device_health SET next_due_at = $1 WHERE company_id = $2 AND next_due_at > $1 \
             AND device_id IN (SELECT d.id FROM devices d JOIN sites s ON s.id = d.site_id \
             WHERE d.company_id = $2 AND ($3 IS NULL OR s.manager_id = $3) AND {})",
            granted_sql(Permission::HealthMonitoring, "s", Some("d.id"), "$1")
        );
        let n = on_conn!(self, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(now)
            .bind(&company)
            .bind(manager.clone())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Records a change of level or reasons.
    pub async fn insert_health_change(&mut self, h: &HealthChange) -> Result<()> {
        const SQL: &str = "INSERT INTO health_history (id, device_id, at, level, reasons) VALUES ($1, $2, $3, $4, $5)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&h.id)
            .bind(h.device_id.to_string())
            .bind(h.at)
            .bind(h.level.as_str())
            .bind(reasons_json(&h.reasons))
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A device's recent changes, newest first.
    pub async fn health_history(
        &mut self,
        device: DeviceId,
        limit: i64,
    ) -> Result<Vec<HealthChange>> {
        const SQL: &str = "SELECT id, at, level, reasons FROM health_history WHERE device_id = $1 \
            ORDER BY id DESC LIMIT $2";
        let rows: Vec<(String, i64, String, String)> = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(device.to_string())
            .bind(limit)
            .fetch_all(&mut *c)
            .await)?;
        rows.into_iter()
            .map(|(id, at, level, r)| {
                Ok(HealthChange {
                    id,
                    device_id: device,
                    at,
                    level: parse("level", &level)?,
                    reasons: reasons(&r)?,
                })
            })
            .collect()
    }

    /// A page of devices with their health in `scope`, worst first, filtered.
    /// The cursor is an offset. A handed-over site's devices are in it only while
    /// the company holds the health-monitoring permission for them at `now`.
    pub async fn health_list(
        &mut self,
        scope: SiteScope,
        f: &HealthFilter,
        cursor: Option<&str>,
        limit: u32,
        now: Millis,
    ) -> Result<Page<HealthRow>> {
        let Some((company, manager)) = scope_params(scope) else {
            return Ok(Page {
                items: vec![],
                next_cursor: None,
            });
        };
        let offset: i64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let search = f
            .search
            .as_ref()
            .map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
        let sql = format!(
            "SELECT d.id AS device_id, d.site_id, s.name AS site_name, d.name, d.serial, d.model, \
             d.device_type, h.level, h.reasons, h.last_inspected_at \
             FROM device_health h JOIN devices d ON d.id = h.device_id JOIN sites s ON s.id = d.site_id \
             WHERE h.company_id = $1 AND ($2 IS NULL OR s.manager_id = $2) AND ($3 IS NULL OR d.site_id = $3) \
             AND ($4 IS NULL OR d.device_type = $4) AND ($5 IS NULL OR h.level = $5) \
             AND ($6 IS NULL OR LOWER(d.name) LIKE $6 OR LOWER(d.serial) LIKE $6) AND {} \
             ORDER BY h.level_rank DESC, s.name, d.name, d.id LIMIT $7 OFFSET $8",
            granted_sql(Permission::HealthMonitoring, "s", Some("d.id"), "$9")
        );
        let rows: Vec<ListRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(&company)
            .bind(manager.clone())
            .bind(f.site_id.map(|s| s.to_string()))
            .bind(f.device_type.map(|t| t.as_str()))
            .bind(f.level.map(|l| l.as_str()))
            .bind(search.clone())
            .bind(i64::from(limit) + 1)
            .bind(offset)
            .bind(now)
            .fetch_all(&mut *c)
            .await)?;
        let mut items: Vec<HealthRow> = rows
            .into_iter()
            .map(HealthRow::try_from)
            .collect::<Result<_>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            Some((offset + i64::from(limit)).to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Counts of devices by level per site in `scope`, of the devices whose health
    /// the company may see at `now`.
    pub async fn health_summary(
        &mut self,
        scope: SiteScope,
        now: Millis,
    ) -> Result<Vec<SiteHealthCount>> {
        let Some((company, manager)) = scope_params(scope) else {
            return Ok(vec![]);
        };
        let sql = format!(
            "SELECT s.id, s.name, h.level, COUNT(*) FROM device_health h \
             JOIN sites s ON s.id = h.site_id WHERE h.company_id = $1 AND ($2 IS NULL OR s.manager_id = $2) \
             AND {} GROUP BY s.id, s.name, h.level ORDER BY s.name",
            granted_sql(Permission::HealthMonitoring, "s", Some("h.device_id"), "$3")
        );
        let rows: Vec<(String, String, String, i64)> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(&company)
                .bind(manager.clone())
                .bind(now)
                .fetch_all(&mut *c)
                .await)?;
        rows.into_iter()
            .map(|(id, name, level, count)| {
                Ok(SiteHealthCount {
                    site_id: parse("site id", &id)?,
                    site_name: name,
                    level: parse::<Level>("level", &level)?,
                    count,
                })
            })
            .collect()
    }

    /// Every device reached by IP (their alert streams are listened to).
    pub async fn ip_device_ids(&mut self) -> Result<Vec<DeviceId>> {
        let rows: Vec<(String,)> = on_conn!(self, |c| sqlx::query_as(
            "SELECT id FROM devices WHERE connection = 'ip' ORDER BY id"
        )
        .fetch_all(&mut *c)
        .await)?;
        rows.iter().map(|(id,)| parse("device id", id)).collect()
    }

    /// The ids of the devices of one site, or of every site in `scope`, whose
    /// health the company may collect at `now` (R-10: a manual inspection).
    pub async fn device_ids(
        &mut self,
        scope: SiteScope,
        site: Option<SiteId>,
        now: Millis,
    ) -> Result<Vec<DeviceId>> {
        let Some((company, manager)) = scope_params(scope) else {
            return Ok(vec![]);
        };
        let sql = format!(
            "SELECT d.id FROM devices d JOIN sites s ON s.id = d.site_id WHERE d.company_id = $1 \
             AND ($2 IS NULL OR s.manager_id = $2) AND ($3 IS NULL OR d.site_id = $3) AND {} ORDER BY d.id",
            granted_sql(Permission::HealthMonitoring, "s", Some("d.id"), "$4")
        );
        let rows: Vec<(String,)> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(&company)
            .bind(manager.clone())
            .bind(site.map(|s| s.to_string()))
            .bind(now)
            .fetch_all(&mut *c)
            .await)?;
        rows.iter().map(|(id,)| parse("device id", id)).collect()
    }
}

#[derive(sqlx::FromRow)]
struct InspectionRow {
    id: String,
    company_id: String,
    requested_by: Option<String>,
    scope: String,
    scope_id: Option<String>,
    state: String,
    total: i64,
    done: i64,
    failures: i64,
    created_at: i64,
    finished_at: Option<i64>,
}

/// Manual inspections.
impl Handle {
    /// Stores a new inspection.
    pub async fn insert_inspection(&mut self, i: &Inspection) -> Result<()> {
        const SQL: &str = "INSERT INTO inspections (id, company_id, requested_by, scope, scope_id, state, total, \
            done, failures, created_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&i.id)
            .bind(i.company_id.to_string())
            .bind(i.requested_by.map(|u| u.to_string()))
            .bind(&i.scope)
            .bind(&i.scope_id)
            .bind(&i.state)
            .bind(i.total)
            .bind(i.done)
            .bind(i.failures)
            .bind(i.created_at)
            .bind(i.finished_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Writes an inspection's progress.
    pub async fn update_inspection(&mut self, i: &Inspection) -> Result<()> {
        const SQL: &str = "UPDATE inspections SET state = $1, done = $2, failures = $3, finished_at = $4 WHERE id = $5";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&i.state)
            .bind(i.done)
            .bind(i.failures)
            .bind(i.finished_at)
            .bind(&i.id)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// An inspection, if it exists.
    pub async fn inspection(&mut self, id: &str) -> Result<Option<Inspection>> {
        const SQL: &str = "SELECT id, company_id, requested_by, scope, scope_id, state, total, done, failures, \
            created_at, finished_at FROM inspections WHERE id = $1";
        let row: Option<InspectionRow> = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(id)
            .fetch_optional(&mut *c)
            .await)?;
        row.map(|r| {
            Ok(Inspection {
                company_id: parse("company id", &r.company_id)?,
                requested_by: r.requested_by.map(|u| parse("user id", &u)).transpose()?,
                id: r.id,
                scope: r.scope,
                scope_id: r.scope_id,
                state: r.state,
                total: r.total,
                done: r.done,
                failures: r.failures,
                created_at: r.created_at,
                finished_at: r.finished_at,
            })
        })
        .transpose()
    }
}
