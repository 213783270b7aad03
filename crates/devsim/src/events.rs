//! Events a device emits and how they look on the alert stream: `EventNotificationAlert`
//! XML for video devices (with the NVR channel-numbering quirks), `AccessControllerEvent`
//! JSON for access control / intercoms / doorbells, `cidEvent` JSON for AX Pro panels, and
//! the periodic `videoloss inactive` heartbeat.

use std::str::FromStr;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::catalog::Dialect;
use crate::device::{AcsRecord, Call, Device, State};
use crate::documents::security_cp::{ZONES, zone_area};
use crate::documents::{Xml, device_time};
use crate::identity::Identity;
use crate::spec::DeviceKind;

/// Why an event cannot be emitted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// Not a known event type.
    #[error("unknown event type `{0}`")]
    Unknown(String),
    /// The device kind does not produce this event.
    #[error("a {kind} does not emit `{event}`")]
    NotApplicable {
        /// Event.
        event: &'static str,
        /// Device kind.
        kind: DeviceKind,
    },
    /// Channel, I/O port or zone out of range.
    #[error("{what} {value} does not exist on this device (1..={max})")]
    OutOfRange {
        /// `channel`, `input` or `zone`.
        what: &'static str,
        /// Given value.
        value: u32,
        /// Highest valid value.
        max: u32,
    },
}

/// Events the control API can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Motion detection (`VMD`).
    Motion,
    /// Line crossing (`linedetection`).
    LineCrossing,
    /// Intrusion / field detection (`fielddetection`).
    Intrusion,
    /// Region entrance.
    RegionEntrance,
    /// Region exiting.
    RegionExiting,
    /// Video tampering (`tamperdetection`).
    Tamper,
    /// Video loss (`videoloss`).
    VideoLoss,
    /// Disk error (`diskerror`).
    DiskError,
    /// Disk full (`diskfull`).
    DiskFull,
    /// Alarm input (`IO`; `channel` = input port).
    Io,
    /// Door opened (ACS major 5 / minor 0x19 `MINOR_DOOR_OPEN_NORMAL`).
    DoorOpened,
    /// Doorbell pressed (ACS major 5 / minor 0x25 `MINOR_DOORBELL_RINGING`; call status rings).
    DoorbellPressed,
    /// AX Pro zone alarm (CID 1130, `zone` 0-based).
    ZoneAlarm,
    /// AX Pro low system battery (CID 1302).
    LowBattery,
}

impl FromStr for EventKind {
    type Err = EventError;
    fn from_str(s: &str) -> Result<Self, EventError> {
        let k = s.trim().to_ascii_lowercase().replace('-', "_");
        Ok(match k.as_str() {
            "motion" | "vmd" | "motion_detection" => EventKind::Motion,
            "line_crossing" | "linedetection" | "line_detection" => EventKind::LineCrossing,
            "intrusion" | "fielddetection" | "field_detection" => EventKind::Intrusion,
            "region_entrance" | "regionentrance" => EventKind::RegionEntrance,
            "region_exiting" | "regionexiting" => EventKind::RegionExiting,
            "tamper" | "tamperdetection" | "shelteralarm" => EventKind::Tamper,
            "video_loss" | "videoloss" => EventKind::VideoLoss,
            "disk_error" | "diskerror" | "hdd_error" => EventKind::DiskError,
            "disk_full" | "diskfull" | "hdd_full" => EventKind::DiskFull,
            "io" | "alarm_input" => EventKind::Io,
            "door_opened" | "door_open" | "door" => EventKind::DoorOpened,
            "doorbell_pressed" | "doorbell" | "ring" => EventKind::DoorbellPressed,
            "zone_alarm" | "alarm" | "zonealarm" => EventKind::ZoneAlarm,
            "low_battery" => EventKind::LowBattery,
            _ => return Err(EventError::Unknown(s.to_string())),
        })
    }
}

impl EventKind {
    /// The ISAPI `eventType` (or the contract name for non-XML events).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Motion => "VMD",
            EventKind::LineCrossing => "linedetection",
            EventKind::Intrusion => "fielddetection",
            EventKind::RegionEntrance => "regionEntrance",
            EventKind::RegionExiting => "regionExiting",
            EventKind::Tamper => "tamperdetection",
            EventKind::VideoLoss => "videoloss",
            EventKind::DiskError => "diskerror",
            EventKind::DiskFull => "diskfull",
            EventKind::Io => "IO",
            EventKind::DoorOpened => "door_opened",
            EventKind::DoorbellPressed => "doorbell_pressed",
            EventKind::ZoneAlarm => "zone_alarm",
            EventKind::LowBattery => "low_battery",
        }
    }

    fn description(self) -> &'static str {
        match self {
            EventKind::Motion => "Motion alarm",
            EventKind::LineCrossing => "linedetection alarm",
            EventKind::Intrusion => "fielddetection alarm",
            EventKind::RegionEntrance => "regionEntrance alarm",
            EventKind::RegionExiting => "regionExiting alarm",
            EventKind::Tamper => "Shelter Alarm",
            EventKind::VideoLoss => "videoloss alarm",
            EventKind::DiskError => "diskerror alarm",
            EventKind::DiskFull => "diskfull alarm",
            EventKind::Io => "IO alarm",
            _ => "",
        }
    }

    /// Whether the device can emit this event with these parameters.
    pub fn check(
        self,
        id: &Identity,
        channel: Option<u32>,
        zone: Option<u32>,
    ) -> Result<(), EventError> {
        use DeviceKind as K;
        use EventKind as E;
        let ok = match self {
            E::Motion => matches!(id.kind, K::Ipc | K::Nvr | K::Dvr | K::Doorbell),
            E::LineCrossing | E::Intrusion | E::RegionEntrance | E::RegionExiting | E::Tamper => {
                id.kind.is_video()
            }
            E::VideoLoss => id.kind.is_video(),
            E::DiskError | E::DiskFull => !id.drives.is_empty(),
            E::Io => id.kind.is_video() && id.model.io_in > 0,
            E::DoorOpened => matches!(id.kind, K::AccessControl | K::VideoIntercom | K::Doorbell),
            E::DoorbellPressed => {
                matches!(id.kind, K::AccessControl | K::VideoIntercom | K::Doorbell)
            }
            E::ZoneAlarm | E::LowBattery => id.kind == K::ControlPanel,
        };
        if !ok {
            return Err(EventError::NotApplicable {
                event: self.as_str(),
                kind: id.kind,
            });
        }
        let range = |what, value: u32, max: u32, min: u32| {
            if value < min || value > max {
                Err(EventError::OutOfRange { what, value, max })
            } else {
                Ok(())
            }
        };
        match self {
            E::ZoneAlarm => range("zone", zone.unwrap_or(0), ZONES.len() as u32 - 1, 0),
            E::Io => range("input", channel.unwrap_or(1), id.model.io_in, 1),
            E::DiskError | E::DiskFull | E::LowBattery => Ok(()),
            E::DoorOpened | E::DoorbellPressed => range("door", channel.unwrap_or(1), 1, 1),
            _ => range(
                "channel",
                channel.unwrap_or(1),
                id.channel_names.len() as u32,
                1,
            ),
        }
    }
}

/// One part of the multipart alert stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPart {
    /// `application/xml; charset="UTF-8"` or `application/json; charset="UTF-8"`.
    pub content_type: &'static str,
    /// The document.
    pub body: String,
}

const XML_TYPE: &str = "application/xml; charset=\"UTF-8\"";
const JSON_TYPE: &str = "application/json; charset=\"UTF-8\"";
const HIK_VER20: &str = "http://www.hikvision.com/ver20/XMLSchema";

/// Older NVR firmware (with the fleet's quirk switched on) sends parts in
/// `urn:psialliance-org` with `channelID` = 32 + IP channel.
fn psia_nvr(dev: &Device) -> bool {
    dev.options.nvr_psia_quirk && dev.id.kind == DeviceKind::Nvr && dev.dialect() == Dialect::Hik10
}

fn video_alert(
    dev: &Device,
    post_count: u32,
    event: EventKind,
    channel: Option<u32>,
    active: bool,
) -> AlertPart {
    let id = &dev.id;
    let ip = dev.addr.ip().to_string();
    let psia = psia_nvr(dev);
    let ns = if psia {
        "urn:psialliance-org"
    } else {
        HIK_VER20
    };
    let mut x = Xml::fragment(
        "EventNotificationAlert",
        &format!("version=\"1.0\" xmlns=\"{ns}\""),
    );
    if !psia {
        x.leaf("ipAddress", &ip)
            .leaf("portNo", dev.addr.port())
            .leaf("protocol", "HTTP")
            .leaf("macAddress", id.mac_string());
    }
    let io_port = (event == EventKind::Io).then(|| channel.unwrap_or(1));
    let channel =
        if matches!(event, EventKind::DiskError | EventKind::DiskFull) || io_port.is_some() {
            None
        } else {
            Some(channel.unwrap_or(1))
        };
    match (channel, id.kind) {
        (None, DeviceKind::Ipc) => {
            x.leaf("channelID", 1);
        }
        (None, _) => {
            // Recorder exceptions carry empty channel elements (real DVR diskerror).
            x.self_closing("dynChannelID").self_closing("channelID");
        }
        (Some(c), DeviceKind::Nvr) if psia => {
            x.leaf("channelID", 32 + c);
        }
        (Some(c), DeviceKind::Nvr) => {
            x.leaf("dynChannelID", c).leaf("channelID", c);
        }
        (Some(c), _) => {
            x.leaf("channelID", c);
        }
    }
    let time = device_time(id);
    x.leaf("dateTime", &time)
        .leaf("activePostCount", post_count)
        .leaf("eventType", event.as_str())
        .leaf("eventState", if active { "active" } else { "inactive" })
        .leaf("eventDescription", event.description());
    if let Some(p) = io_port {
        x.leaf("inputIOPortID", p);
    }
    if matches!(event, EventKind::LineCrossing | EventKind::Intrusion) {
        x.open("DetectionRegionList")
            .open("DetectionRegionEntry")
            .leaf("regionID", 1)
            .leaf("sensitivityLevel", 50)
            .leaf("detectionTarget", "human")
            .open("TargetRect")
            .leaf("X", "0.6")
            .leaf("Y", "0.215278")
            .leaf("width", "0.135937")
            .leaf("height", "0.505556")
            .close()
            .close()
            .close();
    }
    if let Some(name) = channel.and_then(|c| id.channel_names.get((c - 1) as usize)) {
        x.leaf("channelName", name);
    }
    if psia {
        let ch = channel.map(|c| 32 + c).unwrap_or(0);
        x.open("Extensions")
            .leaf_attrs(
                "serialNumber",
                "xmlns=\"urn:selfextension:psiaext-ver10-xsd\"",
                &id.serial_number,
            )
            .leaf_attrs(
                "eventPush",
                "xmlns=\"urn:selfextension:psiaext-ver10-xsd\"",
                format!("{}&&{},{time},{ch},1.0", event.as_str(), id.serial_number),
            )
            .close();
    }
    AlertPart {
        content_type: XML_TYPE,
        body: x.finish(),
    }
}

fn acs_alert(
    dev: &Device,
    st: &mut State,
    post_count: u32,
    major: u32,
    minor: u32,
    door: u32,
) -> AlertPart {
    st.acs_serial += 1;
    let serial_no = st.acs_serial;
    let time = device_time(&dev.id);
    st.acs_log.push_back(AcsRecord {
        major,
        minor,
        time: time.clone(),
        serial_no,
        door,
    });
    while st.acs_log.len() > 200 {
        st.acs_log.pop_front();
    }
    let body = json!({
        "ipAddress": dev.addr.ip().to_string(),
        "portNo": dev.addr.port(),
        "protocol": "HTTP",
        "macAddress": dev.id.mac_string(),
        "channelID": 1,
        "dateTime": time,
        "activePostCount": post_count,
        "eventType": "AccessControllerEvent",
        "eventState": "active",
        "eventDescription": "Access Controller Event",
        "AccessControllerEvent": {
            "deviceName": dev.id.device_name,
            "majorEventType": major,
            "subEventType": minor,
            "serialNo": serial_no,
            "currentVerifyMode": "invalid",
            "frontSerialNo": serial_no - 1,
            "attendanceStatus": "undefined",
            "label": "",
            "statusValue": 0,
            "mask": "unknown",
            "doorNo": door,
            "purePwdVerifyEnable": true,
        }
    });
    AlertPart {
        content_type: JSON_TYPE,
        body: serde_json::to_string_pretty(&body).unwrap_or_default(),
    }
}

/// AX Pro `cidEvent` part.
pub(crate) fn cid_alert(
    dev: &Device,
    post_count: u32,
    code: u32,
    kind: &str,
    zone: Option<u32>,
    area: u32,
) -> AlertPart {
    let time = device_time(&dev.id);
    let mut cid = json!({
        "code": code,
        "standardCIDcode": code,
        "type": kind,
        "trigger": time,
        "upload": time,
        "CameraList": [],
        "NVRList": [],
        "system": area,
        "subSystemName": format!("Area {area}"),
    });
    match zone {
        Some(z) => {
            cid["zone"] = json!(z);
            cid["name"] = json!(ZONES[z as usize].0);
        }
        None => cid["name"] = json!(dev.id.username),
    }
    let body = json!({
        "ipAddress": dev.addr.ip().to_string(),
        "portNo": dev.addr.port(),
        "protocol": "HTTP",
        "macAddress": dev.id.mac_string(),
        "channelID": 1,
        "dateTime": time,
        "activePostCount": post_count,
        "eventType": "cidEvent",
        "eventState": "active",
        "eventDescription": "CID event",
        "CIDEvent": cid,
    });
    AlertPart {
        content_type: JSON_TYPE,
        body: serde_json::to_string_pretty(&body).unwrap_or_default(),
    }
}

/// Builds the part for an event and applies its side effects on the state (doorbell
/// rings, door opens, zone alarms).
pub(crate) fn build(
    dev: &Device,
    st: &mut State,
    kind: EventKind,
    channel: Option<u32>,
    zone: Option<u32>,
    active: bool,
) -> AlertPart {
    st.post_count = st.post_count.wrapping_add(1).max(1);
    let n = st.post_count;
    match kind {
        EventKind::DoorOpened => {
            st.door_open_until = Some(Instant::now() + Duration::from_secs(5));
            acs_alert(dev, st, n, 5, 0x19, channel.unwrap_or(1))
        }
        EventKind::DoorbellPressed => {
            st.call = Call::Ring(Instant::now() + dev.options.ring_duration);
            acs_alert(dev, st, n, 5, 0x25, channel.unwrap_or(1))
        }
        EventKind::ZoneAlarm => {
            let z = zone.unwrap_or(0);
            st.alarm_zones.insert(z);
            cid_alert(dev, n, 1130, "zoneAlarm", Some(z), zone_area(z))
        }
        EventKind::LowBattery => cid_alert(dev, n, 1302, "faultAndRecover", None, 1),
        _ => video_alert(dev, n, kind, channel, active),
    }
}

/// The remote-door-open record (ACS major 3 / minor 0x400 `MINOR_REMOTE_OPEN_DOOR`).
pub(crate) fn remote_open(dev: &Device, st: &mut State, door: u32) -> AlertPart {
    st.post_count = st.post_count.wrapping_add(1).max(1);
    let n = st.post_count;
    st.door_open_until = Some(Instant::now() + Duration::from_secs(5));
    acs_alert(dev, st, n, 3, 0x400, door)
}

/// The heartbeat real cameras and NVRs send: `videoloss`, `inactive`, `activePostCount` 0.
pub(crate) fn heartbeat(dev: &Device) -> AlertPart {
    video_alert(dev, 0, EventKind::VideoLoss, Some(1), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_parse() {
        assert_eq!("motion".parse(), Ok(EventKind::Motion));
        assert_eq!("VMD".parse(), Ok(EventKind::Motion));
        assert_eq!("intrusion".parse(), Ok(EventKind::Intrusion));
        assert_eq!("line_crossing".parse(), Ok(EventKind::LineCrossing));
        assert_eq!("doorbell_pressed".parse(), Ok(EventKind::DoorbellPressed));
        assert!("earthquake".parse::<EventKind>().is_err());
    }
}
