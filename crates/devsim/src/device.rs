//! One simulated device: its fixed identity, its small mutable state (faults, login
//! failures, sessions, call/arming state), its event channel and its reachability gate, and
//! the handle through which tests and the control API drive it.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::catalog::Dialect;
use crate::digest::ChallengeStyle;
use crate::events::{self, AlertPart, EventError, EventKind};
use crate::faults::{Fault, FaultError, FaultKind, Faults, LinkType, LockoutPolicy, OfflineMode};
use crate::identity::Identity;
use crate::spec::{DeviceKind, SimOptions};

/// What the device list says about a device (the simulator's public contract).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Short serial (the control API key).
    pub serial: String,
    /// Device type (`ipc`, `nvr`, …).
    #[serde(rename = "type")]
    pub kind: DeviceKind,
    /// Brand (`Hikvision`, `HiLook`, `EZVIZ`, or the third party's).
    pub brand: String,
    /// Model.
    pub model: String,
    /// `127.0.0.1:port` of its ISAPI listener.
    pub address: SocketAddr,
    /// Admin user name.
    pub username: String,
    /// Admin password.
    pub password: String,
    /// Verification code.
    pub verification_code: String,
    /// Site name when the fleet file names sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Whether it runs in link mode: add it by `serial` and `verification_code`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub link: bool,
}

/// Whether the device answers at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Serving.
    Open,
    /// Port closed.
    Refuse,
    /// Port open, nothing answered.
    Silent,
}

/// Intercom call state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Idle,
    Ring(Instant),
    Talking,
}

/// Arming state of an AX Pro area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arming {
    Disarm,
    Away,
    Stay,
}

impl Arming {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Arming::Disarm => "disarm",
            Arming::Away => "away",
            Arming::Stay => "stay",
        }
    }
}

/// A web session (AX Pro style session login).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub token: String,
    pub last_used: Instant,
}

/// A session-login challenge handed out by `sessionLogin/capabilities`.
#[derive(Debug, Clone)]
pub(crate) struct PendingLogin {
    pub session_id: String,
    pub challenge: String,
    pub created: Instant,
}

/// An access-control event kept for `AcsEvent` searches.
#[derive(Debug, Clone)]
pub(crate) struct AcsRecord {
    pub major: u32,
    pub minor: u32,
    pub time: String,
    pub serial_no: u32,
    pub door: u32,
}

/// An `httpHosts` slot as configured by a client.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpHost {
    pub id: u32,
    pub url: String,
    pub protocol: String,
    pub format: String,
    pub addressing: String,
    pub ip: String,
    pub host_name: String,
    pub port: u32,
}

/// The mutable part of a device.
#[derive(Debug)]
pub(crate) struct State {
    pub faults: Faults,
    pub failed_logins: u32,
    pub locked_until: Option<Instant>,
    pub boot: Instant,
    pub rebooting_until: Option<Instant>,
    pub post_count: u32,
    pub http_hosts: Vec<HttpHost>,
    pub sessions: Vec<Session>,
    pub pending_logins: Vec<PendingLogin>,
    pub call: Call,
    pub door_open_until: Option<Instant>,
    pub arming: [Arming; 2],
    pub alarm_zones: BTreeSet<u32>,
    pub acs_serial: u32,
    pub acs_log: VecDeque<AcsRecord>,
}

/// A simulated device (shared by its listener, its connections and the handles).
#[derive(Debug)]
pub struct Device {
    pub(crate) id: Identity,
    pub(crate) addr: SocketAddr,
    pub(crate) options: Arc<SimOptions>,
    pub(crate) secret: String,
    state: Mutex<State>,
    events: broadcast::Sender<Arc<AlertPart>>,
    gate: watch::Sender<Gate>,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Device {
    pub(crate) fn new(id: Identity, addr: SocketAddr, options: Arc<SimOptions>) -> Device {
        let (events, _) = broadcast::channel(64);
        let (gate, _) = watch::channel(Gate::Open);
        let http_hosts = default_http_hosts(&id);
        Device {
            secret: hex::encode(rand::random::<[u8; 16]>()),
            state: Mutex::new(State {
                faults: Faults::default(),
                failed_logins: 0,
                locked_until: None,
                boot: Instant::now(),
                rebooting_until: None,
                post_count: 0,
                http_hosts,
                sessions: Vec::new(),
                pending_logins: Vec::new(),
                call: Call::Idle,
                door_open_until: None,
                arming: [Arming::Disarm; 2],
                alarm_zones: BTreeSet::new(),
                acs_serial: 100,
                acs_log: VecDeque::new(),
            }),
            id,
            addr,
            options,
            events,
            gate,
        }
    }

    /// Locks the state. A poisoned lock (a panicking handler) still yields the state: it is
    /// plain data that stays consistent field by field.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.id.model.dialect
    }

    pub(crate) fn challenge_style(&self) -> ChallengeStyle {
        match self.id.kind {
            DeviceKind::Ipc | DeviceKind::Doorbell | DeviceKind::ThirdParty => {
                ChallengeStyle::Camera
            }
            _ => ChallengeStyle::Recorder,
        }
    }

    pub(crate) fn gate_rx(&self) -> watch::Receiver<Gate> {
        self.gate.subscribe()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<AlertPart>> {
        self.events.subscribe()
    }

    /// Recomputes the gate from the state (offline fault, link down, reboot).
    pub(crate) fn refresh_gate(&self, st: &State) {
        let g = match (st.faults.offline, st.faults.link) {
            (Some(OfflineMode::Refused), _) => Gate::Refuse,
            (Some(OfflineMode::NoAnswer), _) | (_, Some(LinkType::Disconnected)) => Gate::Silent,
            _ if st.rebooting_until.is_some_and(|t| t > Instant::now()) => Gate::Silent,
            _ => Gate::Open,
        };
        self.gate.send_if_modified(|cur| {
            let changed = *cur != g;
            *cur = g;
            changed
        });
    }

    pub(crate) fn lockout_default(&self) -> LockoutPolicy {
        LockoutPolicy {
            attempts: self.options.lockout_attempts,
            duration: self.options.lockout_duration,
        }
    }

    /// Sends an alert part to every open alert stream; returns how many got it.
    pub(crate) fn publish(&self, part: AlertPart) -> usize {
        self.events.send(Arc::new(part)).unwrap_or(0)
    }

    /// Builds and publishes an event; the state lock must not be held.
    pub(crate) fn emit_kind(
        &self,
        kind: EventKind,
        channel: Option<u32>,
        zone: Option<u32>,
        active: bool,
    ) -> usize {
        let part = {
            let mut st = self.state();
            events::build(self, &mut st, kind, channel, zone, active)
        };
        self.publish(part)
    }

    /// Starts a reboot: unreachable for the configured downtime, uptime restarts.
    pub(crate) fn reboot(self: &Arc<Self>) {
        let downtime = self.options.reboot_downtime;
        {
            let mut st = self.state();
            st.rebooting_until = Some(Instant::now() + downtime);
            st.boot = Instant::now() + downtime;
            st.sessions.clear();
            st.call = Call::Idle;
            // Gate flips after the reply to the reboot request has gone out.
        }
        let dev = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            dev.refresh_gate(&dev.state());
            tokio::time::sleep(downtime).await;
            let mut st = dev.state();
            st.rebooting_until = None;
            dev.refresh_gate(&st);
        });
    }
}

fn default_http_hosts(id: &Identity) -> Vec<HttpHost> {
    let slots = match id.kind {
        DeviceKind::Nvr | DeviceKind::Dvr => 1,
        DeviceKind::AccessControl | DeviceKind::VideoIntercom => 2,
        _ => 3,
    };
    (1..=slots)
        .map(|i| HttpHost {
            id: i,
            url: "/".into(),
            protocol: "HTTP".into(),
            format: "XML".into(),
            addressing: "ipaddress".into(),
            ip: "0.0.0.0".into(),
            host_name: String::new(),
            port: 80,
        })
        .collect()
}

/// Drives one simulated device from tests or the control API.
#[derive(Debug, Clone)]
pub struct DeviceHandle(pub(crate) Arc<Device>);

impl DeviceHandle {
    /// The device-list entry.
    pub fn info(&self) -> DeviceInfo {
        let id = &self.0.id;
        DeviceInfo {
            serial: id.serial.clone(),
            kind: id.kind,
            brand: id.brand.as_str().to_string(),
            model: id.model.name.to_string(),
            address: self.0.addr,
            username: id.username.clone(),
            password: id.password.clone(),
            verification_code: id.verification_code.clone(),
            site: id.site.clone(),
            link: id.link,
        }
    }

    /// Everything fixed about the device.
    pub fn identity(&self) -> &Identity {
        &self.0.id
    }

    /// Its listener address.
    pub fn addr(&self) -> SocketAddr {
        self.0.addr
    }

    /// Sets a fault (replacing the parameters of one already set). Faults that real devices
    /// announce also emit their event (`hdd_error` → `diskerror`, `hdd_full` → `diskfull`,
    /// `channel_offline` → `videoloss`, `low_battery` → CID 1302).
    pub fn set_fault(&self, fault: Fault) -> Result<(), FaultError> {
        let kind = fault.kind();
        kind.check(&self.0.id)?;
        if let Fault::ChannelOffline { channel } = fault {
            let channels = self.0.id.channel_names.len() as u32;
            if channel > channels {
                return Err(FaultError::BadParams {
                    fault: kind.as_str(),
                    reason: format!("channel {channel} does not exist (1..={channels})"),
                });
            }
        }
        {
            let mut st = self.0.state();
            st.faults.set(&fault, self.0.lockout_default());
            if kind == FaultKind::Lockout {
                st.failed_logins = 0;
                st.locked_until = None;
            }
            self.0.refresh_gate(&st);
        }
        match fault {
            Fault::HddError => {
                self.0.emit_kind(EventKind::DiskError, None, None, true);
            }
            Fault::HddFull => {
                self.0.emit_kind(EventKind::DiskFull, None, None, true);
            }
            Fault::ChannelOffline { channel } => {
                self.0
                    .emit_kind(EventKind::VideoLoss, Some(channel), None, true);
            }
            Fault::LowBattery { .. } => {
                self.0.emit_kind(EventKind::LowBattery, None, None, true);
            }
            _ => {}
        }
        Ok(())
    }

    /// Clears a fault (all channels for `channel_offline`). Clearing an inactive fault is fine.
    pub fn clear_fault(&self, kind: FaultKind) {
        self.clear_fault_channel(kind, None);
    }

    /// Clears a fault; for `channel_offline` only the given channel when `Some`.
    pub fn clear_fault_channel(&self, kind: FaultKind, channel: Option<u32>) {
        let restored: Vec<u32> = {
            let mut st = self.0.state();
            let before = st.faults.channels_offline.clone();
            st.faults.clear(kind, channel);
            if kind == FaultKind::Lockout {
                st.failed_logins = 0;
                st.locked_until = None;
            }
            self.0.refresh_gate(&st);
            before
                .difference(&st.faults.channels_offline)
                .copied()
                .collect()
        };
        for ch in restored {
            self.0
                .emit_kind(EventKind::VideoLoss, Some(ch), None, false);
        }
    }

    /// The faults now active.
    pub fn faults(&self) -> Vec<Fault> {
        self.0.state().faults.active()
    }

    /// Emits an event on the device's alert stream; returns how many open streams got it.
    pub fn emit(
        &self,
        kind: EventKind,
        channel: Option<u32>,
        zone: Option<u32>,
    ) -> Result<usize, EventError> {
        kind.check(&self.0.id, channel, zone)?;
        Ok(self.0.emit_kind(kind, channel, zone, true))
    }

    /// Whether the account is locked by the `lockout` fault right now.
    pub fn is_locked(&self) -> bool {
        self.0
            .state()
            .locked_until
            .is_some_and(|t| t > Instant::now())
    }

    /// Number of alert streams now connected.
    pub fn stream_count(&self) -> usize {
        self.0.events.receiver_count()
    }
}
