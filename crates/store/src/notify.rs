//! Notification queries: exception rules, the notifications people read, the
//! company's webhook and the queue of outgoing deliveries.

use crate::db::{Conn, Handle};
use crate::repo::Page;
use crate::repo::{parse, parse_opt};
use crate::{Result, StoreError};
use siteward_core::health::Reason;
use siteward_core::notify::ExceptionRule;
use siteward_core::{CompanyId, DeviceId, Millis, Role, SiteId, UserId};

fn from_json<T: serde::de::DeserializeOwned>(what: &str, v: &str) -> Result<T> {
    serde_json::from_str(v).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("encoding: {e}")))
}

/// A notification for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Its id (UUID v7 text).
    pub id: String,
    /// The company.
    pub company_id: CompanyId,
    /// The recipient.
    pub user_id: UserId,
    /// The site concerned.
    pub site_id: Option<SiteId>,
    /// The device concerned.
    pub device_id: Option<DeviceId>,
    /// The device's level when it was written.
    pub level: String,
    /// One line.
    pub title: String,
    /// The details.
    pub body: String,
    /// When it was written.
    pub created_at: Millis,
    /// When its recipient read it.
    pub read_at: Option<Millis>,
    /// `exception`, `reminder` or `recovered`.
    pub kind: String,
    /// When someone acknowledged the problem it tells of.
    pub acknowledged_at: Option<Millis>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<UserId>,
}

/// A company's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The company.
    pub company_id: CompanyId,
    /// Where events are posted.
    pub url: String,
    /// The signing secret, sealed under the master key.
    pub secret: String,
    /// When it was last set.
    pub updated_at: Millis,
}

/// One outgoing message (webhook call or e-mail) and its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id; also the message id the receiver sees.
    pub id: String,
    /// The company.
    pub company_id: CompanyId,
    /// The notification it tells of, if any.
    pub notification_id: Option<String>,
    /// `webhook` or `email`.
    pub channel: String,
    /// The URL or the e-mail address.
    pub target: String,
    /// The body sent.
    pub payload: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: i32,
    /// When to try next (pending only).
    pub next_attempt_at: Millis,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Millis,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: String,
    company_id: String,
    site_id: Option<String>,
    device_id: Option<String>,
    exceptions: String,
    recipients: String,
    channels: String,
    schedule: String,
}

impl TryFrom<RuleRow> for ExceptionRule {
    type Error = StoreError;
    fn try_from(r: RuleRow) -> Result<Self> {
        Ok(ExceptionRule {
            company_id: parse("company id", &r.company_id)?,
            site_id: parse_opt("site id", r.site_id)?,
            device_id: parse_opt("device id", r.device_id)?,
            exceptions: from_json("exceptions", &r.exceptions)?,
            recipients: from_json("recipients", &r.recipients)?,
            channels: from_json("channels", &r.channels)?,
            schedule: from_json("schedule", &r.schedule)?,
            id: r.id,
        })
    }
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: String,
    company_id: String,
    user_id: String,
    site_id: Option<String>,
    device_id: Option<String>,
    level: String,
    title: String,
    body: String,
    created_at: i64,
    read_at: Option<i64>,
    kind: String,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = StoreError;
    fn try_from(r: NotificationRow) -> Result<Self> {
        Ok(Notification {
            company_id: parse("company id", &r.company_id)?,
            user_id: parse("user id", &r.user_id)?,
            site_id: parse_opt("site id", r.site_id)?,
            device_id: parse_opt("device id", r.device_id)?,
            id: r.id,
            level: r.level,
            title: r.title,
            body: r.body,
            created_at: r.created_at,
            read_at: r.read_at,
            kind: r.kind,
            acknowledged_at: r.acknowledged_at,
            acknowledged_by: parse_opt("user id", r.acknowledged_by)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    company_id: String,
    notification_id: Option<String>,
    channel: String,
    target: String,
    payload: String,
    state: String,
    attempts: i32,
    next_attempt_at: i64,
    last_error: Option<String>,
    created_at: i64,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;
    fn try_from(r: DeliveryRow) -> Result<Self> {
        Ok(Delivery {
            company_id: parse("company id", &r.company_id)?,
            id: r.id,
            notification_id: r.notification_id,
            channel: r.channel,
            target: r.target,
            payload: r.payload,
            state: r.state,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            created_at: r.created_at,
        })
    }
}

const RULE_COLS: &str =
    "id, company_id, site_id, device_id, exceptions, recipients, channels, schedule";
const NOTE_COLS: &str = "id, company_id, user_id, site_id, device_id, level, title, body, \
    created_at, read_at, kind, acknowledged_at, acknowledged_by";
const DELIVERY_COLS: &str = "id, company_id, notification_id, channel, target, payload, state, \
    attempts, next_attempt_at, last_error, created_at";

/// Notifications.
impl Handle {
    /// The company's exception rules, oldest first.
    pub async fn exception_rules(&mut self, company: CompanyId) -> Result<Vec<ExceptionRule>> {
        let sql =
            format!("SELECT {RULE_COLS} FROM exception_rules WHERE company_id = $1 ORDER BY id");
        let rows: Vec<RuleRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(company.to_string())
                .fetch_all(&mut *c)
                .await)?;
        rows.into_iter().map(ExceptionRule::try_from).collect()
    }

    /// One exception rule.
    pub async fn exception_rule(&mut self, id: &str) -> Result<Option<ExceptionRule>> {
        let sql = format!("SELECT {RULE_COLS} FROM exception_rules WHERE id = $1");
        let row: Option<RuleRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(&mut *c)
                .await)?;
        row.map(ExceptionRule::try_from).transpose()
    }

    /// Writes an exception rule (insert or replace).
    pub async fn save_exception_rule(&mut self, r: &ExceptionRule, now: Millis) -> Result<()> {
        const SQL: &str = "INSERT INTO exception_rules (id, company_id, site_id, device_id, exceptions, \
            recipients, channels, schedule, created_at, updated_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
            ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, device_id = excluded.device_id, \
            exceptions = excluded.exceptions, recipients = excluded.recipients, \
            channels = excluded.channels, schedule = excluded.schedule, updated_at = excluded.updated_at";
        let (ex, rc, ch, sc) = (
            to_json(&r.exceptions)?,
            to_json(&r.recipients)?,
            to_json(&r.channels)?,
            to_json(&r.schedule)?,
        );
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&r.id)
            .bind(r.company_id.to_string())
            .bind(r.site_id.map(|v| v.to_string()))
            .bind(r.device_id.map(|v| v.to_string()))
            .bind(&ex)
            .bind(&rc)
            .bind(&ch)
            .bind(&sc)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Deletes an exception rule.
    pub async fn delete_exception_rule(&mut self, id: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM exception_rules WHERE id = $1";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The active Installer Admins of a company.
    pub async fn active_admins(&mut self, company: CompanyId) -> Result<Vec<UserId>> {
        const SQL: &str =
            "SELECT id FROM users WHERE company_id = $1 AND role = $2 AND active = $3 ORDER BY id";
        let ids: Vec<(String,)> = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(company.to_string())
            .bind(Role::InstallerAdmin.as_str())
            .bind(true)
            .fetch_all(&mut *c)
            .await)?;
        ids.into_iter().map(|(id,)| parse("user id", &id)).collect()
    }

    /// Writes a notification.
    pub async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
        let sql = format!(
            "INSERT INTO notifications ({NOTE_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        on_conn!(self, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&n.id)
            .bind(n.company_id.to_string())
            .bind(n.user_id.to_string())
            .bind(n.site_id.map(|v| v.to_string()))
            .bind(n.device_id.map(|v| v.to_string()))
            .bind(&n.level)
            .bind(&n.title)
            .bind(&n.body)
            .bind(n.created_at)
            .bind(n.read_at)
            .bind(&n.kind)
            .bind(n.acknowledged_at)
            .bind(n.acknowledged_by.map(|v| v.to_string()))
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A person's notifications, newest first (`cursor`: the last id of the previous page).
    pub async fn notifications_of(
        &mut self,
        user: UserId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Notification>> {
        let sql = format!(
            "SELECT {NOTE_COLS} FROM notifications WHERE user_id = $1 AND ($2 = '' OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<NotificationRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(user.to_string())
                .bind(cursor.unwrap_or(""))
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *c)
                .await)?;
        let mut items = rows
            .into_iter()
            .map(Notification::try_from)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|n| n.id.clone())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// How many of a person's notifications are unread.
    pub async fn count_unread(&mut self, user: UserId) -> Result<i64> {
        const SQL: &str =
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL";
        let (n,): (i64,) = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(user.to_string())
            .fetch_one(&mut *c)
            .await)?;
        Ok(n)
    }

    /// Marks a person's notification read; false when it is not theirs or not there.
    pub async fn mark_read(&mut self, user: UserId, id: &str, now: Millis) -> Result<bool> {
        const SQL: &str = "UPDATE notifications SET read_at = COALESCE(read_at, $1) \
            WHERE id = $2 AND user_id = $3";
        let n = on_conn!(self, |c| sqlx::query(SQL)
            .bind(now)
            .bind(id)
            .bind(user.to_string())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Sets the company's webhook (insert or replace).
    pub async fn set_webhook(&mut self, w: &Webhook) -> Result<()> {
        const SQL: &str = "INSERT INTO webhooks (company_id, url, secret, updated_at) \
            VALUES ($1, $2, $3, $4) ON CONFLICT (company_id) DO UPDATE SET url = excluded.url, \
            secret = excluded.secret, updated_at = excluded.updated_at";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(w.company_id.to_string())
            .bind(&w.url)
            .bind(&w.secret)
            .bind(w.updated_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The company's webhook, if set.
    pub async fn webhook(&mut self, company: CompanyId) -> Result<Option<Webhook>> {
        const SQL: &str =
            "SELECT company_id, url, secret, updated_at FROM webhooks WHERE company_id = $1";
        let row: Option<(String, String, String, i64)> = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(company.to_string())
            .fetch_optional(&mut *c)
            .await)?;
        row.map(|(c, url, secret, updated_at)| {
            Ok(Webhook {
                company_id: parse("company id", &c)?,
                url,
                secret,
                updated_at,
            })
        })
        .transpose()
    }

    /// Queues a delivery.
    pub async fn insert_delivery(&mut self, d: &Delivery) -> Result<()> {
        let sql = format!(
            "INSERT INTO deliveries ({DELIVERY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        on_conn!(self, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&d.id)
            .bind(d.company_id.to_string())
            .bind(&d.notification_id)
            .bind(&d.channel)
            .bind(&d.target)
            .bind(&d.payload)
            .bind(&d.state)
            .bind(d.attempts)
            .bind(d.next_attempt_at)
            .bind(&d.last_error)
            .bind(d.created_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Claims up to `limit` pending deliveries due by `now`, oldest first: moves their
    /// next attempt to `lease_until`, so no other node sends them meanwhile (a node
    /// that dies mid-send leaves them to be retried when the lease ends).
    pub async fn claim_deliveries(
        &mut self,
        now: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let pick = "SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at, id LIMIT $3";
        let lock = match self.conn() {
            Conn::Sqlite(_) => "",
            Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE deliveries SET next_attempt_at = $1 WHERE id IN ({pick}{lock}) \
             RETURNING {DELIVERY_COLS}"
        );
        let rows: Vec<DeliveryRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *c)
                .await)?;
        let mut out: Vec<Delivery> = rows
            .into_iter()
            .map(Delivery::try_from)
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// One delivery.
    pub async fn delivery(&mut self, id: &str) -> Result<Option<Delivery>> {
        let sql = format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE id = $1");
        let row: Option<DeliveryRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Delivery::try_from).transpose()
    }

    /// Records an attempt: the new state, attempt count, next time and error.
    pub async fn update_delivery(&mut self, d: &Delivery) -> Result<()> {
        const SQL: &str = "UPDATE deliveries SET state = $1, attempts = $2, next_attempt_at = $3, \
            last_error = $4 WHERE id = $5";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&d.state)
            .bind(d.attempts)
            .bind(d.next_attempt_at)
            .bind(&d.last_error)
            .bind(&d.id)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// What the notifier last told of a device: the reasons (none: it recovered),
/// when, how many reminders followed, and who acknowledged it. Shared by every node;
/// `version` makes each change a compare-and-set, so one node tells each change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAlert {
    /// The device.
    pub device_id: DeviceId,
    /// Its company.
    pub company_id: CompanyId,
    /// Its site.
    pub site_id: SiteId,
    /// Its name when told.
    pub name: String,
    /// Its level when told.
    pub level: String,
    /// The reasons told; empty once it recovered.
    pub reasons: Vec<Reason>,
    /// When the ongoing problem began (first told).
    pub opened_at: Millis,
    /// When it was last told (first notification or reminder).
    pub last_told_at: Millis,
    /// Reminders sent for the ongoing problem.
    pub reminders: i32,
    /// When someone acknowledged it.
    pub acknowledged_at: Option<Millis>,
    /// Who.
    pub acknowledged_by: Option<UserId>,
    /// Changes so far.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    device_id: String,
    company_id: String,
    site_id: String,
    name: String,
    level: String,
    reasons: String,
    opened_at: i64,
    last_told_at: i64,
    reminders: i32,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    version: i64,
}

impl TryFrom<AlertRow> for DeviceAlert {
    type Error = StoreError;
    fn try_from(r: AlertRow) -> Result<Self> {
        Ok(DeviceAlert {
            device_id: parse("device id", &r.device_id)?,
            company_id: parse("company id", &r.company_id)?,
            site_id: parse("site id", &r.site_id)?,
            reasons: from_json("reasons", &r.reasons)?,
            acknowledged_by: parse_opt("user id", r.acknowledged_by)?,
            name: r.name,
            level: r.level,
            opened_at: r.opened_at,
            last_told_at: r.last_told_at,
            reminders: r.reminders,
            acknowledged_at: r.acknowledged_at,
            version: r.version,
        })
    }
}

const ALERT_COLS: &str = "device_id, company_id, site_id, name, level, reasons, opened_at, \
    last_told_at, reminders, acknowledged_at, acknowledged_by, version";

/// Device alerts.
impl Handle {
    /// What was last told of a device.
    pub async fn device_alert(&mut self, device: DeviceId) -> Result<Option<DeviceAlert>> {
        let sql = format!("SELECT {ALERT_COLS} FROM device_alerts WHERE device_id = $1");
        let row: Option<AlertRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(device.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(DeviceAlert::try_from).transpose()
    }

    /// Writes `a` (with `a.version` already advanced) if the stored version is still
    /// `expected` (`None`: no row yet). `false`: another node told this change first.
    pub async fn save_device_alert(
        &mut self,
        a: &DeviceAlert,
        expected: Option<i64>,
    ) -> Result<bool> {
        let reasons = to_json(&a.reasons)?;
        let sql = format!(
            "INSERT INTO device_alerts ({ALERT_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (device_id) DO UPDATE SET company_id = excluded.company_id, \
             site_id = excluded.site_id, name = excluded.name, level = excluded.level, \
             reasons = excluded.reasons, opened_at = excluded.opened_at, \
             last_told_at = excluded.last_told_at, reminders = excluded.reminders, \
             acknowledged_at = excluded.acknowledged_at, \
             acknowledged_by = excluded.acknowledged_by, version = excluded.version \
             WHERE device_alerts.version = $13"
        );
        let done = on_conn!(self, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(a.device_id.to_string())
            .bind(a.company_id.to_string())
            .bind(a.site_id.to_string())
            .bind(&a.name)
            .bind(&a.level)
            .bind(&reasons)
            .bind(a.opened_at)
            .bind(a.last_told_at)
            .bind(a.reminders)
            .bind(a.acknowledged_at)
            .bind(a.acknowledged_by.map(|v| v.to_string()))
            .bind(a.version)
            .bind(expected.unwrap_or(-1))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Claims up to `limit` ongoing, unacknowledged problems last told at or before
    /// `told_before`: records a reminder at `now` and returns them, each claimed by
    /// one node only.
    pub async fn claim_reminders(
        &mut self,
        now: Millis,
        told_before: Millis,
        limit: i64,
    ) -> Result<Vec<DeviceAlert>> {
        // a handed-over site's problems are told only while its company holds
        // the health-monitoring permission for the device.
        let pick = format!(
            "SELECT device_id FROM device_alerts WHERE acknowledged_at IS NULL \
             AND reasons <> '[]' AND last_told_at <= $2 AND device_id IN \
             (SELECT d.id FROM devices d JOIN sites s ON s.id = d.site_id WHERE {}) \
             ORDER BY last_told_at LIMIT $3",
            crate::handover::granted_sql(
                siteward_core::handover::Permission::HealthMonitoring,
                "s",
                Some("d.id"),
                "$1"
            )
        );
        let lock = match self.conn() {
            Conn::Sqlite(_) => "",
            Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE device_alerts SET last_told_at = $1, reminders = reminders + 1, \
             version = version + 1 WHERE device_id IN ({pick}{lock}) RETURNING {ALERT_COLS}"
        );
        let rows: Vec<AlertRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(now)
                .bind(told_before)
                .bind(limit)
                .fetch_all(&mut *c)
                .await)?;
        rows.into_iter().map(DeviceAlert::try_from).collect()
    }

    /// Records that `user` acknowledged the device's ongoing problem at `now`: no more
    /// reminders until it changes, and its notifications show who took it on.
    /// `false`: there is nothing to acknowledge (recovered, or already acknowledged).
    pub async fn acknowledge_alert(
        &mut self,
        device: DeviceId,
        user: UserId,
        now: Millis,
    ) -> Result<bool> {
        let done = on_conn!(self, |c| sqlx::query(
            "UPDATE device_alerts SET acknowledged_at = $1, acknowledged_by = $2, \
             version = version + 1 \
             WHERE device_id = $3 AND acknowledged_at IS NULL AND reasons <> '[]'"
        )
        .bind(now)
        .bind(user.to_string())
        .bind(device.to_string())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Ok(false);
        }
        on_conn!(self, |c| sqlx::query(
            "UPDATE notifications SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE device_id = $3 AND acknowledged_at IS NULL AND kind <> 'recovered'"
        )
        .bind(now)
        .bind(user.to_string())
        .bind(device.to_string())
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
        Ok(true)
    }

    /// One of a person's notifications.
    pub async fn notification_of(
        &mut self,
        user: UserId,
        id: &str,
    ) -> Result<Option<Notification>> {
        let sql = format!("SELECT {NOTE_COLS} FROM notifications WHERE id = $1 AND user_id = $2");
        let row: Option<NotificationRow> =
            on_conn!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .bind(user.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Notification::try_from).transpose()
    }
}
