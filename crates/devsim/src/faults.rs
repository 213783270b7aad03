//! Faults to inject at run time: what each one is called on the control API, its
//! parameters, which devices it applies to, and the set of faults active on a device.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::identity::Identity;
use crate::spec::DeviceKind;

/// Why a fault cannot be set or cleared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FaultError {
    /// The fault name is not one of the contract's faults.
    #[error("unknown fault `{0}`")]
    Unknown(String),
    /// A parameter is missing or malformed.
    #[error("bad parameters for fault `{fault}`: {reason}")]
    BadParams {
        /// Fault name.
        fault: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The device has nothing the fault could act on (e.g. `low_battery` on a camera).
    #[error("fault `{fault}` does not apply to this {kind} ({reason})")]
    NotApplicable {
        /// Fault name.
        fault: &'static str,
        /// Device kind.
        kind: DeviceKind,
        /// Why.
        reason: &'static str,
    },
}

/// Network link the device uses (AX Pro `CommuniStatus`, interfaces of other devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// Ethernet.
    Wired,
    /// Wi-Fi.
    Wifi,
    /// Mobile data (AX Pro with a SIM).
    Cellular,
    /// No link at all: the device stops answering.
    Disconnected,
}

impl FromStr for LinkType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "wired" | "ethernet" | "lan" => Ok(LinkType::Wired),
            "wifi" | "wi-fi" | "wlan" => Ok(LinkType::Wifi),
            "cellular" | "mobile" | "4g" | "lte" => Ok(LinkType::Cellular),
            "disconnected" | "none" => Ok(LinkType::Disconnected),
            _ => Err(()),
        }
    }
}

/// How an offline device fails to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfflineMode {
    /// The port is closed: connections are refused.
    Refused,
    /// Connections are accepted but no request is ever answered (a timeout for the client).
    NoAnswer,
}

/// The illegal-login lock policy switched on by the `lockout` fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong passwords in a row before the lock.
    pub attempts: u32,
    /// How long the lock lasts.
    pub duration: Duration,
}

/// One fault with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// First drive reports `error` (and a `diskerror` event is emitted).
    HddError,
    /// First drive reports `unformatted`.
    HddUnformatted,
    /// Every drive full and overwrite off: freeSpace 0, `LoopEnable` false, `diskfull` event.
    HddFull,
    /// SMART self-evaluation fails on the first HDD (hot, reallocated sectors).
    SmartWarning,
    /// A video channel loses its camera (NVR IP channel offline / DVR "NO VIDEO"; `videoloss`).
    ChannelOffline {
        /// Channel number (1-based).
        channel: u32,
    },
    /// Drives full with overwrite on: the oldest recordings are being overwritten.
    RecordOverwritten,
    /// The SD card is missing (empty `hddList`).
    SdMissing,
    /// Battery at `level` percent (AX Pro).
    LowBattery {
        /// Percent.
        level: u8,
    },
    /// The device's network link type.
    Link(LinkType),
    /// The device stops answering.
    Offline(OfflineMode),
    /// Every answer is delayed.
    Slow {
        /// Delay in milliseconds.
        ms: u64,
    },
    /// Illegal-login lock after repeated wrong passwords.
    Lockout {
        /// Policy; `None` fields take the fleet defaults.
        attempts: Option<u32>,
        /// Lock duration override.
        duration: Option<Duration>,
    },
}

/// The names of the faults (control API path segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// `hdd_error`
    HddError,
    /// `hdd_unformatted`
    HddUnformatted,
    /// `hdd_full`
    HddFull,
    /// `smart_warning`
    SmartWarning,
    /// `channel_offline`
    ChannelOffline,
    /// `record_overwritten`
    RecordOverwritten,
    /// `sd_missing`
    SdMissing,
    /// `low_battery`
    LowBattery,
    /// `link`
    Link,
    /// `offline`
    Offline,
    /// `slow`
    Slow,
    /// `lockout`
    Lockout,
}

impl FaultKind {
    /// Every fault kind.
    pub const ALL: [FaultKind; 12] = [
        FaultKind::HddError,
        FaultKind::HddUnformatted,
        FaultKind::HddFull,
        FaultKind::SmartWarning,
        FaultKind::ChannelOffline,
        FaultKind::RecordOverwritten,
        FaultKind::SdMissing,
        FaultKind::LowBattery,
        FaultKind::Link,
        FaultKind::Offline,
        FaultKind::Slow,
        FaultKind::Lockout,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::HddError => "hdd_error",
            FaultKind::HddUnformatted => "hdd_unformatted",
            FaultKind::HddFull => "hdd_full",
            FaultKind::SmartWarning => "smart_warning",
            FaultKind::ChannelOffline => "channel_offline",
            FaultKind::RecordOverwritten => "record_overwritten",
            FaultKind::SdMissing => "sd_missing",
            FaultKind::LowBattery => "low_battery",
            FaultKind::Link => "link",
            FaultKind::Offline => "offline",
            FaultKind::Slow => "slow",
            FaultKind::Lockout => "lockout",
        }
    }

    /// Whether this fault can act on the device; `Err` says why not.
    pub fn check(self, id: &Identity) -> Result<(), FaultError> {
        let na = |reason| {
            Err(FaultError::NotApplicable {
                fault: self.as_str(),
                kind: id.kind,
                reason,
            })
        };
        match self {
            FaultKind::HddError
            | FaultKind::HddUnformatted
            | FaultKind::HddFull
            | FaultKind::RecordOverwritten
                if id.drives.is_empty() =>
            {
                na("it has no HDD or SD card")
            }
            FaultKind::SmartWarning if !id.kind.is_recorder() => na("only recorders report SMART"),
            FaultKind::ChannelOffline if !id.kind.is_recorder() => {
                na("only NVRs and DVRs have channels that can go offline")
            }
            FaultKind::SdMissing if id.kind.is_recorder() || id.model.drives == 0 => {
                na("it has no SD card slot")
            }
            FaultKind::LowBattery if id.kind != DeviceKind::ControlPanel => {
                na("only control panels report a battery")
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultKind {
    type Err = FaultError;
    fn from_str(s: &str) -> Result<Self, FaultError> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| FaultError::Unknown(s.to_string()))
    }
}

fn param_u64(params: &Value, key: &str) -> Option<Result<u64, String>> {
    let v = params.get(key)?;
    Some(
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| format!("`{key}` must be a non-negative integer")),
    )
}

impl Fault {
    /// The fault's kind (name).
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::HddError => FaultKind::HddError,
            Fault::HddUnformatted => FaultKind::HddUnformatted,
            Fault::HddFull => FaultKind::HddFull,
            Fault::SmartWarning => FaultKind::SmartWarning,
            Fault::ChannelOffline { .. } => FaultKind::ChannelOffline,
            Fault::RecordOverwritten => FaultKind::RecordOverwritten,
            Fault::SdMissing => FaultKind::SdMissing,
            Fault::LowBattery { .. } => FaultKind::LowBattery,
            Fault::Link(_) => FaultKind::Link,
            Fault::Offline(_) => FaultKind::Offline,
            Fault::Slow { .. } => FaultKind::Slow,
            Fault::Lockout { .. } => FaultKind::Lockout,
        }
    }

    /// Builds a fault from its contract name and optional JSON parameters
    /// (`{channel}`, `{level}`, `{type}`, `{ms}`; `offline` takes `{mode: "refused"|"no_answer"}`,
    /// `lockout` takes `{attempts, seconds}`).
    pub fn from_name(name: &str, params: &Value) -> Result<Fault, FaultError> {
        let kind: FaultKind = name.parse()?;
        let bad = |reason: String| FaultError::BadParams {
            fault: kind.as_str(),
            reason,
        };
        Ok(match kind {
            FaultKind::HddError => Fault::HddError,
            FaultKind::HddUnformatted => Fault::HddUnformatted,
            FaultKind::HddFull => Fault::HddFull,
            FaultKind::SmartWarning => Fault::SmartWarning,
            FaultKind::RecordOverwritten => Fault::RecordOverwritten,
            FaultKind::SdMissing => Fault::SdMissing,
            FaultKind::ChannelOffline => {
                let channel = param_u64(params, "channel").unwrap_or(Ok(1)).map_err(bad)?;
                let channel = u32::try_from(channel)
                    .ok()
                    .filter(|c| *c >= 1)
                    .ok_or_else(|| FaultError::BadParams {
                        fault: kind.as_str(),
                        reason: "`channel` must be 1 or more".into(),
                    })?;
                Fault::ChannelOffline { channel }
            }
            FaultKind::LowBattery => {
                let level = param_u64(params, "level").unwrap_or(Ok(10)).map_err(bad)?;
                let level = u8::try_from(level)
                    .ok()
                    .filter(|l| *l <= 100)
                    .ok_or_else(|| FaultError::BadParams {
                        fault: kind.as_str(),
                        reason: "`level` must be 0..=100".into(),
                    })?;
                Fault::LowBattery { level }
            }
            FaultKind::Link => {
                let t = params.get("type").and_then(Value::as_str).ok_or_else(|| {
                    bad("`type` is required: wired, wifi, cellular or disconnected".into())
                })?;
                Fault::Link(t.parse().map_err(|()| {
                    bad(format!(
                        "unknown link type `{t}`: wired, wifi, cellular or disconnected"
                    ))
                })?)
            }
            FaultKind::Offline => match params.get("mode").and_then(Value::as_str) {
                None | Some("refused") => Fault::Offline(OfflineMode::Refused),
                Some("no_answer" | "timeout") => Fault::Offline(OfflineMode::NoAnswer),
                Some(other) => {
                    return Err(bad(format!("unknown mode `{other}`: refused or no_answer")));
                }
            },
            FaultKind::Slow => Fault::Slow {
                ms: param_u64(params, "ms").unwrap_or(Ok(2000)).map_err(bad)?,
            },
            FaultKind::Lockout => {
                let attempts = param_u64(params, "attempts")
                    .transpose()
                    .map_err(bad)?
                    .map(|a| u32::try_from(a.max(1)).unwrap_or(u32::MAX));
                let seconds = param_u64(params, "seconds").transpose().map_err(bad)?;
                Fault::Lockout {
                    attempts,
                    duration: seconds.map(Duration::from_secs),
                }
            }
        })
    }

    /// The fault's parameters as JSON (for `GET /devices`).
    pub fn params_json(&self) -> Value {
        match self {
            Fault::ChannelOffline { channel } => serde_json::json!({ "channel": channel }),
            Fault::LowBattery { level } => serde_json::json!({ "level": level }),
            Fault::Link(t) => serde_json::json!({ "type": t }),
            Fault::Offline(m) => serde_json::json!({ "mode": m }),
            Fault::Slow { ms } => serde_json::json!({ "ms": ms }),
            Fault::Lockout { attempts, duration } => serde_json::json!({
                "attempts": attempts,
                "seconds": duration.map(|d| d.as_secs()),
            }),
            _ => serde_json::json!({}),
        }
    }
}

/// The faults active on one device, in the compact form the documents read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// `hdd_error`.
    pub hdd_error: bool,
    /// `hdd_unformatted`.
    pub hdd_unformatted: bool,
    /// `hdd_full`.
    pub hdd_full: bool,
    /// `smart_warning`.
    pub smart_warning: bool,
    /// Channels set offline by `channel_offline`.
    pub channels_offline: BTreeSet<u32>,
    /// `record_overwritten`.
    pub record_overwritten: bool,
    /// `sd_missing`.
    pub sd_missing: bool,
    /// `low_battery` level.
    pub low_battery: Option<u8>,
    /// `link` type.
    pub link: Option<LinkType>,
    /// `offline` mode.
    pub offline: Option<OfflineMode>,
    /// `slow` delay.
    pub slow_ms: Option<u64>,
    /// `lockout` policy (resolved against the fleet defaults).
    pub lockout: Option<LockoutPolicy>,
}

impl Faults {
    /// Switches a fault on. `lockout_default` resolves unset lockout parameters.
    pub fn set(&mut self, fault: &Fault, lockout_default: LockoutPolicy) {
        match *fault {
            Fault::HddError => self.hdd_error = true,
            Fault::HddUnformatted => self.hdd_unformatted = true,
            Fault::HddFull => self.hdd_full = true,
            Fault::SmartWarning => self.smart_warning = true,
            Fault::ChannelOffline { channel } => {
                self.channels_offline.insert(channel);
            }
            Fault::RecordOverwritten => self.record_overwritten = true,
            Fault::SdMissing => self.sd_missing = true,
            Fault::LowBattery { level } => self.low_battery = Some(level),
            Fault::Link(t) => self.link = Some(t),
            Fault::Offline(m) => self.offline = Some(m),
            Fault::Slow { ms } => self.slow_ms = Some(ms),
            Fault::Lockout { attempts, duration } => {
                self.lockout = Some(LockoutPolicy {
                    attempts: attempts.unwrap_or(lockout_default.attempts),
                    duration: duration.unwrap_or(lockout_default.duration),
                })
            }
        }
    }

    /// Switches a fault off; for `channel_offline`, `channel` clears one channel (else all).
    pub fn clear(&mut self, kind: FaultKind, channel: Option<u32>) {
        match kind {
            FaultKind::HddError => self.hdd_error = false,
            FaultKind::HddUnformatted => self.hdd_unformatted = false,
            FaultKind::HddFull => self.hdd_full = false,
            FaultKind::SmartWarning => self.smart_warning = false,
            FaultKind::ChannelOffline => match channel {
                Some(c) => {
                    self.channels_offline.remove(&c);
                }
                None => self.channels_offline.clear(),
            },
            FaultKind::RecordOverwritten => self.record_overwritten = false,
            FaultKind::SdMissing => self.sd_missing = false,
            FaultKind::LowBattery => self.low_battery = None,
            FaultKind::Link => self.link = None,
            FaultKind::Offline => self.offline = None,
            FaultKind::Slow => self.slow_ms = None,
            FaultKind::Lockout => self.lockout = None,
        }
    }

    /// The active faults as a list.
    pub fn active(&self) -> Vec<Fault> {
        let mut v = Vec::new();
        let flags = [
            (self.hdd_error, Fault::HddError),
            (self.hdd_unformatted, Fault::HddUnformatted),
            (self.hdd_full, Fault::HddFull),
            (self.smart_warning, Fault::SmartWarning),
        ];
        v.extend(flags.into_iter().filter(|(on, _)| *on).map(|(_, f)| f));
        v.extend(
            self.channels_offline
                .iter()
                .map(|&channel| Fault::ChannelOffline { channel }),
        );
        if self.record_overwritten {
            v.push(Fault::RecordOverwritten);
        }
        if self.sd_missing {
            v.push(Fault::SdMissing);
        }
        if let Some(level) = self.low_battery {
            v.push(Fault::LowBattery { level });
        }
        if let Some(t) = self.link {
            v.push(Fault::Link(t));
        }
        if let Some(m) = self.offline {
            v.push(Fault::Offline(m));
        }
        if let Some(ms) = self.slow_ms {
            v.push(Fault::Slow { ms });
        }
        if let Some(p) = self.lockout {
            v.push(Fault::Lockout {
                attempts: Some(p.attempts),
                duration: Some(p.duration),
            });
        }
        v
    }

    /// Whether the device's drives have no free space (full, or full and overwriting).
    pub fn drives_full(&self) -> bool {
        self.hdd_full || self.record_overwritten
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_params_parse() {
        assert_eq!(
            Fault::from_name("channel_offline", &json!({"channel": 3})),
            Ok(Fault::ChannelOffline { channel: 3 })
        );
        assert_eq!(
            Fault::from_name("link", &json!({"type": "cellular"})),
            Ok(Fault::Link(LinkType::Cellular))
        );
        assert_eq!(
            Fault::from_name("low_battery", &json!({"level": "7"})),
            Ok(Fault::LowBattery { level: 7 })
        );
        assert!(Fault::from_name("link", &json!({})).is_err());
        assert!(Fault::from_name("low_battery", &json!({"level": 101})).is_err());
        assert!(Fault::from_name("melting", &json!({})).is_err());
        for k in FaultKind::ALL {
            assert_eq!(k.as_str().parse::<FaultKind>(), Ok(k));
        }
    }

    #[test]
    fn set_clear_roundtrip() {
        let def = LockoutPolicy {
            attempts: 5,
            duration: Duration::from_secs(60),
        };
        let mut f = Faults::default();
        f.set(&Fault::ChannelOffline { channel: 2 }, def);
        f.set(&Fault::ChannelOffline { channel: 4 }, def);
        f.set(
            &Fault::Lockout {
                attempts: Some(3),
                duration: None,
            },
            def,
        );
        assert_eq!(f.active().len(), 3);
        f.clear(FaultKind::ChannelOffline, Some(2));
        assert_eq!(
            f.channels_offline.iter().copied().collect::<Vec<_>>(),
            vec![4]
        );
        assert_eq!(
            f.lockout.map(|l| (l.attempts, l.duration.as_secs())),
            Some((3, 60))
        );
        f.clear(FaultKind::ChannelOffline, None);
        f.clear(FaultKind::Lockout, None);
        assert_eq!(f, Faults::default());
    }
}
