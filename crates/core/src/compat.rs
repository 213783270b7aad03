//! The compatibility list: which devices Siteward may manage, kept as data in
//! `data/compatibility.txt` and matched by model family, so real models never seen by
//! name are recognised, and anything else is refused with a clear reason.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// The kinds of device Siteward manages (the API field `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    /// Network camera.
    Ipc,
    /// Network video recorder.
    Nvr,
    /// Digital video recorder.
    Dvr,
    /// Security control panel (AX Pro, AX Hub).
    ControlPanel,
    /// Access control terminal or controller.
    AccessControl,
    /// Video intercom (door and indoor stations).
    VideoIntercom,
    /// Video doorbell.
    Doorbell,
}

impl DeviceType {
    /// Every type.
    pub const ALL: [DeviceType; 7] = [
        DeviceType::Ipc,
        DeviceType::Nvr,
        DeviceType::Dvr,
        DeviceType::ControlPanel,
        DeviceType::AccessControl,
        DeviceType::VideoIntercom,
        DeviceType::Doorbell,
    ];

    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Ipc => "ipc",
            DeviceType::Nvr => "nvr",
            DeviceType::Dvr => "dvr",
            DeviceType::ControlPanel => "control_panel",
            DeviceType::AccessControl => "access_control",
            DeviceType::VideoIntercom => "video_intercom",
            DeviceType::Doorbell => "doorbell",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            DeviceType::Ipc => "Network camera",
            DeviceType::Nvr => "NVR",
            DeviceType::Dvr => "DVR",
            DeviceType::ControlPanel => "Control panel",
            DeviceType::AccessControl => "Access control",
            DeviceType::VideoIntercom => "Video intercom",
            DeviceType::Doorbell => "Doorbell",
        }
    }
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeviceType {
    type Err = crate::role::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeviceType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| crate::role::UnknownValue(s.to_owned()))
    }
}

/// A family on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// `hikvision`, `hilook` or `ezviz`.
    pub brand: String,
    /// The model prefix that identifies the family.
    pub prefix: String,
    /// What kind of device it is.
    pub device_type: DeviceType,
    /// The family's name for people.
    pub name: String,
}

/// Why a device is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Incompatible {
    /// The device named no model.
    #[error("the device did not say which model it is")]
    NoModel,
    /// Another maker's device.
    #[error(
        "{model} by {manufacturer} is not a Hikvision, HiLook or EZVIZ device; Siteward manages only those"
    )]
    OtherBrand {
        /// The model reported.
        model: String,
        /// The manufacturer reported.
        manufacturer: String,
    },
    /// A model of no family on the list.
    #[error("{model} is not on Siteward's compatibility list")]
    UnknownModel {
        /// The model reported.
        model: String,
    },
}

const LIST: &str = include_str!("../data/compatibility.txt");

/// The families on the list, longest prefix first.
pub fn families() -> &'static [Family] {
    static FAMILIES: OnceLock<Vec<Family>> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        let mut v: Vec<Family> = LIST
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut cols = l.split_whitespace();
                let brand = cols.next()?.to_owned();
                let prefix = cols.next()?.to_ascii_uppercase();
                let device_type = cols.next()?.parse().ok()?;
                let name = cols.collect::<Vec<_>>().join(" ");
                Some(Family {
                    brand,
                    prefix,
                    device_type,
                    name,
                })
            })
            .collect();
        v.sort_by_key(|f| std::cmp::Reverse(f.prefix.len()));
        v
    })
}

/// Makers whose devices are refused by name (they answer ISAPI-like requests but are
/// not Hikvision-family). Anything reporting no manufacturer is judged by model alone.
fn foreign_manufacturer(manufacturer: &str) -> bool {
    let m = manufacturer.trim().to_ascii_lowercase();
    !(m.is_empty() || m.contains("hikvision") || m.contains("hilook") || m.contains("ezviz"))
}

/// Decides whether a device with this model (and, when it says, manufacturer) may be
/// managed, and what it is.
pub fn classify(model: &str, manufacturer: Option<&str>) -> Result<&'static Family, Incompatible> {
    let model = model.trim();
    if model.is_empty() {
        return Err(Incompatible::NoModel);
    }
    if let Some(m) = manufacturer.filter(|m| foreign_manufacturer(m)) {
        return Err(Incompatible::OtherBrand {
            model: model.to_owned(),
            manufacturer: m.trim().to_owned(),
        });
    }
    let upper = model.to_ascii_uppercase();
    families()
        .iter()
        .find(|f| upper.starts_with(&f.prefix))
        .ok_or_else(|| Incompatible::UnknownModel {
            model: model.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_list_is_read() {
        let lines = LIST
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .count();
        assert_eq!(
            families().len(),
            lines,
            "a line of compatibility.txt did not parse"
        );
        for t in DeviceType::ALL {
            assert!(
                families().iter().any(|f| f.device_type == t),
                "no family of type {t}"
            );
        }
    }

    /// R-15 as a table: real models (many never named in the list) → brand and type.
    #[test]
    fn classification_table() {
        let ok = [
            ("DS-2CD2386G2-IU", "hikvision", DeviceType::Ipc),
            ("ds-2cd2146g2-isu", "hikvision", DeviceType::Ipc),
            ("DS-2SE4C425MWG-E/26", "hikvision", DeviceType::Ipc),
            ("DS-7608NXI-I2/8P/S", "hikvision", DeviceType::Nvr),
            ("DS-7616NI-Q2", "hikvision", DeviceType::Nvr),
            ("iDS-7204HUHI-M1/S", "hikvision", DeviceType::Dvr),
            ("DS-7204HGHI-K1", "hikvision", DeviceType::Dvr),
            ("DS-PWA96-M-WE", "hikvision", DeviceType::ControlPanel),
            ("DS-K1T342MFWX", "hikvision", DeviceType::AccessControl),
            ("DS-KD8003-IME1", "hikvision", DeviceType::VideoIntercom),
            ("DS-KH6320-WTE1", "hikvision", DeviceType::VideoIntercom),
            ("DS-KV6113-WPE1", "hikvision", DeviceType::Doorbell),
            ("IPC-B140H", "hilook", DeviceType::Ipc),
            ("NVR-104MH-C", "hilook", DeviceType::Nvr),
            ("DVR-204G-K1", "hilook", DeviceType::Dvr),
            ("CS-C6N", "ezviz", DeviceType::Ipc),
            ("CS-DB1C", "ezviz", DeviceType::Doorbell),
            ("ERI-K104-P4", "hikvision", DeviceType::Nvr),
        ];
        for (model, brand, t) in ok {
            let f = classify(model, Some("Hikvision")).unwrap_or_else(|e| panic!("{model}: {e}"));
            assert_eq!((f.brand.as_str(), f.device_type), (brand, t), "{model}");
        }
        assert_eq!(classify("", None), Err(Incompatible::NoModel));
        assert!(matches!(
            classify("AXIS M3106", Some("Axis")),
            Err(Incompatible::OtherBrand { .. })
        ));
        assert!(matches!(
            classify("DS-2CD2386G2-IU", Some("Acme Cameras Inc.")),
            Err(Incompatible::OtherBrand { .. })
        ));
        assert!(matches!(
            classify("XYZ-1000", None),
            Err(Incompatible::UnknownModel { .. })
        ));
        let msg = classify("XYZ-1000", None)
            .map(|_| ())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            msg.as_deref(),
            Some("XYZ-1000 is not on Siteward's compatibility list")
        );
    }
}
