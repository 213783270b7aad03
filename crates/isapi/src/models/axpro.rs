//! AX Pro / AX Hub security control panel status (JSON, isapi.md §6):
//! `POST /ISAPI/SecurityCP/status/host?format=json` (`AlarmHostStatus`) and
//! `GET /ISAPI/SecurityCP/status/batteries?format=json` (`BatteryList`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ParseError;
use crate::json;

/// A battery at or below this charge counts as low when the panel gives no explicit flag.
pub const LOW_BATTERY_PERCENT: u32 = 20;

/// How the panel reaches the outside world right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PanelLink {
    /// Ethernet is up.
    Wired,
    /// Wi-Fi is up (Ethernet is not).
    WiFi,
    /// Only the cellular modem is up.
    Cellular,
    /// The panel reported its links and none is up.
    Disconnected,
    /// The document said nothing about links.
    Unknown,
}

/// `CommuniStatus` as sent (values such as `normal`, `break`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CommunicationStatus {
    /// `wired`.
    pub wired: Option<String>,
    /// `wifi`.
    pub wifi: Option<String>,
    /// `wifiSignal`.
    pub wifi_signal: Option<u32>,
    /// `mobile`.
    pub mobile: Option<String>,
    /// `mobileSignal`.
    pub mobile_signal: Option<u32>,
    /// `cloud`.
    pub cloud: Option<String>,
}

fn is_normal(s: Option<&str>) -> bool {
    s.is_some_and(|s| {
        matches!(
            s.to_ascii_lowercase().as_str(),
            "normal" | "connect" | "connected" | "online" | "true"
        )
    })
}

impl CommunicationStatus {
    /// The active link, preferring wired, then Wi-Fi, then cellular.
    pub fn link(&self) -> PanelLink {
        if is_normal(self.wired.as_deref()) {
            PanelLink::Wired
        } else if is_normal(self.wifi.as_deref()) {
            PanelLink::WiFi
        } else if is_normal(self.mobile.as_deref()) {
            PanelLink::Cellular
        } else if self.wired.is_some() || self.wifi.is_some() || self.mobile.is_some() {
            PanelLink::Disconnected
        } else {
            PanelLink::Unknown
        }
    }
}

/// One panel battery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelBattery {
    /// Battery id.
    pub id: Option<u32>,
    /// `status` (`normal`, `miss`, …).
    pub status: Option<String>,
    /// Charge in percent.
    pub percent: Option<u32>,
    /// Voltage.
    pub voltage: Option<f64>,
}

impl PanelBattery {
    /// True when the battery is reported missing (`miss`).
    pub fn is_missing(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().starts_with("miss"))
    }

    /// Low: status mentions `low`, or the charge is ≤ [`LOW_BATTERY_PERCENT`].
    pub fn is_low(&self) -> bool {
        if self.is_missing() {
            return false;
        }
        self.status
            .as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().contains("low"))
            || self.percent.is_some_and(|p| p <= LOW_BATTERY_PERCENT)
    }
}

/// Arming state of one area (`SubSys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubSystemStatus {
    /// Area id.
    pub id: Option<u32>,
    /// `arming` (`away`, `stay`, `vacation`, `disarm`, `arming`).
    pub arming: Option<String>,
    /// `alarm`.
    pub alarm: Option<bool>,
    /// `name`.
    pub name: Option<String>,
}

/// Panel health in one place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelStatus {
    /// Mains power present (`HostStatus.ACConnect`).
    pub mains_connected: Option<bool>,
    /// Batteries.
    pub batteries: Vec<PanelBattery>,
    /// Communication links.
    pub communication: Option<CommunicationStatus>,
    /// Active link derived from `communication`.
    pub link: PanelLink,
    /// `HostStatus.tamperEvident`.
    pub tamper: Option<bool>,
    /// `HostStatus.faultNum`.
    pub fault_count: Option<u32>,
    /// Areas.
    pub subsystems: Vec<SubSystemStatus>,
}

impl PanelStatus {
    /// Any battery low (`None` when no battery was reported).
    pub fn low_battery(&self) -> Option<bool> {
        let present: Vec<_> = self.batteries.iter().filter(|b| !b.is_missing()).collect();
        if present.is_empty() {
            return None;
        }
        Some(present.iter().any(|b| b.is_low()))
    }

    /// Lowest battery charge reported.
    pub fn battery_percent(&self) -> Option<u32> {
        self.batteries.iter().filter_map(|b| b.percent).min()
    }

    /// Parses `AlarmHostStatus`, a bare `BatteryList`, or `SubSysList` JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ParseError> {
        let v = json::parse(bytes)?;
        if let Some(e) = super::json_status_error(&v) {
            return Err(e);
        }
        let host = json::get(&v, "AlarmHostStatus").unwrap_or(&v);
        let known = ["HostStatus", "BatteryList", "CommuniStatus", "SubSysList"];
        if !known.iter().any(|k| json::get(host, k).is_some()) {
            return Err(ParseError::UnexpectedRoot {
                expected: "AlarmHostStatus",
                found: first_key(&v),
            });
        }
        let host_status = json::get(host, "HostStatus");
        let communication = json::get(host, "CommuniStatus").map(|c| CommunicationStatus {
            wired: json::string(c, "wired"),
            wifi: json::string(c, "wifi"),
            wifi_signal: json::u32(c, "wifiSignal"),
            mobile: json::string(c, "mobile"),
            mobile_signal: json::u32(c, "mobileSignal"),
            cloud: json::string(c, "cloud"),
        });
        let batteries = json::items(json::get(host, "BatteryList"), "Battery")
            .into_iter()
            .map(|b| PanelBattery {
                id: json::u32(b, "id"),
                status: json::string(b, "status"),
                percent: json::u32(b, "percent").or_else(|| json::u32(b, "chargeValue")),
                voltage: json::f64(b, "voltage"),
            })
            .collect();
        let subsystems = json::items(json::get(host, "SubSysList"), "SubSys")
            .into_iter()
            .map(|s| SubSystemStatus {
                id: json::u32(s, "id"),
                arming: json::string(s, "arming"),
                alarm: json::bool(s, "alarm"),
                name: json::string(s, "name"),
            })
            .collect();
        Ok(Self {
            mains_connected: host_status.and_then(|h| json::bool(h, "ACConnect")),
            batteries,
            link: communication
                .as_ref()
                .map_or(PanelLink::Unknown, CommunicationStatus::link),
            communication,
            tamper: host_status.and_then(|h| json::bool(h, "tamperEvident")),
            fault_count: host_status.and_then(|h| json::u32(h, "faultNum")),
            subsystems,
        })
    }
}

fn first_key(v: &Value) -> String {
    v.as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_else(|| "non-object JSON".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_status_on_wifi_with_low_battery() {
        let doc = br#"{"AlarmHostStatus":{"SubSysList":[{"SubSys":{"id":1,"arming":"disarm","alarm":false}}],
"HostStatus":{"ACConnect":false,"tamperEvident":false,"faultNum":1},
"BatteryList":[{"Battery":{"id":1,"status":"normal","percent":15,"voltage":4}}],
"CommuniStatus":{"wired":"break","wifi":"normal","wifiSignal":4,"mobile":"normal","mobileSignal":2,"cloud":"normal"}}}"#;
        let p = PanelStatus::from_json(doc).expect("parses");
        assert_eq!(p.link, PanelLink::WiFi);
        assert_eq!(p.mains_connected, Some(false));
        assert_eq!(p.low_battery(), Some(true));
        assert_eq!(p.battery_percent(), Some(15));
        assert_eq!(p.fault_count, Some(1));
        assert_eq!(p.subsystems[0].arming.as_deref(), Some("disarm"));
    }

    #[test]
    fn links() {
        let c = |w: &str, f: &str, m: &str| CommunicationStatus {
            wired: Some(w.into()),
            wifi: Some(f.into()),
            mobile: Some(m.into()),
            ..CommunicationStatus::default()
        };
        assert_eq!(c("normal", "break", "break").link(), PanelLink::Wired);
        assert_eq!(c("break", "break", "normal").link(), PanelLink::Cellular);
        assert_eq!(c("break", "break", "break").link(), PanelLink::Disconnected);
        assert_eq!(CommunicationStatus::default().link(), PanelLink::Unknown);
    }

    #[test]
    fn battery_list_only_and_missing_battery() {
        let p = PanelStatus::from_json(
            br#"{"BatteryList":[{"Battery":{"id":1,"status":"miss","percent":0}}]}"#,
        )
        .expect("parses");
        assert_eq!(p.low_battery(), None);
        assert!(p.batteries[0].is_missing());
        assert_eq!(p.link, PanelLink::Unknown);
        assert!(PanelStatus::from_json(br#"{"Other":1}"#).is_err());
        let err = PanelStatus::from_json(br#"{"statusCode":4,"subStatusCode":"notSupport"}"#)
            .expect_err("status");
        assert!(matches!(err, ParseError::Status(s) if s.is_not_supported()));
    }
}
