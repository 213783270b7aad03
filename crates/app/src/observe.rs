//! Observing a device over ISAPI: ask the endpoints that
//! matter for its type and normalise the answers into an [`Observation`] for the core
//! health rules. Nothing here judges; `siteward_core::health::assess` does.
//!
//! The first request (`deviceInfo`) decides reachability: no answer means offline,
//! refused credentials mean "reachable, sign-in refused", and nothing more is asked
//! either way. After it, every endpoint is optional: `notSupport` answers are
//! skipped silently (devices support different parts of ISAPI), other failures are
//! skipped with a debug log, and what was read is kept.

use futures::future::join_all;
use siteward_core::DeviceType;
use siteward_core::health::{
    AreaObs, ChannelObs, DiskKind, DiskObs, DiskStatus, LinkType, NetworkObs, Observation,
    PanelObs, RecordingObs, SmartObs, ZoneObs,
};
use siteward_isapi::models::{
    Hdd, InputProxyChannelList, InputProxyChannelStatusList, LOW_BATTERY_PERCENT, Nas,
    NetworkInterfaceList, PanelLink, PanelStatus, SmartStatus, SourceInputPort, Storage,
    StorageStatus,
};
use siteward_isapi::{Client, Element, Error, json};

/// Analog inputs of DVRs (and cameras); no typed model in the protocol crate.
const VIDEO_INPUTS: &str = "/ISAPI/System/Video/inputs/channels";
/// Zones of AX Pro panels; no typed model in the protocol crate.
const PANEL_ZONES: &str = "/ISAPI/SecurityCP/status/zones?format=json";

/// Reads what the health rules need from a device of `device_type`.
pub async fn observe(client: &Client, device_type: DeviceType) -> Observation {
    match client.device_info().await {
        Ok(_) => {}
        Err(e) if is_unreachable(&e) => {
            tracing::debug!(error = %e, "device not answering");
            return Observation::default();
        }
        Err(e) if is_auth_refused(&e) => {
            tracing::debug!(error = %e, "device refuses our credentials");
            return Observation {
                reachable: true,
                auth_failed: true,
                ..Observation::default()
            };
        }
        // It answered, just not with a device description: go on.
        Err(e) => tracing::debug!(error = %e, "deviceInfo unreadable; observing anyway"),
    }
    let mut obs = Observation {
        reachable: true,
        ..Observation::default()
    };
    match device_type {
        DeviceType::Ipc | DeviceType::Nvr | DeviceType::Dvr => {
            encoding(client, device_type, &mut obs).await;
        }
        DeviceType::ControlPanel => panel(client, &mut obs).await,
        DeviceType::AccessControl | DeviceType::VideoIntercom => {
            obs.network = network(client).await;
        }
        DeviceType::Doorbell => {
            let (net, storage) = futures::join!(network(client), client.storage());
            obs.network = net;
            if let Some(s) = optional("storage", storage) {
                fill_storage(&mut obs, &s, device_type);
            }
        }
    }
    obs
}

/// Nothing answered (or not in time): the device is offline.
fn is_unreachable(e: &Error) -> bool {
    matches!(
        e,
        Error::Unreachable { .. }
            | Error::Timeout { .. }
            | Error::Transport { .. }
            | Error::Tls { .. }
    )
}

/// The device answered but will not let us in.
fn is_auth_refused(e: &Error) -> bool {
    matches!(
        e,
        Error::Unauthorized { .. } | Error::LockedOut { .. } | Error::CredentialsBlocked
    )
}

/// An optional endpoint's answer: kept when read, skipped otherwise.
fn optional<T>(endpoint: &str, result: Result<T, Error>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(Error::NotSupported { .. }) => None,
        Err(e) => {
            tracing::debug!(endpoint, error = %e, "skipped in the inspection");
            None
        }
    }
}

/// NVR, DVR, camera: network, each HDD or card with S.M.A.R.T., overwrite,
/// and the channels.
async fn encoding(client: &Client, device_type: DeviceType, obs: &mut Observation) {
    let recorder = matches!(device_type, DeviceType::Nvr | DeviceType::Dvr);
    let (net, storage, extension, channels) = futures::join!(
        network(client),
        client.storage(),
        client.storage_extension(),
        channels(client, device_type),
    );
    obs.network = net;
    obs.channels = channels;
    if let Some(s) = optional("storage", storage) {
        fill_storage(obs, &s, device_type);
    }
    if recorder {
        // S.M.A.R.T. of every HDD that is there to ask.
        let ids: Vec<u32> = obs
            .storage
            .iter()
            .filter(|d| d.kind == DiskKind::Hdd && d.status != DiskStatus::Offline)
            .map(|d| d.id)
            .collect();
        let answers = join_all(ids.iter().map(|id| client.smart(*id))).await;
        for (id, answer) in ids.into_iter().zip(answers) {
            let smart = optional("smart", answer).map(|s| smart_obs(&s));
            if let Some(d) = obs.storage.iter_mut().find(|d| d.id == id) {
                d.smart = smart;
            }
        }
    }
    let overwrite_enabled = optional("storage extension", extension).and_then(|e| e.overwrite);
    // Overwriting now: overwrite on and every disk that records is full.
    let mut recording = obs
        .storage
        .iter()
        .filter(|d| matches!(d.status, DiskStatus::Ok | DiskStatus::Idle))
        .peekable();
    let all_full = recording.peek().is_some() && recording.all(DiskObs::is_full);
    obs.recording = Some(RecordingObs {
        overwrite_enabled,
        overwriting: overwrite_enabled == Some(true) && all_full,
        exceptions: Vec::new(),
    });
}

/// The network as the device's interfaces describe it: the default connection, its
/// type (wired or Wi-Fi) and speed.
async fn network(client: &Client) -> Option<NetworkObs> {
    let list = optional("network interfaces", client.network_interfaces().await)?;
    network_obs(&list)
}

fn network_obs(list: &NetworkInterfaceList) -> Option<NetworkObs> {
    let chosen = list
        .interfaces
        .iter()
        .find(|i| i.default_connection == Some(true))
        .or_else(|| {
            list.interfaces
                .iter()
                .find(|i| i.link.as_ref().and_then(|l| l.is_up()) == Some(true))
        })
        .or_else(|| list.interfaces.first())?;
    Some(NetworkObs {
        link_type: Some(if chosen.wireless {
            LinkType::Wifi
        } else {
            LinkType::Wired
        }),
        speed_mbps: chosen
            .link
            .as_ref()
            .and_then(|l| l.speed_mbps)
            .filter(|s| *s > 0),
        wifi_signal: None,
        cellular_signal: None,
    })
}

/// Disks, cards and NAS volumes.
fn fill_storage(obs: &mut Observation, storage: &Storage, device_type: DeviceType) {
    let card_device = matches!(device_type, DeviceType::Ipc | DeviceType::Doorbell);
    obs.storage_read = true;
    obs.storage = storage
        .hdds
        .iter()
        .enumerate()
        .map(|(i, h)| hdd_obs(i, h, card_device))
        .chain(storage.nas.iter().enumerate().map(|(i, n)| nas_obs(i, n)))
        .collect();
}

fn hdd_obs(index: usize, h: &Hdd, card_device: bool) -> DiskObs {
    let kind = if h.is_sd_card() || (card_device && h.name.is_none()) {
        DiskKind::Sd
    } else {
        DiskKind::Hdd
    };
    DiskObs {
        id: h.id.unwrap_or_else(|| ordinal(index)),
        kind,
        status: h.status.as_ref().map_or(DiskStatus::Other, disk_status),
        capacity_mb: h.capacity_mib,
        free_mb: h.free_space_mib,
        smart: None,
    }
}

fn nas_obs(index: usize, n: &Nas) -> DiskObs {
    DiskObs {
        // Cameras number NAS volumes from 9; recorders after their bays.
        id: n.id.unwrap_or_else(|| ordinal(index) + 8),
        kind: DiskKind::Nas,
        status: n.status.as_ref().map_or(DiskStatus::Other, disk_status),
        capacity_mb: n.capacity_mib,
        free_mb: n.free_space_mib,
        smart: None,
    }
}

/// 1-based position.
fn ordinal(index: usize) -> u32 {
    u32::try_from(index).map_or(u32::MAX, |i| i.saturating_add(1))
}

/// The device's storage status in the normalised words.
fn disk_status(s: &StorageStatus) -> DiskStatus {
    match s {
        StorageStatus::Ok => DiskStatus::Ok,
        StorageStatus::Unformatted => DiskStatus::Unformatted,
        StorageStatus::Error => DiskStatus::Error,
        StorageStatus::Idle => DiskStatus::Idle,
        // Formatted by another recorder: it must be formatted here before it records.
        StorageStatus::Mismatch | StorageStatus::ForeignFormatted => DiskStatus::Mismatch,
        StorageStatus::Offline | StorageStatus::NotExist => DiskStatus::Offline,
        StorageStatus::SmartFailed => DiskStatus::SmartFailed,
        StorageStatus::Repairing | StorageStatus::Formatting => DiskStatus::Busy,
        StorageStatus::Other(_) => DiskStatus::Other,
    }
}

fn smart_obs(s: &SmartStatus) -> SmartObs {
    SmartObs {
        temperature_c: s.temperature_c.and_then(|t| i32::try_from(t).ok()),
        power_on_days: s.power_on_days.and_then(|d| u32::try_from(d).ok()),
        self_evaluation: s.self_evaluating_status.clone(),
        overall: s.all_evaluating_status.clone(),
        attributes: s
            .attributes
            .iter()
            .filter_map(|a| Some((a.id?, raw_value(a.raw_value.as_deref()?)?)))
            .collect(),
    }
}

/// A S.M.A.R.T. raw value: the leading number (`38 (Min/Max 20/45)` is 38), decimal
/// or `0x` hexadecimal.
fn raw_value(s: &str) -> Option<u64> {
    let token = s.split_whitespace().next()?;
    match token
        .strip_prefix("0x")
        .or_else(|| token.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => {
            let digits: String = token.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        }
    }
}

/// Recorder channels: an NVR's IP channels with their online state; a DVR's analog
/// inputs (video loss shows as `NO VIDEO`) and any IP channels it proxies too.
/// Cameras have no channels to watch.
async fn channels(client: &Client, device_type: DeviceType) -> Vec<ChannelObs> {
    match device_type {
        DeviceType::Nvr => {
            let (list, status) = futures::join!(
                client.input_proxy_channels(),
                client.input_proxy_channels_status()
            );
            ip_channels(
                optional("IP channels", list).as_ref(),
                optional("IP channel status", status).as_ref(),
            )
        }
        DeviceType::Dvr => {
            let (inputs, list, status) = futures::join!(
                client.get_element(VIDEO_INPUTS),
                client.input_proxy_channels(),
                client.input_proxy_channels_status()
            );
            let mut channels = optional("video inputs", inputs)
                .map(|e| analog_channels(&e))
                .unwrap_or_default();
            let ip = ip_channels(
                optional("IP channels", list).as_ref(),
                optional("IP channel status", status).as_ref(),
            );
            for c in ip {
                if !channels.iter().any(|a| a.id == c.id) {
                    channels.push(c);
                }
            }
            channels
        }
        _ => Vec::new(),
    }
}

/// IP channels from the status list (online state, camera address), named from the
/// configuration list. Without the status nothing is known about them.
fn ip_channels(
    list: Option<&InputProxyChannelList>,
    status: Option<&InputProxyChannelStatusList>,
) -> Vec<ChannelObs> {
    let Some(status) = status else {
        return Vec::new();
    };
    status
        .channels
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let id = s.id.unwrap_or_else(|| ordinal(i));
            let config = list.and_then(|l| l.channels.iter().find(|c| c.id == Some(id)));
            let address = camera_address(&s.source)
                .or_else(|| config.and_then(|c| camera_address(&c.source)));
            ChannelObs {
                id,
                name: config.and_then(|c| c.name.clone()),
                address,
                // No online flag and no detect result: nothing says it is down.
                online: s.is_online().unwrap_or(true),
                video_loss: false,
            }
        })
        .collect()
}

/// The camera behind a channel: its IP address, else its host name.
fn camera_address(src: &SourceInputPort) -> Option<String> {
    src.ip_address.clone().or_else(|| src.host_name.clone())
}

/// `VideoInputChannelList`: analog inputs; `resDesc` `NO VIDEO` is video loss.
fn analog_channels(root: &Element) -> Vec<ChannelObs> {
    root.children_named("VideoInputChannel")
        .enumerate()
        .map(|(i, c)| ChannelObs {
            id: c.u32_of("id").unwrap_or_else(|| ordinal(i)),
            name: c.string_of("name"),
            address: None,
            online: true,
            video_loss: c
                .text_of("resDesc")
                .is_some_and(|r| r.trim().eq_ignore_ascii_case("NO VIDEO")),
        })
        .collect()
}

/// AX Pro panels: host status (mains, batteries, links, areas, tamper) and
/// zones; the network from the panel's own link report, else its interfaces.
async fn panel(client: &Client, obs: &mut Observation) {
    let (status, zones, net) = futures::join!(
        client.panel_status(),
        client.get_json(PANEL_ZONES),
        network(client),
    );
    let mut status = optional("panel status", status);
    if status.as_ref().is_none_or(|s| s.batteries.is_empty()) {
        // Some firmware leaves the batteries out of the host status.
        if let Some(b) = optional("panel batteries", client.panel_batteries().await) {
            match status.as_mut() {
                Some(s) => s.batteries = b.batteries,
                None => status = Some(b),
            }
        }
    }
    let mut p = PanelObs::default();
    if let Some(s) = &status {
        fill_panel(&mut p, s);
        obs.tamper = s.tamper.unwrap_or(false);
    }
    if let Some(z) = optional("panel zones", zones) {
        p.zones = zone_obs(&z);
    }
    obs.network = status.as_ref().and_then(panel_network).or(net);
    obs.panel = Some(p);
}

fn fill_panel(p: &mut PanelObs, s: &PanelStatus) {
    p.mains_ok = s.mains_connected;
    let present: Vec<_> = s.batteries.iter().filter(|b| !b.is_missing()).collect();
    p.battery_pct = present
        .iter()
        .filter_map(|b| b.percent)
        .min()
        .map(|pct| u8::try_from(pct.min(100)).unwrap_or(100));
    p.low_battery = present.iter().any(|b| b.is_low());
    p.areas = s
        .subsystems
        .iter()
        .enumerate()
        .map(|(i, a)| AreaObs {
            id: a.id.unwrap_or_else(|| ordinal(i)),
            name: a.name.clone(),
            state: a.arming.clone().unwrap_or_else(|| "unknown".to_owned()),
            alarm: a.alarm.unwrap_or(false),
        })
        .collect();
}

/// The panel's active link and the signal of that link.
fn panel_network(s: &PanelStatus) -> Option<NetworkObs> {
    let link_type = match s.link {
        PanelLink::Wired => LinkType::Wired,
        PanelLink::WiFi => LinkType::Wifi,
        PanelLink::Cellular => LinkType::Cellular,
        PanelLink::Disconnected => LinkType::Disconnected,
        PanelLink::Unknown => return None,
    };
    let c = s.communication.as_ref();
    Some(NetworkObs {
        link_type: Some(link_type),
        speed_mbps: None,
        wifi_signal: (link_type == LinkType::Wifi)
            .then(|| c.and_then(|c| c.wifi_signal).and_then(signal_pct))
            .flatten(),
        cellular_signal: (link_type == LinkType::Cellular)
            .then(|| c.and_then(|c| c.mobile_signal).and_then(signal_pct))
            .flatten(),
    })
}

/// AX Pro signals are bars, 0 to 5 (`wifiSignal: 4`); larger values are taken as
/// percent already.
fn signal_pct(v: u32) -> Option<u8> {
    match v {
        0..=5 => u8::try_from(v * 20).ok(),
        6..=100 => u8::try_from(v).ok(),
        _ => None,
    }
}

/// `ZoneList[{Zone:{…}}]`. Zone ids are 0-based on the wire; people (and the panel's
/// app) count from 1. Zones `notRelated` to any detector are left out. The detector
/// signal is on a scale we do not know (R3 radio, ~160), so it is not kept.
fn zone_obs(v: &serde_json::Value) -> Vec<ZoneObs> {
    json::items(json::get(v, "ZoneList"), "Zone")
        .into_iter()
        .filter(|z| {
            !json::string(z, "status").is_some_and(|s| s.eq_ignore_ascii_case("notRelated"))
        })
        .enumerate()
        .map(|(i, z)| {
            let status = json::string(z, "status")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let charge_low = json::string(z, "charge")
                .is_some_and(|c| c.to_ascii_lowercase().contains("low"))
                || json::u32(z, "chargeValue").is_some_and(|c| c <= LOW_BATTERY_PERCENT);
            ZoneObs {
                id: json::u32(z, "id").map_or_else(|| ordinal(i), |id| id.saturating_add(1)),
                name: json::string(z, "name"),
                tamper: json::bool(z, "tamperEvident").unwrap_or(false),
                low_battery: charge_low,
                signal: None,
                offline: matches!(
                    status.as_str(),
                    "offline" | "heartbeatabnormal" | "breakdown"
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values() {
        assert_eq!(raw_value("312"), Some(312));
        assert_eq!(raw_value(" 38 (Min/Max 20/45)"), Some(38));
        assert_eq!(raw_value("0x1f"), Some(31));
        assert_eq!(raw_value("n/a"), None);
        assert_eq!(raw_value(""), None);
    }

    #[test]
    fn signal_bars() {
        assert_eq!(signal_pct(0), Some(0));
        assert_eq!(signal_pct(4), Some(80));
        assert_eq!(signal_pct(5), Some(100));
        assert_eq!(signal_pct(42), Some(42));
        assert_eq!(signal_pct(160), None);
    }

    #[test]
    fn zones_are_one_based_and_not_related_ones_skipped() {
        let v = serde_json::json!({"ZoneList": [
            {"Zone": {"id": 0, "name": "Front door", "status": "online", "tamperEvident": false, "charge": "normal", "chargeValue": 90}},
            {"Zone": {"id": 2, "name": "Back door", "status": "offline", "tamperEvident": true, "charge": "lowPower"}},
            {"Zone": {"id": 3, "status": "notRelated"}},
        ]});
        let z = zone_obs(&v);
        assert_eq!(z.len(), 2);
        assert_eq!(
            (z[0].id, z[0].tamper, z[0].offline, z[0].low_battery),
            (1, false, false, false)
        );
        assert_eq!(
            (z[1].id, z[1].tamper, z[1].offline, z[1].low_battery),
            (3, true, true, true)
        );
        assert_eq!(z[1].name.as_deref(), Some("Back door"));
    }
}
