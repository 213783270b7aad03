//! The event pipeline inside one node: use cases and workers publish what happened,
//! the portal's live updates, notifications and (later) alarms and linkage subscribe.
//!
//! In one process this is a broadcast channel; a subscriber that falls behind loses
//! the oldest live updates (it reloads), never stored data: every event is also
//! persisted by the use case that emitted it. With several nodes the same events
//! cross over NATS.

use serde::Serialize;
use siteward_core::health::{Level, Reason};
use siteward_core::{CompanyId, DeviceId, SiteId, UserId};
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
    /// Hand-over news an end user (and the installer's company) should see at once:
    /// an invitation sent, withdrawn or answered, an authorization requested,
    /// answered, cancelled or released, a claim to confirm.
    HandoverChanged {
        /// The installer's company concerned, if any.
        company_id: Option<CompanyId>,
        /// The site.
        site_id: SiteId,
        /// The end user concerned, if any.
        end_user_id: Option<UserId>,
        /// What happened, such as `invitation.sent` or `authorization.approved`.
        what: String,
        /// The invitation, authorization or claim id.
        id: String,
        /// When, RFC 3339.
        at: String,
    },
    /// An alarm of a device of the end user's site, once stored.
    Alarm {
        /// The site's managing company, if any.
        company_id: Option<CompanyId>,
        /// The site.
        site_id: SiteId,
        /// The site's owner, who receives it.
        owner_id: Option<UserId>,
        /// The alarm id.
        id: String,
        /// The device that raised it.
        device_id: Option<DeviceId>,
        /// Its name.
        device_name: String,
        /// `intrusion`, `tamper`, `doorbell_pressed`, …
        kind: String,
        /// One line for people.
        text: String,
        /// When it happened, RFC 3339.
        at: String,
    },
}

impl Event {
    /// The installer company the event belongs to, if any (installers see only
    /// their own company's).
    pub fn company_id(&self) -> Option<CompanyId> {
        match self {
            Event::HealthChanged { company_id, .. }
            | Event::InspectionProgress { company_id, .. } => Some(*company_id),
            Event::HandoverChanged { company_id, .. } | Event::Alarm { company_id, .. } => {
                *company_id
            }
        }
    }

    /// The end user the event is for, if any (end users see only their own).
    pub fn end_user_id(&self) -> Option<UserId> {
        match self {
            Event::HealthChanged { .. } | Event::InspectionProgress { .. } => None,
            Event::HandoverChanged { end_user_id, .. } => *end_user_id,
            Event::Alarm { owner_id, .. } => *owner_id,
        }
    }

    /// Whether installers see it (alarms are the owner's, R-36).
    pub fn for_installers(&self) -> bool {
        !matches!(self, Event::Alarm { .. })
    }

    /// The site the event concerns, if any.
    pub fn site_id(&self) -> Option<SiteId> {
        match self {
            Event::HealthChanged { site_id, .. }
            | Event::HandoverChanged { site_id, .. }
            | Event::Alarm { site_id, .. } => Some(*site_id),
            Event::InspectionProgress { .. } => None,
        }
    }

    /// The name used for the server-sent event.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::HealthChanged { .. } => "health_changed",
            Event::InspectionProgress { .. } => "inspection_progress",
            Event::HandoverChanged { .. } => "handover_changed",
            Event::Alarm { .. } => "alarm",
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
