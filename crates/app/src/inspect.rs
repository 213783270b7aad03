//! Inspection: reading a device's status over ISAPI, judging it with
//! the core rules, storing it with its history, and telling subscribers what changed.
//!
//! The scheduler claims due devices from the store with a lease (so several nodes can
//! share the work and a restart resumes from the stored due times, not all at once),
//! inspects them with bounded concurrency, and spreads the next due times with
//! jitter. Devices that stay offline are inspected less often (back-off). Manual
//! inspections of a device, a site or everything visible run the same inspection and
//! report progress.

use crate::events::Event;
use crate::sites::{load_site, site_facts};
use crate::{App, AppError, Principal, Result, new_uuid};
use rand::Rng;
use serde::{Deserialize, Serialize};
use siteward_core::handover::Permission;
use siteward_core::health::{self, Level, Reason};
use siteward_core::policy::{Action, Rule, authorize, collects_health, site_scope};
use siteward_core::{DeviceId, SiteId};
use siteward_isapi::{Client, Credentials, HttpConfig};
use siteward_store::{Device, HealthChange, HealthRecord, Inspection};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use utoipa::ToSchema;

/// Clients per device, reused between inspections so the digest nonce and the
/// connection stay warm. Replaced when the device record changes (new credentials).
#[derive(Debug, Default)]
pub(crate) struct Clients {
    by_device: Mutex<HashMap<DeviceId, (i64, Client)>>,
}

impl Clients {
    pub(crate) fn get(&self, app: &App, d: &Device) -> Result<Client> {
        let mut map = self
            .by_device
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((stamp, c)) = map.get(&d.id)
            && *stamp == d.created_at
        {
            return Ok(c.clone());
        }
        if d.connection == siteward_store::Connection::Link {
            // Through its link: authenticated by the link itself.
            let serial = d.link_serial.as_deref().unwrap_or(&d.serial);
            let client = crate::link::LinkTransport::client(app.inner.links.clone(), serial);
            map.insert(d.id, (d.created_at, client.clone()));
            return Ok(client);
        }
        let password = app
            .inner
            .key
            .open(&d.secret, d.id.to_string().as_bytes())
            .map_err(|e| AppError::Internal(format!("device {} secret: {e}", d.id)))?;
        let password = String::from_utf8(password)
            .map_err(|_| AppError::Internal("device secret is not text".into()))?;
        let host = match (&d.host, d.port) {
            (Some(h), Some(p)) => {
                let h = if h.parse::<std::net::Ipv6Addr>().is_ok() {
                    format!("[{h}]")
                } else {
                    h.clone()
                };
                format!("{}://{h}:{p}", if d.https { "https" } else { "http" })
            }
            _ => {
                return Err(AppError::Unprocessable {
                    code: "device.link_unavailable",
                    message: "this device is reached through the device link".into(),
                });
            }
        };
        let mut config = HttpConfig::new(host);
        config.accept_invalid_certs = d.accept_invalid_certs;
        config.connect_timeout = Duration::from_secs(5);
        config.request_timeout = Duration::from_secs(10);
        let client = Client::http(
            config,
            Credentials::new(d.username.clone().unwrap_or_default(), password),
        )
        .map_err(|e| AppError::Internal(format!("client for {}: {e}", d.id)))?;
        map.insert(d.id, (d.created_at, client.clone()));
        Ok(client)
    }

    pub(crate) fn forget(&self, id: DeviceId) {
        self.by_device
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id);
    }
}

/// `POST /api/v1/inspections`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionRequest {
    /// `device`, `site` or `all` (everything you may see).
    pub scope: String,
    /// The device or site id (not for `all`).
    #[serde(default)]
    pub id: Option<String>,
}

/// A manual inspection's progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InspectionView {
    /// Its id.
    pub id: String,
    /// `running` or `done`.
    pub state: String,
    /// Devices inspected.
    pub done: i64,
    /// Devices to inspect.
    pub total: i64,
    /// Devices that could not be inspected (offline or refusing).
    pub failures: i64,
    /// `device`, `site` or `all`.
    pub scope: String,
}

impl From<&Inspection> for InspectionView {
    fn from(i: &Inspection) -> Self {
        Self {
            id: i.id.clone(),
            state: i.state.clone(),
            done: i.done,
            total: i.total,
            failures: i.failures,
            scope: i.scope.clone(),
        }
    }
}

/// What one inspection found.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The verdict.
    pub level: Level,
    /// Whether the level or reasons changed.
    pub changed: bool,
}

fn same_reasons(a: &[Reason], b: &[Reason]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.code == y.code && x.level == y.level && x.text == y.text)
}

impl App {
    /// Inspects one device now: observe, assess, store, emit.
    pub async fn inspect_device(&self, id: DeviceId) -> Result<Inspected> {
        let device = self
            .inner
            .store
            .read()
            .await?
            .device(id)
            .await?
            .ok_or(AppError::NotFound("device"))?;
        let started = self.now();
        {
            // a handed-over site's health is collected only while its company
            // holds the health-monitoring permission for the device; otherwise the
            // device is looked at again an interval later (an approval makes it
            // due at once).
            let mut h = self.inner.store.read().await?;
            let site = load_site(&mut h, device.site_id).await?;
            let facts = site_facts(&mut h, &site, started).await?;
            if !collects_health(&facts, Some(device.id)) {
                h.make_due(id, started + self.inner.config.inspection_interval_ms)
                    .await?;
                return Err(AppError::Forbidden(Rule::AuthorizationRequired(
                    Permission::HealthMonitoring,
                )));
            }
        }
        let client = self.inner.clients.get(self, &device)?;
        let obs = crate::observe::observe(&client, device.device_type).await;
        let verdict = health::assess(device.device_type, &obs);
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        // The device may have been deleted while it was being inspected.
        if h.device(id).await?.is_none() {
            return Err(AppError::NotFound("device"));
        }
        // Compared with what is stored now, inside the transaction: another
        // inspection of the same device may have finished meanwhile. Observations
        // are ordered by when they started (that is what `last_inspected_at`
        // holds): one that started earlier but finished later is stale, and must
        // not overwrite a fault seen by a later one.
        let previous = h.health_for_update(id).await?;
        if let Some(p) = previous
            .as_ref()
            .filter(|p| p.last_inspected_at.is_some_and(|t| t > started))
        {
            // A newer observation is already stored; this one is stale.
            return Ok(Inspected {
                level: p.level,
                changed: false,
            });
        }
        let streak = if obs.reachable {
            0
        } else {
            previous.as_ref().map_or(0, |p| p.offline_streak) + 1
        };
        let interval = self.inner.config.inspection_interval_ms;
        // Devices that stay offline are asked less often: 2, 4, then 6 intervals apart,
        // but never less often than hourly.
        let factor = match streak {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 6,
        };
        let base = (interval * factor).min(interval.max(3_600_000));
        // ±5 % jitter keeps a fleet added at once from being inspected in lockstep.
        let jitter = rand::rng().random_range(0..=(base / 10).max(1));
        let (prev_level, prev_reasons) =
            previous.as_ref().map_or((Level::Unknown, Vec::new()), |p| {
                (p.level, p.reasons.clone())
            });
        let changed = prev_level != verdict.level || !same_reasons(&prev_reasons, &verdict.reasons);
        let record = HealthRecord {
            device_id: device.id,
            company_id: device.company_id,
            site_id: device.site_id,
            level: verdict.level,
            reasons: verdict.reasons.clone(),
            observation: serde_json::to_value(&obs).unwrap_or_default(),
            last_inspected_at: Some(started),
            next_due_at: now + base - base / 20 + jitter,
            offline_streak: streak,
            updated_at: now,
        };
        h.upsert_health(&record).await?;
        if changed {
            h.insert_health_change(&HealthChange {
                id: new_uuid().to_string(),
                device_id: device.id,
                at: now,
                level: verdict.level,
                reasons: verdict.reasons.clone(),
            })
            .await?;
        }
        h.update_device_seen(device.id, obs.reachable, None, now)
            .await?;
        h.commit().await?;
        if changed {
            self.inner.events.publish(Event::HealthChanged {
                company_id: device.company_id,
                site_id: device.site_id,
                device_id: device.id,
                name: device.name.clone(),
                level: verdict.level,
                previous: prev_level,
                reasons: verdict.reasons,
                at: crate::rfc3339(now),
            });
        }
        Ok(Inspected {
            level: record.level,
            changed,
        })
    }

    /// Makes a device due for inspection now and wakes the scheduler (an event came
    /// from the device, or someone asked).
    pub async fn nudge(&self, id: DeviceId) -> Result<()> {
        self.inner
            .store
            .read()
            .await?
            .make_due(id, self.now())
            .await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Runs the scheduler until `stop` turns true: claims due devices and inspects
    /// them, at most `inspection_concurrency` at a time.
    pub async fn run_scheduler(self, mut stop: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.inner.config.inspection_concurrency));
        let lease = 5 * 60 * 1000;
        loop {
            if *stop.borrow() {
                break;
            }
            let available = permits.available_permits() as i64;
            let claimed = if available > 0 {
                let now = self.now();
                match self.inner.store.read().await {
                    Ok(mut h) => h
                        .claim_due(now, now + lease, available)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "claiming due inspections failed");
                            Vec::new()
                        }),
                    Err(e) => {
                        tracing::warn!(error = %e, "store unavailable for the scheduler");
                        Vec::new()
                    }
                }
            } else {
                Vec::new()
            };
            let busy = !claimed.is_empty();
            for id in claimed {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let app = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = app.inspect_device(id).await {
                        tracing::debug!(device = %id, error = %e, "inspection failed");
                    }
                    drop(permit);
                });
            }
            if busy && permits.available_permits() > 0 {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = self.inner.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Starts a manual inspection of a device, a site, or everything the person may
    /// see; returns at once with its id.
    pub async fn start_inspection(
        &self,
        p: &Principal,
        req: InspectionRequest,
    ) -> Result<InspectionView> {
        let company_id = p.company_id().ok_or(AppError::NotFound("company"))?;
        let now = self.now();
        let mut h = self.inner.store.read().await?;
        let ids: Vec<DeviceId> = match (req.scope.as_str(), req.id.as_deref()) {
            ("all", None) => h.device_ids(site_scope(&p.actor), None, now).await?,
            ("site", Some(raw)) => {
                let site_id: SiteId = raw.parse().map_err(|_| AppError::NotFound("site"))?;
                let site = load_site(&mut h, site_id).await?;
                let facts = site_facts(&mut h, &site, now).await?;
                authorize(&p.actor, Action::ViewHealth(&facts))
                    .map_err(AppError::refused("site"))?;
                h.device_ids(site_scope(&p.actor), Some(site.id), now)
                    .await?
            }
            ("device", Some(raw)) => {
                let id: DeviceId = raw.parse().map_err(|_| AppError::NotFound("device"))?;
                let device = h.device(id).await?.ok_or(AppError::NotFound("device"))?;
                let site = load_site(&mut h, device.site_id).await?;
                let facts = site_facts(&mut h, &site, now).await?;
                authorize(
                    &p.actor,
                    Action::Operate {
                        site: &facts,
                        permission: Permission::HealthMonitoring,
                        device: Some(device.id),
                    },
                )
                .map_err(AppError::refused("device"))?;
                vec![device.id]
            }
            ("all", Some(_)) => return Err(AppError::invalid("id", "is not used with scope all")),
            ("site" | "device", None) => {
                return Err(AppError::invalid(
                    "id",
                    "is required with scope site or device",
                ));
            }
            _ => return Err(AppError::invalid("scope", "must be device, site or all")),
        };
        let mut inspection = Inspection {
            id: new_uuid().to_string(),
            company_id,
            requested_by: Some(p.user.id),
            scope: req.scope,
            scope_id: req.id,
            state: if ids.is_empty() {
                "done".into()
            } else {
                "running".into()
            },
            total: ids.len() as i64,
            done: 0,
            failures: 0,
            created_at: now,
            finished_at: if ids.is_empty() { Some(now) } else { None },
        };
        h.insert_inspection(&inspection).await?;
        drop(h);
        let view = InspectionView::from(&inspection);
        if ids.is_empty() {
            return Ok(view);
        }
        let app = self.clone();
        tokio::spawn(async move {
            let progress = Arc::new(Mutex::new((0i64, 0i64)));
            let mut reported_at = 0i64;
            let permits = Arc::new(Semaphore::new(app.inner.config.inspection_concurrency));
            let mut tasks = tokio::task::JoinSet::new();
            for id in ids {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let (worker, counts) = (app.clone(), progress.clone());
                tasks.spawn(async move {
                    let ok = matches!(worker.inspect_device(id).await, Ok(i) if i.level != Level::Offline);
                    let mut p = counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    p.0 += 1;
                    p.1 += i64::from(!ok);
                    drop(permit);
                });
                app.report_progress(&mut inspection, &progress, &mut reported_at, false)
                    .await;
            }
            while tasks.join_next().await.is_some() {
                app.report_progress(&mut inspection, &progress, &mut reported_at, false)
                    .await;
            }
            app.report_progress(&mut inspection, &progress, &mut reported_at, true)
                .await;
        });
        Ok(view)
    }

    /// Stores and publishes an inspection's progress: at most every 250 ms while it
    /// runs, and once at the end.
    async fn report_progress(
        &self,
        i: &mut Inspection,
        progress: &Mutex<(i64, i64)>,
        reported_at: &mut i64,
        last: bool,
    ) {
        let (done, failures) = *progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.now();
        if !last && (done == i.done || now - *reported_at < 250) {
            return;
        }
        *reported_at = now;
        i.done = done;
        i.failures = failures;
        if last {
            i.state = "done".into();
            i.finished_at = Some(now);
        }
        if let Ok(mut h) = self.inner.store.read().await
            && let Err(e) = h.update_inspection(i).await
        {
            tracing::warn!(error = %e, "inspection progress not stored");
        }
        self.inner.events.publish(Event::InspectionProgress {
            company_id: i.company_id,
            id: i.id.clone(),
            done: i.done,
            total: i.total,
            failures: i.failures,
            state: i.state.clone(),
        });
    }

    /// A manual inspection's progress.
    pub async fn inspection(&self, p: &Principal, id: &str) -> Result<InspectionView> {
        let found = self.inner.store.read().await?.inspection(id).await?;
        match found {
            Some(i) if Some(i.company_id) == p.company_id() => Ok(InspectionView::from(&i)),
            _ => Err(AppError::NotFound("inspection")),
        }
    }
}
