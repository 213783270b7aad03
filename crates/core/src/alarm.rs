//! Alarms for end users: which device events are alarms, and their
//! acknowledgement.
//!
//! The event pipeline hands each device event to [`classify`]; an alarm of a
//! handed-over site is kept for its owner ([`crate::policy::alarm_recipient`]) until
//! acknowledged. Motion and other busy detections are not alarms; health-relevant
//! events (disk errors, video loss) go to health monitoring instead.

use crate::{AlarmId, DeviceId, Millis, SiteId, UserId};
use serde::{Deserialize, Serialize};

/// What kind of alarm an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// Someone entered a guarded area (camera intrusion / region entrance).
    Intrusion,
    /// Someone crossed a guarded line.
    LineCrossing,
    /// A security control panel's zone went into alarm (burglary).
    ZoneAlarm,
    /// A camera, detector or panel was tampered with.
    Tamper,
    /// A panic or duress alarm.
    Panic,
    /// A fire alarm.
    Fire,
    /// An alarm input of a device was triggered.
    AlarmInput,
    /// A door was forced open.
    DoorForced,
    /// Someone pressed the doorbell.
    DoorbellPressed,
}

named_enum!(AlarmKind {
    Intrusion => "intrusion", "Intrusion";
    LineCrossing => "line_crossing", "Line crossing";
    ZoneAlarm => "zone_alarm", "Zone alarm";
    Tamper => "tamper", "Tamper";
    Panic => "panic", "Panic";
    Fire => "fire", "Fire";
    AlarmInput => "alarm_input", "Alarm input";
    DoorForced => "door_forced", "Door forced open";
    DoorbellPressed => "doorbell_pressed", "Doorbell pressed";
});

/// ISAPI access-control `majorEventType` of events.
const ACS_MAJOR_EVENT: u32 = 5;
/// `MINOR_DOOR_OPEN_ABNORMAL`: door opened without a valid access.
const ACS_DOOR_OPEN_ABNORMAL: u32 = 0x1b;
/// `MINOR_DOORBELL_RINGING`.
const ACS_DOORBELL_RINGING: u32 = 0x25;

/// A device event, as far as deciding whether it is an alarm goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceEvent<'a> {
    /// The ISAPI `eventType` that matters (for a `duration` re-notification, the
    /// related event), any case.
    pub event_type: &'a str,
    /// Whether the event started (`eventState` active, or not stated); an event
    /// ending is no new alarm.
    pub active: bool,
    /// Access control: `majorEventType` and `subEventType`.
    pub acs: Option<(u32, u32)>,
    /// Security control panel: the Contact-ID `code` (`1130` burglary, …).
    pub cid_code: Option<u32>,
}

/// Whether a device event is an alarm, and which.
pub fn classify(event: &DeviceEvent<'_>) -> Option<AlarmKind> {
    if !event.active {
        return None;
    }
    if let Some(code) = event.cid_code {
        return classify_cid(code);
    }
    if let Some((major, minor)) = event.acs {
        return match (major, minor) {
            (ACS_MAJOR_EVENT, ACS_DOOR_OPEN_ABNORMAL) => Some(AlarmKind::DoorForced),
            (ACS_MAJOR_EVENT, ACS_DOORBELL_RINGING) => Some(AlarmKind::DoorbellPressed),
            _ => None,
        };
    }
    let t = event.event_type.to_ascii_lowercase();
    match t.as_str() {
        "fielddetection" | "regionentrance" => Some(AlarmKind::Intrusion),
        "linedetection" => Some(AlarmKind::LineCrossing),
        "tamperdetection" | "shelteralarm" => Some(AlarmKind::Tamper),
        "io" => Some(AlarmKind::AlarmInput),
        _ => None,
    }
}

/// Contact-ID codes: the first digit 1 is a new event (3 a restore, which is no
/// alarm); the other three the event.
fn classify_cid(code: u32) -> Option<AlarmKind> {
    if code / 1000 != 1 {
        return None;
    }
    match code % 1000 {
        110..=119 => Some(AlarmKind::Fire),
        120..=129 => Some(AlarmKind::Panic),
        137 | 144 | 145 | 383 => Some(AlarmKind::Tamper),
        130..=139 => Some(AlarmKind::ZoneAlarm),
        // Hikvision panels report intrusion verification as 1759.
        759 => Some(AlarmKind::Intrusion),
        _ => None,
    }
}

/// An alarm kept for the site's owner until acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    /// Its id.
    pub id: AlarmId,
    /// The site.
    pub site_id: SiteId,
    /// The device that raised it.
    pub device_id: DeviceId,
    /// What happened.
    pub kind: AlarmKind,
    /// When it happened.
    pub occurred_at: Millis,
    /// Who acknowledged it and when.
    pub acknowledged: Option<(UserId, Millis)>,
}

impl Alarm {
    /// Acknowledges the alarm; `false` if it was acknowledged already (the first
    /// acknowledgement stays).
    pub fn acknowledge(&mut self, by: UserId, now: Millis) -> bool {
        if self.acknowledged.is_some() {
            return false;
        }
        self.acknowledged = Some((by, now));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlarmKind::*;
    use uuid::Uuid;

    fn event(t: &str) -> DeviceEvent<'_> {
        DeviceEvent {
            event_type: t,
            active: true,
            acs: None,
            cid_code: None,
        }
    }

    /// which events are alarms.
    #[test]
    fn classification_table() {
        let acs = |major, minor| DeviceEvent {
            acs: Some((major, minor)),
            ..event("AccessControllerEvent")
        };
        let cid = |code| DeviceEvent {
            cid_code: Some(code),
            ..event("cidEvent")
        };
        let cases: Vec<(DeviceEvent, Option<AlarmKind>)> = vec![
            (event("fielddetection"), Some(Intrusion)),
            (event("regionEntrance"), Some(Intrusion)),
            (event("linedetection"), Some(LineCrossing)),
            (event("tamperdetection"), Some(Tamper)),
            (event("shelteralarm"), Some(Tamper)),
            (event("IO"), Some(AlarmInput)),
            (event("VMD"), None),
            (event("videoloss"), None),
            (event("diskerror"), None),
            (event("regionExiting"), None),
            (
                DeviceEvent {
                    active: false,
                    ..event("fielddetection")
                },
                None,
            ),
            (acs(5, 0x1b), Some(DoorForced)),
            (acs(5, 0x25), Some(DoorbellPressed)),
            (acs(5, 0x19), None),
            (acs(2, 0x1b), None),
            (cid(1130), Some(ZoneAlarm)),
            (cid(1131), Some(ZoneAlarm)),
            (cid(1137), Some(Tamper)),
            (cid(1383), Some(Tamper)),
            (cid(1120), Some(Panic)),
            (cid(1121), Some(Panic)),
            (cid(1110), Some(Fire)),
            (cid(1759), Some(Intrusion)),
            (cid(3130), None),
            (cid(3401), None),
            (cid(1401), None),
            (cid(1302), None),
        ];
        for (e, expected) in cases {
            assert_eq!(classify(&e), expected, "{e:?}");
        }
    }

    #[test]
    fn acknowledgement_is_kept_once() {
        let mut a = Alarm {
            id: AlarmId(Uuid::from_u128(1)),
            site_id: SiteId(Uuid::from_u128(2)),
            device_id: DeviceId(Uuid::from_u128(3)),
            kind: DoorForced,
            occurred_at: 10,
            acknowledged: None,
        };
        let (u1, u2) = (UserId(Uuid::from_u128(4)), UserId(Uuid::from_u128(5)));
        assert!(a.acknowledge(u1, 20));
        assert!(!a.acknowledge(u2, 30));
        assert_eq!(a.acknowledged, Some((u1, 20)));
    }

    #[test]
    fn kinds_have_names() {
        for k in AlarmKind::ALL {
            assert_eq!(k.as_str().parse::<AlarmKind>(), Ok(k));
            assert_eq!(
                serde_json::to_string(&k).ok(),
                Some(format!("\"{}\"", k.as_str()))
            );
        }
    }
}
