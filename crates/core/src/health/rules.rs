//! The health rules: from an [`Observation`] to a level and reasons in
//! plain words.
//!
//! Each rule adds a [`Reason`] about one subject (a disk, a channel, a zone, the
//! battery, …); a code appears at most once per device. The device's level is the
//! worst of its reasons, and `Normal` when there is none. Which rules apply depends on the device type, as the requirements
//! list them: encoding devices, control panels, access control,
//! video intercoms, doorbells. Network rules apply to every type.
//!
//! Codes are stable (`hdd.error:2`, `channel.offline:3`, `zone.tamper:3`): a prefix
//! naming the subject's kind and the problem, then `:` and the subject's number
//! where there can be several.

use std::collections::BTreeSet;

use super::{
    Assessment, ChannelObs, DiskKind, DiskObs, DiskStatus, Exception, Level, LinkType, NetworkObs,
    Observation, PanelObs, Reason, SmartObs, ZoneObs,
};
use crate::compat::DeviceType;

/// With overwrite off, a disk this full (in %) stops recording within hours to days on
/// a busy recorder: abnormal now (R-28, HDD usage).
const OVERWRITE_OFF_FULL_PCT: u8 = 95;

/// With overwrite off, a disk this full (in %) needs attention soon: at typical
/// recorder bit rates the last 10 % lasts a few days (R-28, HDD usage).
const OVERWRITE_OFF_NEARLY_FULL_PCT: u8 = 90;

/// A disk at or above this temperature (°C) is running hot: surveillance drives are
/// rated for 60–70 °C, so this is the edge of the spec (R-28, S.M.A.R.T.).
const HOT_DISK_C: i32 = 60;

/// A panel battery at or below this charge (%) is low: it may not carry the panel
/// through a mains cut. The same figure as `siteward_isapi`'s `LOW_BATTERY_PERCENT`,
/// which reads a battery as low when the panel gives no flag of its own.
const BATTERY_LOW_PCT: u8 = 20;

/// A panel battery at or below this charge (%) is worth a look: it is either old or
/// still recharging after a mains cut (R-29, remaining battery).
const BATTERY_WARN_PCT: u8 = 35;

/// A radio signal at or below this strength (%) is weak: one bar out of five on the
/// AX Pro's scale, little margin before alarm reports stop getting through (R-29,
/// link type and network status).
const WEAK_SIGNAL_PCT: u8 = 20;

/// Decides the level and reasons; see the module documentation.
pub(super) fn assess(device_type: DeviceType, obs: &Observation) -> Assessment {
    let mut r = Reasons::default();
    if !obs.reachable {
        // a device that does not answer is offline, whatever was known before.
        r.push(
            "device.offline",
            "Not answering",
            Level::Offline,
            Exception::Offline,
        );
        return r.finish();
    }
    if obs.auth_failed {
        // Nothing else could be read: the one reason is the refused sign-in.
        r.push(
            "device.auth_failed",
            "Siteward's sign-in is refused (password changed or account locked)",
            Level::Abnormal,
            Exception::AuthFailed,
        );
        return r.finish();
    }
    if let Some(net) = &obs.network {
        network(net, &mut r);
    }
    match device_type {
        DeviceType::Ipc | DeviceType::Nvr | DeviceType::Dvr => encoding(device_type, obs, &mut r),
        DeviceType::ControlPanel => {
            if let Some(panel) = &obs.panel {
                control_panel(panel, &mut r);
            }
            if obs.tamper {
                // A panel's own tamper switch is a security event in itself: abnormal.
                r.push(
                    "device.tamper",
                    "Panel tamper: the cover is open or the panel was moved",
                    Level::Abnormal,
                    Exception::Tamper,
                );
            }
        }
        // network status only.
        DeviceType::AccessControl | DeviceType::VideoIntercom => {}
        // network and SD card status. A doorbell's card is its only recording.
        DeviceType::Doorbell => storage(obs, &NO_SD_DOORBELL, &mut r),
    }
    r.finish()
}

/// The reasons found so far.
#[derive(Default)]
struct Reasons(Vec<Reason>);

impl Reasons {
    fn push(
        &mut self,
        code: impl Into<String>,
        text: impl Into<String>,
        level: Level,
        exception: Exception,
    ) {
        self.0.push(Reason {
            code: code.into(),
            text: text.into(),
            level,
            exception,
        });
    }

    /// Worst first, then by code; one reason per code (the worst); the level is the
    /// worst reason's, `Normal` when there is none.
    fn finish(self) -> Assessment {
        let mut reasons = self.0;
        reasons.sort_by(|a, b| {
            b.level
                .rank()
                .cmp(&a.level.rank())
                .then_with(|| a.code.cmp(&b.code))
        });
        let mut seen = BTreeSet::new();
        reasons.retain(|r| seen.insert(r.code.clone()));
        let level = reasons.first().map_or(Level::Normal, |r| r.level);
        Assessment { level, reasons }
    }
}

/// Network status, every device type: a reported loss of every link,
/// and a weak radio signal on the link in use.
fn network(net: &NetworkObs, r: &mut Reasons) {
    if net.link_type == Some(LinkType::Disconnected) {
        r.push(
            "network.disconnected",
            "Network link lost: no wired, Wi-Fi or cellular connection",
            Level::Abnormal,
            Exception::LinkLost,
        );
        return;
    }
    // Only the link in use matters; when the device did not say which, any radio
    // signal it reported does.
    let active = |t: LinkType| net.link_type.is_none_or(|l| l == t);
    let weak = [
        (
            "network.weak_wifi",
            "Wi-Fi",
            LinkType::Wifi,
            net.wifi_signal,
        ),
        (
            "network.weak_cellular",
            "cellular",
            LinkType::Cellular,
            net.cellular_signal,
        ),
    ];
    for (code, name, kind, signal) in weak {
        if let Some(s) = signal.filter(|s| *s <= WEAK_SIGNAL_PCT)
            && active(kind)
        {
            r.push(
                code,
                format!("Weak {name} signal ({s} %)"),
                Level::Warning,
                Exception::LinkLost,
            );
        }
    }
}

/// Encoding devices: storage of each HDD or SD card, S.M.A.R.T., HDD usage,
/// overwritten recordings, IP channel status, plus video loss and tamper.
fn encoding(device_type: DeviceType, obs: &Observation, r: &mut Reasons) {
    let missing = if device_type == DeviceType::Ipc {
        &NO_SD_CAMERA
    } else {
        &NO_HDD
    };
    storage(obs, missing, r);
    for d in obs.storage.iter().filter(|d| d.kind == DiskKind::Hdd) {
        if let Some(smart) = &d.smart {
            smart_rules(d.id, smart, r);
        }
    }
    if let Some(rec) = &obs.recording {
        if rec.overwriting {
            // Warning, not abnormal: the recorder keeps recording as configured, but
            // the oldest footage is going, so retention is only as long as the disks
            // last; the installer should know (R-28, overwritten-recording status).
            r.push(
                "recording.overwriting",
                "Recordings are being overwritten",
                Level::Warning,
                Exception::RecordingException,
            );
        }
        let unique: BTreeSet<&str> = rec
            .exceptions
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect();
        for e in unique {
            // The device's word (`recordingFailure`) names the subject, so the code
            // stays the same from one inspection to the next.
            let subject: String = e
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            r.push(
                format!("recording.exception:{subject}"),
                format!("Recording exception: {e}"),
                Level::Abnormal,
                Exception::RecordingException,
            );
        }
    }
    for c in &obs.channels {
        channel(c, r);
    }
    if obs.tamper {
        // Someone covered or moved a camera: worth a look, but it often is a spider
        // or a lens cleaning, so a warning.
        r.push(
            "device.tamper",
            "Tamper: the view is covered or the device was moved",
            Level::Warning,
            Exception::Tamper,
        );
    }
}

/// How a disk is named for people, and the code prefix of its kind.
fn disk_name(d: &DiskObs, sd_cards: usize) -> (String, &'static str) {
    match d.kind {
        DiskKind::Hdd => (format!("HDD {}", d.id), "hdd"),
        DiskKind::Sd if sd_cards > 1 => (format!("SD card {}", d.id), "sd"),
        DiskKind::Sd => ("SD card".to_owned(), "sd"),
        DiskKind::Nas => (format!("NAS {}", d.id), "nas"),
    }
}

/// What to say when storage was read and there is no disk or card at all.
struct Missing {
    code: &'static str,
    text: &'static str,
    level: Level,
}

/// A recorder without a disk records nothing.
const NO_HDD: Missing = Missing {
    code: "hdd.none",
    text: "No HDD installed",
    level: Level::Abnormal,
};

/// Many cameras record only on an NVR, so a camera without a card is a warning.
const NO_SD_CAMERA: Missing = Missing {
    code: "sd.missing",
    text: "SD card missing",
    level: Level::Warning,
};

/// A doorbell's card is its only recording.
const NO_SD_DOORBELL: Missing = Missing {
    code: "sd.missing",
    text: "SD card missing",
    level: Level::Abnormal,
};

/// Storage of each disk or card and its usage.
fn storage(obs: &Observation, missing: &Missing, r: &mut Reasons) {
    if !obs.storage_read {
        return;
    }
    if obs.storage.is_empty() {
        r.push(
            missing.code,
            missing.text,
            missing.level,
            Exception::HddError,
        );
        return;
    }
    let sd_cards = obs
        .storage
        .iter()
        .filter(|d| d.kind == DiskKind::Sd)
        .count();
    let overwrite = obs.recording.as_ref().and_then(|rec| rec.overwrite_enabled);
    for d in &obs.storage {
        let (name, prefix) = disk_name(d, sd_cards);
        let id = d.id;
        let status = match d.status {
            DiskStatus::Ok | DiskStatus::Idle => None,
            DiskStatus::Error => Some(("error", "error", Level::Abnormal, Exception::HddError)),
            DiskStatus::Unformatted => Some((
                "unformatted",
                "unformatted",
                Level::Abnormal,
                Exception::HddError,
            )),
            DiskStatus::Mismatch => {
                Some(("mismatch", "mismatch", Level::Abnormal, Exception::HddError))
            }
            DiskStatus::Offline if d.kind == DiskKind::Sd => {
                Some(("offline", "missing", Level::Abnormal, Exception::HddError))
            }
            DiskStatus::Offline => {
                Some(("offline", "offline", Level::Abnormal, Exception::HddError))
            }
            DiskStatus::SmartFailed => Some((
                "smart_failed",
                "S.M.A.R.T. failed",
                Level::Abnormal,
                Exception::Smart,
            )),
            // Repairing or formatting: it will be back, but it does not record now.
            DiskStatus::Busy => Some((
                "busy",
                "being repaired or formatted",
                Level::Warning,
                Exception::HddError,
            )),
            // Something we do not know: worth a look, not an alarm.
            DiskStatus::Other => Some((
                "status",
                "unexpected status",
                Level::Warning,
                Exception::HddError,
            )),
        };
        if let Some((code, words, level, exception)) = status {
            r.push(
                format!("{prefix}.{code}:{id}"),
                format!("{name}: {words}"),
                level,
                exception,
            );
            // A disk that cannot record has no meaningful usage.
            continue;
        }
        let Some(used) = d.usage_pct() else { continue };
        match overwrite {
            Some(false) if used >= OVERWRITE_OFF_FULL_PCT => r.push(
                format!("{prefix}.full:{id}"),
                format!("{name}: full ({used} %), overwrite off"),
                Level::Abnormal,
                Exception::HddFull,
            ),
            Some(false) if used >= OVERWRITE_OFF_NEARLY_FULL_PCT => r.push(
                format!("{prefix}.nearly_full:{id}"),
                format!("{name}: nearly full ({used} %), overwrite off"),
                Level::Warning,
                Exception::HddFull,
            ),
            // Overwrite unknown (many cameras do not say; most overwrite by default):
            // only a disk with no space left is worth a look.
            None if d.is_full() => r.push(
                format!("{prefix}.full:{id}"),
                format!("{name}: full ({used} %)"),
                Level::Warning,
                Exception::HddFull,
            ),
            _ => {}
        }
    }
}

/// Whether a S.M.A.R.T. evaluation text means "healthy".
fn is_good(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "ok" | "pass" | "passed" | "normal" | "functional" | "good"
    )
}

/// S.M.A.R.T. of one HDD: the evaluations, temperature, and the attributes
/// that predict failure.
fn smart_rules(id: u32, s: &SmartObs, r: &mut Reasons) {
    let overall_bad = s.overall.as_deref().is_some_and(|o| {
        let o = o.trim().to_ascii_lowercase();
        o == "fault" || o == "badsectors" || o == "fail" || o == "failed"
    });
    let self_bad = s.self_evaluation.as_deref().is_some_and(|e| !is_good(e));
    if overall_bad || self_bad {
        r.push(
            format!("hdd.smart_failed:{id}"),
            format!("HDD {id}: S.M.A.R.T. failed"),
            Level::Abnormal,
            Exception::Smart,
        );
    }
    if let Some(t) = s.temperature_c.filter(|t| *t >= HOT_DISK_C) {
        r.push(
            format!("hdd.hot:{id}"),
            format!("HDD {id}: hot ({t} °C)"),
            Level::Warning,
            Exception::Smart,
        );
    }
    // The attributes that predict failure (Backblaze's and Google's studies): any
    // non-zero raw value is a warning.
    let attrs: [(u32, &str, &str, &str); 5] = [
        (
            5,
            "reallocated",
            "reallocated sector",
            "reallocated sectors",
        ),
        (
            187,
            "reported_uncorrectable",
            "reported uncorrectable error",
            "reported uncorrectable errors",
        ),
        (197, "pending", "pending sector", "pending sectors"),
        (
            198,
            "uncorrectable",
            "uncorrectable sector",
            "uncorrectable sectors",
        ),
        (
            199,
            "crc_errors",
            "interface CRC error (check the cable)",
            "interface CRC errors (check the cable)",
        ),
    ];
    for (attr, code, one, many) in attrs {
        let raw = s
            .attributes
            .iter()
            .filter(|(a, _)| *a == attr)
            .map(|(_, v)| *v)
            .max();
        if let Some(n) = raw.filter(|n| *n > 0) {
            let words = if n == 1 { one } else { many };
            r.push(
                format!("hdd.{code}:{id}"),
                format!("HDD {id}: {n} {words}"),
                Level::Warning,
                Exception::Smart,
            );
        }
    }
}

/// A recorder's channel: offline camera (NVR IP channel) or video loss.
fn channel(c: &ChannelObs, r: &mut Reasons) {
    let label = match (c.name.as_deref(), c.address.as_deref()) {
        (Some(n), _) if !n.trim().is_empty() => format!("Channel {} ({})", c.id, n.trim()),
        (_, Some(a)) if !a.trim().is_empty() => format!("Channel {} ({})", c.id, a.trim()),
        _ => format!("Channel {}", c.id),
    };
    if !c.online {
        r.push(
            format!("channel.offline:{}", c.id),
            format!("{label} offline"),
            Level::Abnormal,
            Exception::ChannelOffline,
        );
    } else if c.video_loss {
        // An offline camera has no video either; say the more telling thing once.
        r.push(
            format!("channel.video_loss:{}", c.id),
            format!("{label}: video loss"),
            Level::Abnormal,
            Exception::VideoLoss,
        );
    }
}

/// Security control panels: battery, mains, and each zone's detector.
fn control_panel(p: &PanelObs, r: &mut Reasons) {
    let low = p.low_battery || p.battery_pct.is_some_and(|b| b <= BATTERY_LOW_PCT);
    match p.battery_pct {
        Some(b) if low => r.push(
            "battery.low",
            format!("Battery {b} %"),
            Level::Abnormal,
            Exception::LowBattery,
        ),
        None if low => r.push(
            "battery.low",
            "Battery low",
            Level::Abnormal,
            Exception::LowBattery,
        ),
        Some(b) if b <= BATTERY_WARN_PCT => r.push(
            "battery.low",
            format!("Battery {b} %"),
            Level::Warning,
            Exception::LowBattery,
        ),
        _ => {}
    }
    if p.mains_ok == Some(false) {
        r.push(
            "power.mains_lost",
            "Mains power lost, running on battery",
            Level::Abnormal,
            Exception::MainsPowerLost,
        );
    }
    for z in &p.zones {
        zone(z, r);
    }
}

/// One zone of a control panel.
fn zone(z: &ZoneObs, r: &mut Reasons) {
    let label = match z.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => format!("Zone {} ({n})", z.id),
        _ => format!("Zone {}", z.id),
    };
    let id = z.id;
    if z.tamper {
        r.push(
            format!("zone.tamper:{id}"),
            format!("{label}: tamper"),
            Level::Abnormal,
            Exception::Tamper,
        );
    }
    if z.offline {
        // A detector the panel cannot hear does not protect its zone.
        r.push(
            format!("zone.offline:{id}"),
            format!("{label}: offline"),
            Level::Abnormal,
            Exception::LinkLost,
        );
    } else if let Some(s) = z.signal.filter(|s| *s <= WEAK_SIGNAL_PCT) {
        r.push(
            format!("zone.weak_signal:{id}"),
            format!("{label}: weak signal ({s} %)"),
            Level::Warning,
            Exception::LinkLost,
        );
    }
    if z.low_battery {
        // Detector batteries last months after the first warning.
        r.push(
            format!("zone.battery_low:{id}"),
            format!("{label}: low battery"),
            Level::Warning,
            Exception::LowBattery,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{AreaObs, RecordingObs};
    use DeviceType::{AccessControl, ControlPanel, Doorbell, Dvr, Ipc, Nvr, VideoIntercom};
    use Exception as E;
    use Level::{Abnormal, Normal, Offline, Warning};

    /// (level, code, text, exception) of one expected reason.
    type Want = (Level, &'static str, &'static str, Exception);

    struct Case {
        name: &'static str,
        types: &'static [DeviceType],
        obs: Observation,
        level: Level,
        reasons: Vec<Want>,
    }

    const ENCODING: &[DeviceType] = &[Ipc, Nvr, Dvr];
    const RECORDERS: &[DeviceType] = &[Nvr, Dvr];
    const NETWORK_ONLY: &[DeviceType] = &[AccessControl, VideoIntercom];

    fn up() -> Observation {
        Observation {
            reachable: true,
            ..Observation::default()
        }
    }

    fn disk(id: u32, kind: DiskKind, status: DiskStatus, cap: u64, free: u64) -> DiskObs {
        DiskObs {
            id,
            kind,
            status,
            capacity_mb: Some(cap),
            free_mb: Some(free),
            smart: None,
        }
    }

    fn hdd(id: u32, status: DiskStatus) -> DiskObs {
        disk(id, DiskKind::Hdd, status, 1000, 500)
    }

    fn with_disks(disks: Vec<DiskObs>) -> Observation {
        Observation {
            storage: disks,
            storage_read: true,
            ..up()
        }
    }

    fn with_overwrite(
        mut obs: Observation,
        overwrite: Option<bool>,
        overwriting: bool,
    ) -> Observation {
        obs.recording = Some(RecordingObs {
            overwrite_enabled: overwrite,
            overwriting,
            exceptions: Vec::new(),
        });
        obs
    }

    fn with_smart(smart: SmartObs) -> Observation {
        let mut d = hdd(1, DiskStatus::Ok);
        d.smart = Some(smart);
        with_disks(vec![d])
    }

    fn healthy_smart() -> SmartObs {
        SmartObs {
            temperature_c: Some(38),
            power_on_days: Some(400),
            self_evaluation: Some("ok".into()),
            overall: Some("functional".into()),
            attributes: vec![(5, 0), (9, 9600), (194, 38), (197, 0)],
        }
    }

    fn with_net(link: Option<LinkType>, wifi: Option<u8>, cell: Option<u8>) -> Observation {
        Observation {
            network: Some(NetworkObs {
                link_type: link,
                speed_mbps: None,
                wifi_signal: wifi,
                cellular_signal: cell,
            }),
            ..up()
        }
    }

    fn chan(
        id: u32,
        name: Option<&str>,
        address: Option<&str>,
        online: bool,
        loss: bool,
    ) -> ChannelObs {
        ChannelObs {
            id,
            name: name.map(Into::into),
            address: address.map(Into::into),
            online,
            video_loss: loss,
        }
    }

    fn with_channels(channels: Vec<ChannelObs>) -> Observation {
        Observation { channels, ..up() }
    }

    fn panel(p: PanelObs) -> Observation {
        Observation {
            panel: Some(p),
            ..up()
        }
    }

    fn battery(pct: Option<u8>, flag: bool) -> Observation {
        panel(PanelObs {
            battery_pct: pct,
            low_battery: flag,
            mains_ok: Some(true),
            ..PanelObs::default()
        })
    }

    fn zone(id: u32, name: &str, f: impl FnOnce(&mut ZoneObs)) -> Observation {
        let mut z = ZoneObs {
            id,
            name: Some(name.into()),
            tamper: false,
            low_battery: false,
            signal: Some(80),
            offline: false,
        };
        f(&mut z);
        panel(PanelObs {
            battery_pct: Some(100),
            mains_ok: Some(true),
            areas: vec![AreaObs {
                id: 1,
                name: Some("Area 1".into()),
                state: "away".into(),
                alarm: false,
            }],
            zones: vec![z],
            ..PanelObs::default()
        })
    }

    /// Everything wrong at once, for the types that must ignore most of it.
    fn everything_wrong() -> Observation {
        let mut d = hdd(2, DiskStatus::Error);
        d.smart = Some(SmartObs {
            overall: Some("fault".into()),
            ..SmartObs::default()
        });
        Observation {
            storage: vec![d],
            storage_read: true,
            channels: vec![chan(3, Some("Gate"), None, false, false)],
            recording: Some(RecordingObs {
                overwrite_enabled: Some(true),
                overwriting: true,
                exceptions: vec!["recordingFailure".into()],
            }),
            panel: Some(PanelObs {
                battery_pct: Some(5),
                low_battery: true,
                mains_ok: Some(false),
                ..PanelObs::default()
            }),
            tamper: true,
            ..up()
        }
    }

    fn cases() -> Vec<Case> {
        let all = &DeviceType::ALL;
        let mut v = vec![
            // Reachability and sign-in, every type.
            Case {
                name: "not reachable",
                types: all,
                obs: Observation::default(),
                level: Offline,
                reasons: vec![(Offline, "device.offline", "Not answering", E::Offline)],
            },
            Case {
                name: "not reachable wins over everything observed before",
                types: all,
                obs: Observation {
                    reachable: false,
                    ..everything_wrong()
                },
                level: Offline,
                reasons: vec![(Offline, "device.offline", "Not answering", E::Offline)],
            },
            Case {
                name: "sign-in refused",
                types: all,
                obs: Observation {
                    auth_failed: true,
                    ..up()
                },
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "device.auth_failed",
                    "Siteward's sign-in is refused (password changed or account locked)",
                    E::AuthFailed,
                )],
            },
            Case {
                name: "reachable, nothing wrong",
                types: all,
                obs: up(),
                level: Normal,
                reasons: vec![],
            },
            // Network, every type.
            Case {
                name: "link lost",
                types: all,
                obs: with_net(Some(LinkType::Disconnected), None, None),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "network.disconnected",
                    "Network link lost: no wired, Wi-Fi or cellular connection",
                    E::LinkLost,
                )],
            },
            Case {
                name: "weak Wi-Fi in use",
                types: all,
                obs: with_net(Some(LinkType::Wifi), Some(15), Some(80)),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "network.weak_wifi",
                    "Weak Wi-Fi signal (15 %)",
                    E::LinkLost,
                )],
            },
            Case {
                name: "weak cellular in use",
                types: all,
                obs: with_net(Some(LinkType::Cellular), Some(0), Some(15)),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "network.weak_cellular",
                    "Weak cellular signal (15 %)",
                    E::LinkLost,
                )],
            },
            Case {
                name: "weak signal at the threshold, link unknown",
                types: all,
                obs: with_net(None, Some(20), Some(21)),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "network.weak_wifi",
                    "Weak Wi-Fi signal (20 %)",
                    E::LinkLost,
                )],
            },
            Case {
                name: "weak radio not in use is ignored",
                types: all,
                obs: with_net(Some(LinkType::Wired), Some(0), Some(0)),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "good Wi-Fi",
                types: all,
                obs: with_net(Some(LinkType::Wifi), Some(21), None),
                level: Normal,
                reasons: vec![],
            },
            // Storage, encoding devices.
            Case {
                name: "healthy disk",
                types: ENCODING,
                obs: with_disks(vec![hdd(1, DiskStatus::Ok), hdd(2, DiskStatus::Idle)]),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "storage not read says nothing",
                types: ENCODING,
                obs: Observation {
                    storage_read: false,
                    ..up()
                },
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "recorder without disk",
                types: RECORDERS,
                obs: with_disks(vec![]),
                level: Abnormal,
                reasons: vec![(Abnormal, "hdd.none", "No HDD installed", E::HddError)],
            },
            Case {
                name: "camera without card",
                types: &[Ipc],
                obs: with_disks(vec![]),
                level: Warning,
                reasons: vec![(Warning, "sd.missing", "SD card missing", E::HddError)],
            },
            Case {
                name: "HDD error",
                types: ENCODING,
                obs: with_disks(vec![hdd(1, DiskStatus::Ok), hdd(2, DiskStatus::Error)]),
                level: Abnormal,
                reasons: vec![(Abnormal, "hdd.error:2", "HDD 2: error", E::HddError)],
            },
            Case {
                name: "HDD unformatted",
                types: ENCODING,
                obs: with_disks(vec![disk(
                    1,
                    DiskKind::Hdd,
                    DiskStatus::Unformatted,
                    1000,
                    0,
                )]),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.unformatted:1",
                    "HDD 1: unformatted",
                    E::HddError,
                )],
            },
            Case {
                name: "HDD mismatch",
                types: ENCODING,
                obs: with_disks(vec![hdd(3, DiskStatus::Mismatch)]),
                level: Abnormal,
                reasons: vec![(Abnormal, "hdd.mismatch:3", "HDD 3: mismatch", E::HddError)],
            },
            Case {
                name: "HDD offline",
                types: ENCODING,
                obs: with_disks(vec![hdd(1, DiskStatus::Offline)]),
                level: Abnormal,
                reasons: vec![(Abnormal, "hdd.offline:1", "HDD 1: offline", E::HddError)],
            },
            Case {
                name: "NAS offline",
                types: ENCODING,
                obs: with_disks(vec![
                    hdd(1, DiskStatus::Ok),
                    disk(9, DiskKind::Nas, DiskStatus::Offline, 0, 0),
                ]),
                level: Abnormal,
                reasons: vec![(Abnormal, "nas.offline:9", "NAS 9: offline", E::HddError)],
            },
            Case {
                name: "SD card offline reads as missing",
                types: &[Ipc, Doorbell],
                obs: with_disks(vec![disk(1, DiskKind::Sd, DiskStatus::Offline, 0, 0)]),
                level: Abnormal,
                reasons: vec![(Abnormal, "sd.offline:1", "SD card: missing", E::HddError)],
            },
            Case {
                name: "two SD cards are numbered",
                types: &[Ipc, Doorbell],
                obs: with_disks(vec![
                    disk(1, DiskKind::Sd, DiskStatus::Ok, 100, 50),
                    disk(2, DiskKind::Sd, DiskStatus::Error, 100, 50),
                ]),
                level: Abnormal,
                reasons: vec![(Abnormal, "sd.error:2", "SD card 2: error", E::HddError)],
            },
            Case {
                name: "disk status says S.M.A.R.T. failed",
                types: ENCODING,
                obs: with_disks(vec![hdd(2, DiskStatus::SmartFailed)]),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.smart_failed:2",
                    "HDD 2: S.M.A.R.T. failed",
                    E::Smart,
                )],
            },
            Case {
                name: "disk being repaired",
                types: ENCODING,
                obs: with_disks(vec![hdd(1, DiskStatus::Busy)]),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "hdd.busy:1",
                    "HDD 1: being repaired or formatted",
                    E::HddError,
                )],
            },
            Case {
                name: "disk in an unknown state",
                types: ENCODING,
                obs: with_disks(vec![hdd(1, DiskStatus::Other)]),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "hdd.status:1",
                    "HDD 1: unexpected status",
                    E::HddError,
                )],
            },
            // HDD usage.
            Case {
                name: "full, overwrite off",
                types: ENCODING,
                obs: with_overwrite(
                    with_disks(vec![disk(1, DiskKind::Hdd, DiskStatus::Ok, 1000, 20)]),
                    Some(false),
                    false,
                ),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.full:1",
                    "HDD 1: full (98 %), overwrite off",
                    E::HddFull,
                )],
            },
            Case {
                name: "full at the threshold, overwrite off",
                types: ENCODING,
                obs: with_overwrite(
                    with_disks(vec![disk(1, DiskKind::Hdd, DiskStatus::Ok, 1000, 50)]),
                    Some(false),
                    false,
                ),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.full:1",
                    "HDD 1: full (95 %), overwrite off",
                    E::HddFull,
                )],
            },
            Case {
                name: "nearly full, overwrite off",
                types: ENCODING,
                obs: with_overwrite(
                    with_disks(vec![disk(2, DiskKind::Hdd, DiskStatus::Ok, 1000, 80)]),
                    Some(false),
                    false,
                ),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "hdd.nearly_full:2",
                    "HDD 2: nearly full (92 %), overwrite off",
                    E::HddFull,
                )],
            },
            Case {
                name: "below the warning, overwrite off",
                types: ENCODING,
                obs: with_overwrite(
                    with_disks(vec![disk(1, DiskKind::Hdd, DiskStatus::Ok, 1000, 110)]),
                    Some(false),
                    false,
                ),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "full with overwrite on is how recorders work",
                types: ENCODING,
                obs: with_overwrite(
                    with_disks(vec![disk(1, DiskKind::Hdd, DiskStatus::Ok, 1000, 0)]),
                    Some(true),
                    false,
                ),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "being overwritten",
                types: ENCODING,
                obs: with_overwrite(
                    with_disks(vec![disk(1, DiskKind::Hdd, DiskStatus::Ok, 1000, 0)]),
                    Some(true),
                    true,
                ),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "recording.overwriting",
                    "Recordings are being overwritten",
                    E::RecordingException,
                )],
            },
            Case {
                name: "full card, overwrite unknown",
                types: &[Ipc, Doorbell],
                obs: with_disks(vec![disk(1, DiskKind::Sd, DiskStatus::Ok, 1000, 0)]),
                level: Warning,
                reasons: vec![(Warning, "sd.full:1", "SD card: full (100 %)", E::HddFull)],
            },
            Case {
                name: "nearly full card, overwrite unknown, is normal",
                types: &[Ipc, Doorbell],
                obs: with_disks(vec![disk(1, DiskKind::Sd, DiskStatus::Ok, 1000, 50)]),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "unformatted disk has no usage reason",
                types: ENCODING,
                obs: with_overwrite(
                    with_disks(vec![disk(
                        1,
                        DiskKind::Hdd,
                        DiskStatus::Unformatted,
                        1000,
                        0,
                    )]),
                    Some(false),
                    false,
                ),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.unformatted:1",
                    "HDD 1: unformatted",
                    E::HddError,
                )],
            },
            // S.M.A.R.T..
            Case {
                name: "S.M.A.R.T. healthy",
                types: ENCODING,
                obs: with_smart(healthy_smart()),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "S.M.A.R.T. overall fault",
                types: ENCODING,
                obs: with_smart(SmartObs {
                    overall: Some("fault".into()),
                    ..healthy_smart()
                }),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.smart_failed:1",
                    "HDD 1: S.M.A.R.T. failed",
                    E::Smart,
                )],
            },
            Case {
                name: "S.M.A.R.T. bad sectors",
                types: ENCODING,
                obs: with_smart(SmartObs {
                    overall: Some("badSectors".into()),
                    ..healthy_smart()
                }),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.smart_failed:1",
                    "HDD 1: S.M.A.R.T. failed",
                    E::Smart,
                )],
            },
            Case {
                name: "S.M.A.R.T. self-evaluation not ok",
                types: ENCODING,
                obs: with_smart(SmartObs {
                    self_evaluation: Some("error".into()),
                    ..healthy_smart()
                }),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.smart_failed:1",
                    "HDD 1: S.M.A.R.T. failed",
                    E::Smart,
                )],
            },
            Case {
                name: "hot disk",
                types: ENCODING,
                obs: with_smart(SmartObs {
                    temperature_c: Some(60),
                    ..healthy_smart()
                }),
                level: Warning,
                reasons: vec![(Warning, "hdd.hot:1", "HDD 1: hot (60 °C)", E::Smart)],
            },
            Case {
                name: "warm disk",
                types: ENCODING,
                obs: with_smart(SmartObs {
                    temperature_c: Some(59),
                    ..healthy_smart()
                }),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "failure-predicting attributes",
                types: ENCODING,
                obs: with_smart(SmartObs {
                    attributes: vec![(5, 12), (187, 2), (194, 38), (197, 3), (198, 1), (199, 7)],
                    ..healthy_smart()
                }),
                level: Warning,
                reasons: vec![
                    (
                        Warning,
                        "hdd.crc_errors:1",
                        "HDD 1: 7 interface CRC errors (check the cable)",
                        E::Smart,
                    ),
                    (
                        Warning,
                        "hdd.pending:1",
                        "HDD 1: 3 pending sectors",
                        E::Smart,
                    ),
                    (
                        Warning,
                        "hdd.reallocated:1",
                        "HDD 1: 12 reallocated sectors",
                        E::Smart,
                    ),
                    (
                        Warning,
                        "hdd.reported_uncorrectable:1",
                        "HDD 1: 2 reported uncorrectable errors",
                        E::Smart,
                    ),
                    (
                        Warning,
                        "hdd.uncorrectable:1",
                        "HDD 1: 1 uncorrectable sector",
                        E::Smart,
                    ),
                ],
            },
            Case {
                name: "the simulator's smart_warning",
                types: ENCODING,
                obs: with_smart(SmartObs {
                    temperature_c: Some(61),
                    self_evaluation: Some("error".into()),
                    overall: Some("fault".into()),
                    attributes: vec![(1, 0), (5, 312), (9, 1000), (194, 61), (197, 24)],
                    ..healthy_smart()
                }),
                level: Abnormal,
                reasons: vec![
                    (
                        Abnormal,
                        "hdd.smart_failed:1",
                        "HDD 1: S.M.A.R.T. failed",
                        E::Smart,
                    ),
                    (Warning, "hdd.hot:1", "HDD 1: hot (61 °C)", E::Smart),
                    (
                        Warning,
                        "hdd.pending:1",
                        "HDD 1: 24 pending sectors",
                        E::Smart,
                    ),
                    (
                        Warning,
                        "hdd.reallocated:1",
                        "HDD 1: 312 reallocated sectors",
                        E::Smart,
                    ),
                ],
            },
            Case {
                name: "S.M.A.R.T. failed by status and evaluation is said once",
                types: ENCODING,
                obs: {
                    let mut d = hdd(2, DiskStatus::SmartFailed);
                    d.smart = Some(SmartObs {
                        overall: Some("fault".into()),
                        ..SmartObs::default()
                    });
                    with_disks(vec![d])
                },
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "hdd.smart_failed:2",
                    "HDD 2: S.M.A.R.T. failed",
                    E::Smart,
                )],
            },
            // Channels.
            Case {
                name: "IP channel offline",
                types: ENCODING,
                obs: with_channels(vec![
                    chan(1, Some("Door"), Some("10.0.0.2"), true, false),
                    chan(3, Some("Gate"), Some("10.0.0.4"), false, false),
                ]),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "channel.offline:3",
                    "Channel 3 (Gate) offline",
                    E::ChannelOffline,
                )],
            },
            Case {
                name: "IP channel offline without a name",
                types: ENCODING,
                obs: with_channels(vec![chan(4, None, Some("10.0.0.5"), false, true)]),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "channel.offline:4",
                    "Channel 4 (10.0.0.5) offline",
                    E::ChannelOffline,
                )],
            },
            Case {
                name: "video loss",
                types: ENCODING,
                obs: with_channels(vec![chan(2, None, None, true, true)]),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "channel.video_loss:2",
                    "Channel 2: video loss",
                    E::VideoLoss,
                )],
            },
            // Recording, tamper.
            Case {
                name: "recording exceptions",
                types: ENCODING,
                obs: Observation {
                    recording: Some(RecordingObs {
                        overwrite_enabled: Some(true),
                        overwriting: false,
                        exceptions: vec![
                            "recordingFailure".into(),
                            " ".into(),
                            "recordingFailure".into(),
                        ],
                    }),
                    ..up()
                },
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "recording.exception:recordingFailure",
                    "Recording exception: recordingFailure",
                    E::RecordingException,
                )],
            },
            Case {
                name: "camera tamper",
                types: ENCODING,
                obs: Observation {
                    tamper: true,
                    ..up()
                },
                level: Warning,
                reasons: vec![(
                    Warning,
                    "device.tamper",
                    "Tamper: the view is covered or the device was moved",
                    E::Tamper,
                )],
            },
            Case {
                name: "worst first, then by code",
                types: RECORDERS,
                obs: Observation {
                    storage: vec![
                        disk(1, DiskKind::Hdd, DiskStatus::Ok, 1000, 0),
                        hdd(2, DiskStatus::Error),
                    ],
                    storage_read: true,
                    channels: vec![chan(2, Some("Yard"), None, false, false)],
                    recording: Some(RecordingObs {
                        overwrite_enabled: Some(true),
                        overwriting: true,
                        exceptions: vec![],
                    }),
                    network: Some(NetworkObs {
                        link_type: Some(LinkType::Wifi),
                        wifi_signal: Some(10),
                        ..NetworkObs::default()
                    }),
                    ..up()
                },
                level: Abnormal,
                reasons: vec![
                    (
                        Abnormal,
                        "channel.offline:2",
                        "Channel 2 (Yard) offline",
                        E::ChannelOffline,
                    ),
                    (Abnormal, "hdd.error:2", "HDD 2: error", E::HddError),
                    (
                        Warning,
                        "network.weak_wifi",
                        "Weak Wi-Fi signal (10 %)",
                        E::LinkLost,
                    ),
                    (
                        Warning,
                        "recording.overwriting",
                        "Recordings are being overwritten",
                        E::RecordingException,
                    ),
                ],
            },
            // Control panels.
            Case {
                name: "battery low",
                types: &[ControlPanel],
                obs: battery(Some(12), false),
                level: Abnormal,
                reasons: vec![(Abnormal, "battery.low", "Battery 12 %", E::LowBattery)],
            },
            Case {
                name: "battery low at the threshold",
                types: &[ControlPanel],
                obs: battery(Some(20), false),
                level: Abnormal,
                reasons: vec![(Abnormal, "battery.low", "Battery 20 %", E::LowBattery)],
            },
            Case {
                name: "battery getting low",
                types: &[ControlPanel],
                obs: battery(Some(35), false),
                level: Warning,
                reasons: vec![(Warning, "battery.low", "Battery 35 %", E::LowBattery)],
            },
            Case {
                name: "battery fine",
                types: &[ControlPanel],
                obs: battery(Some(36), false),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "panel's low-battery flag without a charge",
                types: &[ControlPanel],
                obs: battery(None, true),
                level: Abnormal,
                reasons: vec![(Abnormal, "battery.low", "Battery low", E::LowBattery)],
            },
            Case {
                name: "panel's low-battery flag wins over the charge",
                types: &[ControlPanel],
                obs: battery(Some(50), true),
                level: Abnormal,
                reasons: vec![(Abnormal, "battery.low", "Battery 50 %", E::LowBattery)],
            },
            Case {
                name: "mains lost",
                types: &[ControlPanel],
                obs: panel(PanelObs {
                    battery_pct: Some(90),
                    mains_ok: Some(false),
                    ..PanelObs::default()
                }),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "power.mains_lost",
                    "Mains power lost, running on battery",
                    E::MainsPowerLost,
                )],
            },
            Case {
                name: "the simulator's low_battery: 10 % and no mains",
                types: &[ControlPanel],
                obs: panel(PanelObs {
                    battery_pct: Some(10),
                    low_battery: true,
                    mains_ok: Some(false),
                    ..PanelObs::default()
                }),
                level: Abnormal,
                reasons: vec![
                    (Abnormal, "battery.low", "Battery 10 %", E::LowBattery),
                    (
                        Abnormal,
                        "power.mains_lost",
                        "Mains power lost, running on battery",
                        E::MainsPowerLost,
                    ),
                ],
            },
            Case {
                name: "zone tamper",
                types: &[ControlPanel],
                obs: zone(3, "Back door", |z| z.tamper = true),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "zone.tamper:3",
                    "Zone 3 (Back door): tamper",
                    E::Tamper,
                )],
            },
            Case {
                name: "zone offline",
                types: &[ControlPanel],
                obs: zone(5, "Hall PIR", |z| {
                    z.offline = true;
                    z.signal = Some(0);
                }),
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "zone.offline:5",
                    "Zone 5 (Hall PIR): offline",
                    E::LinkLost,
                )],
            },
            Case {
                name: "zone low battery",
                types: &[ControlPanel],
                obs: zone(1, "Front door", |z| z.low_battery = true),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "zone.battery_low:1",
                    "Zone 1 (Front door): low battery",
                    E::LowBattery,
                )],
            },
            Case {
                name: "zone weak signal, no name",
                types: &[ControlPanel],
                obs: zone(2, " ", |z| z.signal = Some(12)),
                level: Warning,
                reasons: vec![(
                    Warning,
                    "zone.weak_signal:2",
                    "Zone 2: weak signal (12 %)",
                    E::LinkLost,
                )],
            },
            Case {
                name: "panel tamper",
                types: &[ControlPanel],
                obs: Observation {
                    tamper: true,
                    ..battery(Some(100), false)
                },
                level: Abnormal,
                reasons: vec![(
                    Abnormal,
                    "device.tamper",
                    "Panel tamper: the cover is open or the panel was moved",
                    E::Tamper,
                )],
            },
            Case {
                name: "healthy panel on cellular",
                types: &[ControlPanel],
                obs: Observation {
                    network: Some(NetworkObs {
                        link_type: Some(LinkType::Cellular),
                        cellular_signal: Some(60),
                        ..NetworkObs::default()
                    }),
                    ..zone(1, "Front door", |_| {})
                },
                level: Normal,
                reasons: vec![],
            },
            // Doorbells.
            Case {
                name: "doorbell without card",
                types: &[Doorbell],
                obs: with_disks(vec![]),
                level: Abnormal,
                reasons: vec![(Abnormal, "sd.missing", "SD card missing", E::HddError)],
            },
            Case {
                name: "doorbell card error",
                types: &[Doorbell],
                obs: with_disks(vec![disk(1, DiskKind::Sd, DiskStatus::Error, 100, 50)]),
                level: Abnormal,
                reasons: vec![(Abnormal, "sd.error:1", "SD card: error", E::HddError)],
            },
            // What does not apply is ignored.
            Case {
                name: "access control and intercoms: network only (R-30, R-31)",
                types: NETWORK_ONLY,
                obs: everything_wrong(),
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "doorbell: network and SD card only (R-32)",
                types: &[Doorbell],
                obs: everything_wrong(),
                level: Abnormal,
                reasons: vec![(Abnormal, "hdd.error:2", "HDD 2: error", E::HddError)],
            },
            Case {
                name: "panels ignore storage and channels",
                types: &[ControlPanel],
                obs: Observation {
                    panel: None,
                    tamper: false,
                    ..everything_wrong()
                },
                level: Normal,
                reasons: vec![],
            },
            Case {
                name: "encoding devices ignore panel facts",
                types: ENCODING,
                obs: Observation {
                    panel: Some(PanelObs {
                        battery_pct: Some(1),
                        mains_ok: Some(false),
                        ..PanelObs::default()
                    }),
                    ..up()
                },
                level: Normal,
                reasons: vec![],
            },
        ];
        // The doorbell's R-32 disk rules share the camera's SD-card cases above;
        // also check that an IPC with every fault ranks its reasons as documented.
        v.push(Case {
            name: "camera with everything wrong",
            types: &[Ipc],
            obs: everything_wrong(),
            level: Abnormal,
            reasons: vec![
                (
                    Abnormal,
                    "channel.offline:3",
                    "Channel 3 (Gate) offline",
                    E::ChannelOffline,
                ),
                (Abnormal, "hdd.error:2", "HDD 2: error", E::HddError),
                (
                    Abnormal,
                    "hdd.smart_failed:2",
                    "HDD 2: S.M.A.R.T. failed",
                    E::Smart,
                ),
                (
                    Abnormal,
                    "recording.exception:recordingFailure",
                    "Recording exception: recordingFailure",
                    E::RecordingException,
                ),
                (
                    Warning,
                    "device.tamper",
                    "Tamper: the view is covered or the device was moved",
                    E::Tamper,
                ),
                (
                    Warning,
                    "recording.overwriting",
                    "Recordings are being overwritten",
                    E::RecordingException,
                ),
            ],
        });
        v
    }

    #[test]
    fn table() {
        let mut checked = 0;
        for case in cases() {
            for &t in case.types {
                let got = assess(t, &case.obs);
                let got_reasons: Vec<(Level, &str, &str, Exception)> = got
                    .reasons
                    .iter()
                    .map(|r| (r.level, r.code.as_str(), r.text.as_str(), r.exception))
                    .collect();
                assert_eq!(got.level, case.level, "{} ({t}): level", case.name);
                assert_eq!(got_reasons, case.reasons, "{} ({t}): reasons", case.name);
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} rows ran");
    }

    #[test]
    fn every_type_and_exception_is_covered_by_the_table() {
        let cases = cases();
        for t in DeviceType::ALL {
            assert!(
                cases
                    .iter()
                    .any(|c| c.types.contains(&t) && c.level != Normal && c.level != Offline),
                "no abnormal or warning case for {t}"
            );
        }
        for e in Exception::ALL {
            assert!(
                cases.iter().any(|c| c.reasons.iter().any(|w| w.3 == e)),
                "no case yields {}",
                e.as_str()
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::collection::vec;
        use proptest::option;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                Just("ok".to_owned()),
                Just("fault".to_owned()),
                Just("badSectors".to_owned()),
                Just("functional".to_owned()),
                "\\PC{0,12}",
            ]
        }

        fn device_type() -> impl Strategy<Value = DeviceType> {
            proptest::sample::select(DeviceType::ALL.to_vec())
        }

        fn link() -> impl Strategy<Value = LinkType> {
            proptest::sample::select(vec![
                LinkType::Wired,
                LinkType::Wifi,
                LinkType::Cellular,
                LinkType::Disconnected,
            ])
        }

        fn network() -> impl Strategy<Value = NetworkObs> {
            (
                option::of(link()),
                option::of(any::<u32>()),
                option::of(any::<u8>()),
                option::of(any::<u8>()),
            )
                .prop_map(|(link_type, speed_mbps, wifi_signal, cellular_signal)| {
                    NetworkObs {
                        link_type,
                        speed_mbps,
                        wifi_signal,
                        cellular_signal,
                    }
                })
        }

        fn smart() -> impl Strategy<Value = SmartObs> {
            (
                option::of(any::<i32>()),
                option::of(any::<u32>()),
                option::of(text()),
                option::of(text()),
                vec(
                    (
                        prop_oneof![
                            Just(5u32),
                            Just(187),
                            Just(197),
                            Just(198),
                            Just(199),
                            any::<u32>()
                        ],
                        any::<u64>(),
                    ),
                    0..6,
                ),
            )
                .prop_map(
                    |(temperature_c, power_on_days, self_evaluation, overall, attributes)| {
                        SmartObs {
                            temperature_c,
                            power_on_days,
                            self_evaluation,
                            overall,
                            attributes,
                        }
                    },
                )
        }

        fn disk() -> impl Strategy<Value = DiskObs> {
            let kind = proptest::sample::select(vec![DiskKind::Hdd, DiskKind::Sd, DiskKind::Nas]);
            let status = proptest::sample::select(vec![
                DiskStatus::Ok,
                DiskStatus::Unformatted,
                DiskStatus::Error,
                DiskStatus::Idle,
                DiskStatus::Mismatch,
                DiskStatus::Offline,
                DiskStatus::SmartFailed,
                DiskStatus::Busy,
                DiskStatus::Other,
            ]);
            (
                0u32..12,
                kind,
                status,
                option::of(any::<u64>()),
                option::of(any::<u64>()),
                option::of(smart()),
            )
                .prop_map(|(id, kind, status, capacity_mb, free_mb, smart)| DiskObs {
                    id,
                    kind,
                    status,
                    capacity_mb,
                    free_mb,
                    smart,
                })
        }

        fn channel() -> impl Strategy<Value = ChannelObs> {
            (
                0u32..40,
                option::of(text()),
                option::of(text()),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(|(id, name, address, online, video_loss)| ChannelObs {
                    id,
                    name,
                    address,
                    online,
                    video_loss,
                })
        }

        fn zone() -> impl Strategy<Value = ZoneObs> {
            (
                0u32..64,
                option::of(text()),
                any::<bool>(),
                any::<bool>(),
                option::of(any::<u8>()),
                any::<bool>(),
            )
                .prop_map(|(id, name, tamper, low_battery, signal, offline)| ZoneObs {
                    id,
                    name,
                    tamper,
                    low_battery,
                    signal,
                    offline,
                })
        }

        fn panel() -> impl Strategy<Value = PanelObs> {
            (
                option::of(any::<u8>()),
                any::<bool>(),
                option::of(any::<bool>()),
                vec(zone(), 0..6),
            )
                .prop_map(|(battery_pct, low_battery, mains_ok, zones)| PanelObs {
                    battery_pct,
                    low_battery,
                    mains_ok,
                    areas: Vec::new(),
                    zones,
                })
        }

        fn recording() -> impl Strategy<Value = RecordingObs> {
            (option::of(any::<bool>()), any::<bool>(), vec(text(), 0..4)).prop_map(
                |(overwrite_enabled, overwriting, exceptions)| RecordingObs {
                    overwrite_enabled,
                    overwriting,
                    exceptions,
                },
            )
        }

        fn observation() -> impl Strategy<Value = Observation> {
            (
                (any::<bool>(), any::<bool>(), option::of(network())),
                (vec(disk(), 0..5), any::<bool>()),
                vec(channel(), 0..6),
                option::of(recording()),
                option::of(panel()),
                any::<bool>(),
            )
                .prop_map(
                    |(
                        (reachable, auth_failed, network),
                        (storage, storage_read),
                        channels,
                        recording,
                        panel,
                        tamper,
                    )| {
                        Observation {
                            reachable,
                            auth_failed,
                            network,
                            storage,
                            storage_read,
                            channels,
                            recording,
                            panel,
                            tamper,
                        }
                    },
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// Never panics; the level is the worst reason's (Normal when none);
            /// reasons come worst first, then by code; codes are unique; every
            /// reason has words; offline means exactly one reason.
            #[test]
            fn assessment_is_consistent(t in device_type(), obs in observation()) {
                let a = assess(t, &obs);
                let worst = a.reasons.iter().map(|r| r.level).max_by_key(|l| l.rank()).unwrap_or(Normal);
                prop_assert_eq!(a.level, worst);
                for pair in a.reasons.windows(2) {
                    let (x, y) = (&pair[0], &pair[1]);
                    prop_assert!(
                        x.level.rank() > y.level.rank()
                            || (x.level == y.level && x.code < y.code),
                        "order: {:?} before {:?}", x, y
                    );
                }
                let codes: BTreeSet<&str> = a.reasons.iter().map(|r| r.code.as_str()).collect();
                prop_assert_eq!(codes.len(), a.reasons.len());
                prop_assert!(a.reasons.iter().all(|r| !r.text.trim().is_empty() && !r.code.is_empty()));
                prop_assert!(a.reasons.iter().all(|r| r.level != Level::Unknown && r.level != Normal));
                prop_assert_eq!(a.level == Offline, !obs.reachable);
                if !obs.reachable || obs.auth_failed {
                    prop_assert_eq!(a.reasons.len(), 1);
                }
            }

            /// The same observation always gives the same verdict.
            #[test]
            fn assessment_is_deterministic(t in device_type(), obs in observation()) {
                prop_assert_eq!(assess(t, &obs), assess(t, &obs.clone()));
            }
        }
    }
}
