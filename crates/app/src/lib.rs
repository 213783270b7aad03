//! Siteward's use cases, shared by the JSON API, the portal and the workers.
//!
//! Each use case follows one shape: authorize (ask the core policy), load, decide,
//! persist in one transaction together with its audit entry, and emit. Handlers stay
//! thin translators, so no rule is written twice.

mod accounts;
mod alarms;
mod audit;
pub mod clock;
mod company;
mod devices;
mod end_users;
mod error;
pub mod events;
mod handover;
mod health;
mod image;
mod inspect;
mod link;
mod listen;
mod notify;
pub mod observe;
mod password;
mod probe;
mod secrets;
mod sites;
mod throttle;

pub use accounts::{
    EmployeeChange, LoginInput, NewEmployee, Principal, Registration, RegistrationAdmin,
    RegistrationCompany, RegistrationInput, UserView,
};
pub use alarms::{AlarmList, AlarmView, alarm_kind};
pub use audit::AuditView;
pub use clock::{Clock, rfc3339};
pub use company::{CompanyInput, CompanyView};
pub use devices::{AddDevice, Added, DeviceView, PendingDeviceView};
pub use end_users::{
    ClientView, DEFAULT_REGIONS, EndUserSignUp, EndUserView, InstallerView, MyDeviceView,
    MySiteView, MySites,
};
pub use error::AppError;
pub use events::{Event, EventBus};
pub use handover::{
    AcceptInput, ApproveInput, AuthorizationInput, AuthorizationSummary, AuthorizationView,
    ClaimInput, ClaimView, InvitationInput, InvitationList, InvitationSummary, InvitationView,
    OwnerView, RequestView,
};
pub use health::{DeviceHealthView, HealthItem, HealthQuery, SiteHealth};
pub use image::{LOGO_MAX_BYTES, LOGO_MAX_SIDE};
pub use inspect::{InspectionRequest, InspectionView};
pub use link::{LinkClose, LinkHub, LinkOut, LinkSession};
pub use notify::{
    NotificationList, NotificationView, RuleInput, RuleList, RuleView, WebhookInput, WebhookView,
    smtp_transport, webhook_signature,
};
pub use secrets::{MasterKey, SecretError};
pub use sites::{SiteInput, SitePatch, SiteView};
pub use throttle::Throttle;

use siteward_store::Store;
use std::sync::Arc;

/// The result of a use case.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// How long a session lasts, in milliseconds.
    pub session_ttl_ms: i64,
    /// How long a newly issued authentication code is valid, in milliseconds.
    pub auth_code_ttl_ms: i64,
    /// How often every device is inspected, in milliseconds.
    pub inspection_interval_ms: i64,
    /// How many devices are inspected at once by the scheduler.
    pub inspection_concurrency: usize,
    /// How long a health change must last before it is notified, in milliseconds.
    pub notify_hold_ms: i64,
    /// How often an ongoing, unacknowledged problem is notified again, in
    /// milliseconds; 0 never.
    pub renotify_ms: i64,
    /// Where e-mail goes out; `None`: no e-mail is sent.
    pub smtp: Option<SmtpConfig>,
    /// Hand-over: the oldest end-user app that handles invitations and how
    /// long an invitation waits for an answer.
    pub handover: siteward_core::handover::HandoverSettings,
    /// The URL people reach the server at, for links in e-mails.
    pub public_url: Option<String>,
    /// After how long without a frame a linked device is offline, in milliseconds.
    pub link_silence_ms: i64,
}

/// The SMTP server notifications are sent through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain, for a relay on this machine or network),
    /// `smtp://host:port?tls=required` (STARTTLS) or `smtps://host:port` (TLS), with
    /// optional `user:password@` before the host.
    pub url: String,
    /// The sender, such as `Siteward <alerts@example.com>`.
    pub from: String,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session_ttl_ms: 12 * 3600 * 1000,
            auth_code_ttl_ms: 30 * 24 * 3600 * 1000,
            inspection_interval_ms: 10 * 60 * 1000,
            inspection_concurrency: 64,
            notify_hold_ms: 60 * 1000,
            renotify_ms: 4 * 3600 * 1000,
            smtp: None,
            handover: siteward_core::handover::HandoverSettings::default(),
            public_url: None,
            link_silence_ms: 60_000,
        }
    }
}

/// The application: the store and the services every use case shares.
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    clock: Clock,
    throttle: Throttle,
    key: MasterKey,
    config: AppConfig,
    prober: probe::Prober,
    events: EventBus,
    clients: inspect::Clients,
    links: Arc<link::LinkHub>,
    /// Turns true when the server stops: device links close (code 1001).
    links_stop: tokio::sync::watch::Sender<bool>,
    wake: tokio::sync::Notify,
    /// Devices were added or deleted (the listeners reconcile).
    devices_changed: tokio::sync::Notify,
    /// When each person last asked for fresh status, to bound the work.
    refreshed: std::sync::Mutex<std::collections::HashMap<siteward_core::UserId, i64>>,
}

impl App {
    /// Builds the application over an opened store.
    pub fn new(store: Store, key: MasterKey, clock: Clock, config: AppConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                throttle: Throttle::default(),
                key,
                config,
                prober: probe::Prober::default(),
                events: EventBus::default(),
                clients: inspect::Clients::default(),
                links: Arc::default(),
                links_stop: tokio::sync::watch::Sender::new(false),
                wake: tokio::sync::Notify::new(),
                devices_changed: tokio::sync::Notify::new(),
                refreshed: std::sync::Mutex::default(),
            }),
        }
    }

    /// Closes every device link of this node (the server is stopping); the devices
    /// reconnect, with back-off, to whichever node serves them next.
    pub fn stop_links(&self) {
        self.inner.links_stop.send_replace(true);
    }

    /// Turns true when the device links of this node are to close.
    pub fn links_stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.links_stop.subscribe()
    }

    /// The store (for health checks and operator commands).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The event bus (live updates, notifications).
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// The master key that encrypts secrets at rest.
    pub fn master_key(&self) -> &MasterKey {
        &self.inner.key
    }

    fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ready(&self) -> Result<()> {
        self.inner.store.read().await?.ping().await?;
        Ok(())
    }
}

/// A new time-ordered id.
pub(crate) fn new_uuid() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
