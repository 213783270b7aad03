//! Reading health: the list worst first with filters, the
//! per-site summary, one device's full status and history, and refreshing what a
//! person sees without making the page wait.

use crate::sites::{load_site, site_facts};
use crate::{App, AppError, Principal, Result};
use serde::{Deserialize, Serialize};
use siteward_core::handover::Permission;
use siteward_core::health::{Level, Observation, Reason};
use siteward_core::policy::{Action, authorize, site_scope};
use siteward_core::{DeviceId, DeviceType, SiteId};
use siteward_store::{HealthFilter, HealthRow, Page};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// `GET /api/v1/health` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct HealthQuery {
    /// Only this site.
    pub site_id: Option<String>,
    /// Only this type (`ipc`, `nvr`, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub device_type: Option<String>,
    /// Only this level (`offline`, `abnormal`, `warning`, `unknown`, `normal`).
    pub level: Option<String>,
    /// Name or serial number contains this.
    pub q: Option<String>,
}

impl HealthQuery {
    fn filter(&self) -> Result<HealthFilter> {
        let blank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Ok(HealthFilter {
            site_id: blank(&self.site_id)
                .map(|s| s.parse().map_err(|_| AppError::invalid("site_id", "is not a site id")))
                .transpose()?,
            device_type: blank(&self.device_type)
                .map(|t| t.parse::<DeviceType>().map_err(|_| AppError::invalid("type", "must be ipc, nvr, dvr, control_panel, access_control, video_intercom or doorbell")))
                .transpose()?,
            level: blank(&self.level)
                .map(|l| l.parse::<Level>().map_err(|_| AppError::invalid("level", "must be offline, abnormal, warning, unknown or normal")))
                .transpose()?,
            search: blank(&self.q).map(|q| q.chars().take(100).collect()),
        })
    }
}

/// A reason as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonView {
    /// Stable code, such as `hdd.error:2`.
    pub code: String,
    /// Plain words, such as "HDD 2: error".
    pub text: String,
    /// This reason's level.
    pub level: &'static str,
}

impl From<&Reason> for ReasonView {
    fn from(r: &Reason) -> Self {
        Self {
            code: r.code.clone(),
            text: r.text.clone(),
            level: r.level.as_str(),
        }
    }
}

/// One device on the Health list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthItem {
    /// Device id.
    pub device_id: String,
    /// Site id.
    pub site_id: String,
    /// Site name.
    pub site_name: String,
    /// Device name.
    pub name: String,
    /// Serial number.
    pub serial: String,
    /// Model.
    pub model: String,
    /// Device type.
    #[serde(rename = "type")]
    pub device_type: &'static str,
    /// Overall level.
    pub level: &'static str,
    /// Why, worst first.
    pub reasons: Vec<ReasonView>,
    /// When last inspected, RFC 3339.
    pub last_inspected_at: Option<String>,
}

impl From<HealthRow> for HealthItem {
    fn from(r: HealthRow) -> Self {
        Self {
            device_id: r.device_id.to_string(),
            site_id: r.site_id.to_string(),
            site_name: r.site_name,
            name: r.name,
            serial: r.serial,
            model: r.model,
            device_type: r.device_type.as_str(),
            level: r.level.as_str(),
            reasons: r.reasons.iter().map(ReasonView::from).collect(),
            last_inspected_at: r.last_inspected_at.map(crate::rfc3339),
        }
    }
}

/// Counts by level for one site, worst first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteHealth {
    /// Site id.
    pub site_id: String,
    /// Site name.
    pub site_name: String,
    /// Devices per level.
    pub counts: BTreeMap<String, i64>,
    /// The worst level present.
    pub worst: &'static str,
    /// All devices.
    pub total: i64,
}

/// One disk as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StorageView {
    /// The device's id for it.
    pub id: u32,
    /// `hdd`, `sd` or `nas`.
    pub kind: String,
    /// Status.
    pub status: String,
    /// Capacity in MiB.
    pub capacity_mb: Option<u64>,
    /// Free space in MiB.
    pub free_mb: Option<u64>,
    /// Used, in percent.
    pub usage_pct: Option<u8>,
    /// S.M.A.R.T., where read.
    #[schema(value_type = Option<Object>)]
    pub smart: Option<serde_json::Value>,
}

/// One channel as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelView {
    /// Channel number.
    pub id: u32,
    /// Name.
    pub name: Option<String>,
    /// Camera address.
    pub address: Option<String>,
    /// Whether the camera is connected.
    pub online: bool,
    /// Whether video is lost.
    pub video_loss: bool,
}

/// `GET /api/v1/devices/{id}/health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceHealthView {
    /// Overall level.
    pub level: &'static str,
    /// Why, worst first.
    pub reasons: Vec<ReasonView>,
    /// When last inspected, RFC 3339.
    pub last_inspected_at: Option<String>,
    /// Whether the device answered.
    pub reachable: bool,
    /// Network status.
    #[schema(value_type = Option<Object>)]
    pub network: Option<serde_json::Value>,
    /// Disks and cards.
    pub storage: Vec<StorageView>,
    /// Recorder channels.
    pub channels: Vec<ChannelView>,
    /// Recording (overwrite, exceptions).
    #[schema(value_type = Option<Object>)]
    pub recording: Option<serde_json::Value>,
    /// Battery in percent (control panels).
    pub battery: Option<u8>,
    /// Link type (control panels and Wi-Fi/cellular devices).
    pub link: Option<String>,
    /// The whole control-panel status (areas, zones, mains).
    #[schema(value_type = Option<Object>)]
    pub panel: Option<serde_json::Value>,
    /// Changes of level or reasons, newest first.
    pub history: Vec<HistoryView>,
}

/// One change in a device's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryView {
    /// When, RFC 3339.
    pub at: String,
    /// The level from then on.
    pub level: &'static str,
    /// The reasons from then on.
    pub reasons: Vec<ReasonView>,
}

fn json<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl App {
    /// Devices with their health, worst first, filtered.
    pub async fn health_list(
        &self,
        p: &Principal,
        q: &HealthQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<HealthItem>> {
        let filter = q.filter()?;
        let now = self.now();
        let mut h = self.inner.store.read().await?;
        // Asked for one site: say so when its health is not the company's to see
        // rather than answer with an empty list.
        if let Some(site_id) = filter.site_id {
            let site = load_site(&mut h, site_id).await?;
            let facts = site_facts(&mut h, &site, now).await?;
            authorize(&p.actor, Action::ViewHealth(&facts)).map_err(AppError::refused("site"))?;
        }
        let page = h
            .health_list(site_scope(&p.actor), &filter, cursor, limit, now)
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(HealthItem::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Counts by level per site, sites with the worst devices first.
    pub async fn health_summary(&self, p: &Principal) -> Result<Vec<SiteHealth>> {
        let rows = self
            .inner
            .store
            .read()
            .await?
            .health_summary(site_scope(&p.actor), self.now())
            .await?;
        let mut by_site: BTreeMap<SiteId, SiteHealth> = BTreeMap::new();
        let mut worst_rank: BTreeMap<SiteId, u8> = BTreeMap::new();
        for r in rows {
            let e = by_site.entry(r.site_id).or_insert_with(|| SiteHealth {
                site_id: r.site_id.to_string(),
                site_name: r.site_name.clone(),
                counts: BTreeMap::new(),
                worst: Level::Normal.as_str(),
                total: 0,
            });
            e.counts.insert(r.level.as_str().to_owned(), r.count);
            e.total += r.count;
            let rank = worst_rank.entry(r.site_id).or_insert(0);
            if r.level.rank() >= *rank {
                *rank = r.level.rank();
                e.worst = r.level.as_str();
            }
        }
        let mut out: Vec<(u8, SiteHealth)> = by_site
            .into_iter()
            .map(|(id, s)| (worst_rank.get(&id).copied().unwrap_or(0), s))
            .collect();
        out.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.site_name.cmp(&b.1.site_name))
        });
        Ok(out.into_iter().map(|(_, s)| s).collect())
    }

    /// One device's full status and history.
    pub async fn device_health(&self, p: &Principal, id: DeviceId) -> Result<DeviceHealthView> {
        let mut h = self.inner.store.read().await?;
        let device = h.device(id).await?.ok_or(AppError::NotFound("device"))?;
        let site = load_site(&mut h, device.site_id).await?;
        let facts = site_facts(&mut h, &site, self.now()).await?;
        authorize(
            &p.actor,
            Action::Operate {
                site: &facts,
                permission: Permission::HealthMonitoring,
                device: Some(device.id),
            },
        )
        .map_err(AppError::refused("device"))?;
        let record = h.health(id).await?;
        let history = h.health_history(id, 50).await?;
        let obs: Observation = record
            .as_ref()
            .and_then(|r| serde_json::from_value(r.observation.clone()).ok())
            .unwrap_or_default();
        let (level, reasons, last) = record
            .as_ref()
            .map_or((Level::Unknown, Vec::new(), None), |r| {
                (r.level, r.reasons.clone(), r.last_inspected_at)
            });
        Ok(DeviceHealthView {
            level: level.as_str(),
            reasons: reasons.iter().map(ReasonView::from).collect(),
            last_inspected_at: last.map(crate::rfc3339),
            reachable: obs.reachable,
            network: obs.network.as_ref().and_then(json),
            storage: obs
                .storage
                .iter()
                .map(|d| StorageView {
                    id: d.id,
                    kind: name(&d.kind),
                    status: name(&d.status),
                    capacity_mb: d.capacity_mb,
                    free_mb: d.free_mb,
                    usage_pct: match (d.capacity_mb, d.free_mb) {
                        (Some(c), Some(f)) if c > 0 => {
                            Some((((c.saturating_sub(f)) * 100) / c).min(100) as u8)
                        }
                        _ => None,
                    },
                    smart: d.smart.as_ref().and_then(json),
                })
                .collect(),
            channels: obs
                .channels
                .iter()
                .map(|c| ChannelView {
                    id: c.id,
                    name: c.name.clone(),
                    address: c.address.clone(),
                    online: c.online,
                    video_loss: c.video_loss,
                })
                .collect(),
            recording: obs.recording.as_ref().and_then(json),
            battery: obs.panel.as_ref().and_then(|p| p.battery_pct),
            link: obs
                .network
                .as_ref()
                .and_then(|n| n.link_type)
                .map(|l| name(&l)),
            panel: obs.panel.as_ref().and_then(json),
            history: history
                .iter()
                .map(|c| HistoryView {
                    at: crate::rfc3339(c.at),
                    level: c.level.as_str(),
                    reasons: c.reasons.iter().map(ReasonView::from).collect(),
                })
                .collect(),
        })
    }

    /// Asks for fresh status of everything the person sees (R-24: at first sign-in
    /// and on entering the Health page), at most once every five minutes per person.
    /// Returns at once; the scheduler does the work and the page updates live.
    pub async fn refresh_health(&self, p: &Principal) -> Result<u64> {
        let now = self.now();
        {
            let mut last = self
                .inner
                .refreshed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last
                .get(&p.user.id)
                .is_some_and(|t| now - t < 5 * 60 * 1000)
            {
                return Ok(0);
            }
            if last.len() > 10_000 {
                last.retain(|_, t| now - *t < 5 * 60 * 1000);
            }
            last.insert(p.user.id, now);
        }
        let n = self
            .inner
            .store
            .read()
            .await?
            .make_scope_due(site_scope(&p.actor), now)
            .await?;
        self.inner.wake.notify_one();
        Ok(n)
    }
}
