//! The event pipeline inside one node: use cases and workers publish what happened,
//! the portal's live updates, notifications and (later) alarms and linkage subscribe.
//!
//! In one process this is a broadcast channel; a subscriber that falls behind loses
//! the oldest live updates (it reloads), never stored data: every event is also
//! persisted by the use case that emitted it. With several nodes the same events
//! cross over NATS.

use serde::Serialize;
use siteward_core::health::{Level, Reason};
use siteward_core::{CompanyId, DeviceId, SiteId};
use tokio::sync::broadcast;

/// Something that happened, as subscribers see it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A device's level or reasons changed.
    HealthChanged {
        /// The company.
        company_id: CompanyId,
        /// The site.
        site_id: SiteId,
        /// The device.
        device_id: DeviceId,
        /// The device's name.
        name: String,
        /// The new level.
        level: Level,
        /// The previous level.
        previous: Level,
        /// The new reasons.
        reasons: Vec<Reason>,
        /// When, RFC 3339.
        at: String,
    },
    /// A manual inspection made progress.
    InspectionProgress {
        /// The company.
        company_id: CompanyId,
        /// The inspection.
        id: String,
        /// Devices inspected.
        done: i64,
        /// Devices to inspect.
        total: i64,
        /// Devices that could not be inspected.
        failures: i64,
        /// `running` or `done`.
        state: String,
    },
}

impl Event {
    /// The company the event belongs to (subscribers see only their own).
    pub fn company_id(&self) -> CompanyId {
        match self {
            Event::HealthChanged { company_id, .. }
            | Event::InspectionProgress { company_id, .. } => *company_id,
        }
    }

    /// The site the event concerns, if any.
    pub fn site_id(&self) -> Option<SiteId> {
        match self {
            Event::HealthChanged { site_id, .. } => Some(*site_id),
            Event::InspectionProgress { .. } => None,
        }
    }

    /// The name used for the server-sent event.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::HealthChanged { .. } => "health_changed",
            Event::InspectionProgress { .. } => "inspection_progress",
        }
    }
}

/// Publishes events to every subscriber in this node.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
        }
    }
}

impl EventBus {
    /// Publishes an event (nobody listening is fine).
    pub fn publish(&self, e: Event) {
        let _ = self.tx.send(e);
    }

    /// A new subscription from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
