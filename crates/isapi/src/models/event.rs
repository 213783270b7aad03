//! `EventNotificationAlert`: one pushed event (alertStream part or httpHosts push),
//! XML from cameras/NVRs, JSON from access terminals and AX Pro panels (isapi.md §2, §6, §7).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::XmlModel;
use crate::error::ParseError;
use crate::json;
use crate::timestamp::DeviceTime;
use crate::xml::Element;

/// NVRs push IP-camera events with `channelID` = 32 + IP channel.
pub const NVR_IP_CHANNEL_OFFSET: u32 = 32;

/// `eventState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventState {
    /// `active`.
    Active,
    /// `inactive`.
    Inactive,
    /// Missing or unknown.
    Unknown,
}

/// One `DetectionRegionEntry` target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionTarget {
    /// `regionID`.
    pub region_id: Option<u32>,
    /// `detectionTarget` (`human`, `vehicle`).
    pub target: Option<String>,
    /// `TargetRect` as (x, y, width, height), normalised 0..1.
    pub rect: Option<(f64, f64, f64, f64)>,
}

/// License plate recognition payload (`ANPR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnprInfo {
    /// `licensePlate`.
    pub license_plate: Option<String>,
    /// `confidenceLevel`.
    pub confidence: Option<u32>,
    /// `direction`.
    pub direction: Option<String>,
    /// `vehicleType`.
    pub vehicle_type: Option<String>,
    /// `vehicleListName` (`allowList`, `blockList`, `otherList`).
    pub list_name: Option<String>,
}

/// Access-terminal payload (`AccessControllerEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessControllerEvent {
    /// `majorEventType` (1 alarm, 2 exception, 3 operation, 5 event).
    pub major: Option<u32>,
    /// `subEventType` (minor code).
    pub minor: Option<u32>,
    /// `serialNo`.
    pub serial_no: Option<u64>,
    /// `doorNo`.
    pub door_no: Option<u32>,
    /// `name` of the person.
    pub name: Option<String>,
    /// `employeeNoString`.
    pub employee_no: Option<String>,
    /// `currentVerifyMode`.
    pub verify_mode: Option<String>,
    /// `deviceName`.
    pub device_name: Option<String>,
    /// `currentEvent == false` marks a replay of the stored log.
    pub current_event: Option<bool>,
}

/// AX Pro alarm payload (`CIDEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CidEvent {
    /// Contact-ID `code` (3401 arm away, 1401 disarm, 1759 intrusion, …).
    pub code: Option<u32>,
    /// `type` (`zoneAlarm`, `armAndDisarm`).
    pub kind: Option<String>,
    /// `trigger`.
    pub trigger: Option<String>,
    /// `zone` (0-based as sent).
    pub zone: Option<u32>,
    /// `system` (area).
    pub system: Option<u32>,
    /// `subSystemName`.
    pub subsystem_name: Option<String>,
    /// `name` (user).
    pub user: Option<String>,
}

/// One event as the device reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventAlert {
    /// `eventType` as sent (`VMD`, `fielddetection`, `IO`, `AccessControllerEvent`, `cidEvent`, …).
    pub event_type: String,
    /// `eventState`.
    pub state: EventState,
    /// `eventDescription`.
    pub description: Option<String>,
    /// `channelID` as sent (NVRs may offset by 32).
    pub channel_id: Option<u32>,
    /// `dynChannelID` as sent.
    pub dyn_channel_id: Option<u32>,
    /// `channelName`.
    pub channel_name: Option<String>,
    /// `inputIOPortID` for IO events.
    pub io_port: Option<u32>,
    /// `dateTime`, leniently parsed.
    pub date_time: Option<DeviceTime>,
    /// `activePostCount` (0 on heartbeats).
    pub active_post_count: Option<u64>,
    /// Sender `ipAddress`.
    pub ip_address: Option<String>,
    /// Sender `macAddress`.
    pub mac_address: Option<String>,
    /// `Extensions/serialNumber` (older NVR/PIR pushes).
    pub serial_number: Option<String>,
    /// `targetType` on VMD with AI filter.
    pub target_type: Option<String>,
    /// Detection regions and targets.
    pub targets: Vec<DetectionTarget>,
    /// For `eventType=duration`: the ongoing event (`relationEvent`).
    pub relation_event: Option<String>,
    /// `bkgUrl`, a picture to fetch with digest auth.
    pub picture_url: Option<String>,
    /// ANPR payload.
    pub anpr: Option<AnprInfo>,
    /// Access-control payload.
    pub access: Option<AccessControllerEvent>,
    /// AX Pro payload.
    pub cid: Option<CidEvent>,
}

impl EventAlert {
    fn empty(event_type: String) -> Self {
        Self {
            event_type,
            state: EventState::Unknown,
            description: None,
            channel_id: None,
            dyn_channel_id: None,
            channel_name: None,
            io_port: None,
            date_time: None,
            active_post_count: None,
            ip_address: None,
            mac_address: None,
            serial_number: None,
            target_type: None,
            targets: Vec::new(),
            relation_event: None,
            picture_url: None,
            anpr: None,
            access: None,
            cid: None,
        }
    }

    /// Heartbeat: `videoloss` + `inactive` (cameras and NVRs send one about every 10 s).
    pub fn is_heartbeat(&self) -> bool {
        self.event_type.eq_ignore_ascii_case("videoloss")
            && self.state == EventState::Inactive
            && self.active_post_count.unwrap_or(0) == 0
    }

    /// The camera channel this event is about: `dynChannelID` when present,
    /// else `channelID` with the NVR offset removed (`34` → IP channel `2`).
    pub fn channel(&self) -> Option<u32> {
        if let Some(dynamic) = self.dyn_channel_id {
            return Some(dynamic);
        }
        self.channel_id.map(|c| {
            if c > NVR_IP_CHANNEL_OFFSET {
                c - NVR_IP_CHANNEL_OFFSET
            } else {
                c
            }
        })
    }

    /// The type that matters for consumers: the `relationEvent` of a `duration`
    /// re-notification, else `eventType`; lower-cased.
    pub fn effective_type(&self) -> String {
        match (
            &self.relation_event,
            self.event_type.eq_ignore_ascii_case("duration"),
        ) {
            (Some(rel), true) => rel.to_ascii_lowercase(),
            _ => self.event_type.to_ascii_lowercase(),
        }
    }

    /// When it happened: the device time if it is sane, else `received`.
    pub fn occurred_at(&self, received: OffsetDateTime) -> OffsetDateTime {
        self.date_time
            .as_ref()
            .map_or(received, |t| t.instant_or(received))
    }

    /// Parses either XML or JSON by sniffing the first byte.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Self::from_json(bytes),
            Some(_) => Self::from_xml(bytes),
            None => Err(ParseError::Empty),
        }
    }

    /// Parses the JSON form (ACS terminals, AX Pro).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ParseError> {
        let v = json::parse(bytes)?;
        let v = json::get(&v, "EventNotificationAlert").unwrap_or(&v);
        Self::from_json_value(v)
    }

    /// Maps an already parsed JSON value.
    pub fn from_json_value(v: &Value) -> Result<Self, ParseError> {
        let Some(event_type) = json::string(v, "eventType") else {
            return Err(ParseError::Missing("eventType"));
        };
        let mut e = Self::empty(event_type);
        e.state = state_of(json::string(v, "eventState").as_deref());
        e.description = json::string(v, "eventDescription");
        e.channel_id = json::u32(v, "channelID");
        e.dyn_channel_id = json::u32(v, "dynChannelID");
        e.channel_name = json::string(v, "channelName");
        e.io_port = json::u32(v, "inputIOPortID");
        e.date_time = json::string(v, "dateTime").map(|s| DeviceTime::parse(&s));
        e.active_post_count = json::u64(v, "activePostCount");
        e.ip_address = json::string(v, "ipAddress");
        e.mac_address = json::string(v, "macAddress");
        if let Some(a) = json::get(v, "AccessControllerEvent") {
            e.access = Some(AccessControllerEvent {
                major: json::u32(a, "majorEventType"),
                minor: json::u32(a, "subEventType"),
                serial_no: json::u64(a, "serialNo"),
                door_no: json::u32(a, "doorNo"),
                name: json::string(a, "name"),
                employee_no: json::string(a, "employeeNoString"),
                verify_mode: json::string(a, "currentVerifyMode"),
                device_name: json::string(a, "deviceName"),
                current_event: json::bool(a, "currentEvent"),
            });
        }
        if let Some(c) = json::get(v, "CIDEvent") {
            e.cid = Some(CidEvent {
                code: json::u32(c, "code"),
                kind: json::string(c, "type"),
                trigger: json::string(c, "trigger"),
                zone: json::u32(c, "zone"),
                system: json::u32(c, "system"),
                subsystem_name: json::string(c, "subSystemName"),
                user: json::string(c, "name"),
            });
        }
        Ok(e)
    }
}

fn state_of(s: Option<&str>) -> EventState {
    match s.map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("active") => EventState::Active,
        Some(s) if s.eq_ignore_ascii_case("inactive") => EventState::Inactive,
        _ => EventState::Unknown,
    }
}

impl XmlModel for EventAlert {
    const ROOTS: &'static [&'static str] = &["EventNotificationAlert"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let Some(event_type) = root.string_of("eventType") else {
            return Err(ParseError::Missing("eventType"));
        };
        let mut e = Self::empty(event_type);
        e.state = state_of(root.text_of("eventState"));
        e.description = root.string_of("eventDescription");
        e.channel_id = root.u32_of("channelID");
        e.dyn_channel_id = root.u32_of("dynChannelID");
        e.channel_name = root.string_of("channelName");
        e.io_port = root.u32_of("inputIOPortID");
        e.date_time = root.text_of("dateTime").map(DeviceTime::parse);
        e.active_post_count = root.u64_of("activePostCount");
        e.ip_address = root.string_of("ipAddress");
        e.mac_address = root.string_of("macAddress");
        e.serial_number = root
            .child("Extensions")
            .and_then(|x| x.string_of("serialNumber"));
        e.target_type = root.string_of("targetType");
        e.picture_url = root.string_of("bkgUrl");
        e.relation_event = root
            .path(&["DurationList", "Duration", "relationEvent"])
            .and_then(Element::non_empty_text)
            .map(str::to_owned);
        e.targets = root
            .descendants_named("DetectionRegionEntry")
            .into_iter()
            .map(|d| DetectionTarget {
                region_id: d.u32_of("regionID"),
                target: d.string_of("detectionTarget"),
                rect: d.child("TargetRect").and_then(|r| {
                    Some((
                        r.f64_of("X")?,
                        r.f64_of("Y")?,
                        r.f64_of("width")?,
                        r.f64_of("height")?,
                    ))
                }),
            })
            .collect();
        e.anpr = root.child("ANPR").map(|a| AnprInfo {
            license_plate: a.string_of("licensePlate"),
            confidence: a.u32_of("confidenceLevel"),
            direction: a.string_of("direction"),
            vehicle_type: a.string_of("vehicleType"),
            list_name: a.string_of("vehicleListName"),
        });
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvr_offset_and_dyn_channel() {
        let e = EventAlert::from_xml(
            b"<EventNotificationAlert xmlns=\"urn:psialliance-org\"><channelID>34</channelID><eventType>fielddetection</eventType><eventState>active</eventState></EventNotificationAlert>",
        )
        .expect("parses");
        assert_eq!(e.channel_id, Some(34));
        assert_eq!(e.channel(), Some(2));
        let e = EventAlert::from_xml(
            b"<EventNotificationAlert><dynChannelID>3</dynChannelID><channelID/><eventType>VMD</eventType></EventNotificationAlert>",
        )
        .expect("parses");
        assert_eq!(e.channel(), Some(3));
        assert_eq!(e.state, EventState::Unknown);
    }

    #[test]
    fn heartbeat_and_missing_type() {
        let e = EventAlert::from_xml(
            b"<EventNotificationAlert><channelID>1</channelID><activePostCount>0</activePostCount><eventType>videoloss</eventType><eventState>inactive</eventState></EventNotificationAlert>",
        )
        .expect("parses");
        assert!(e.is_heartbeat());
        assert!(matches!(
            EventAlert::from_xml(
                b"<EventNotificationAlert><channelID>1</channelID></EventNotificationAlert>"
            ),
            Err(ParseError::Missing("eventType"))
        ));
    }

    #[test]
    fn ax_pro_cid_json() {
        let e = EventAlert::parse(
            br#"{"ipAddress":"10.0.0.9","dateTime":"2024-05-01T10:00:00+02:00","eventType":"cidEvent","eventState":"active","CIDEvent":{"code":3401,"type":"armAndDisarm","zone":0,"system":1,"name":"installer"}}"#,
        )
        .expect("parses");
        let cid = e.cid.expect("cid");
        assert_eq!(cid.code, Some(3401));
        assert_eq!(cid.kind.as_deref(), Some("armAndDisarm"));
        assert_eq!(cid.zone, Some(0));
        assert_eq!(e.state, EventState::Active);
    }
}
