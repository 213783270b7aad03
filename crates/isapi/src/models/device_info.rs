//! `GET /ISAPI/System/deviceInfo`: identity of the device.

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::xml::Element;

/// Kind of device as reported in `deviceType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceType {
    /// `IPCamera` (or `IPC` on some OEM DVRs — see [`DeviceType::parse`]).
    IpCamera,
    /// `IPDome` (PTZ).
    IpDome,
    /// `NVR`.
    Nvr,
    /// `DVR` (analog/HD-TVI recorders).
    Dvr,
    /// `VIS`: video intercom.
    VideoIntercom,
    /// `ACS` and access-control terminals.
    AccessControl,
    /// Anything else, as sent.
    Other(String),
}

impl DeviceType {
    /// Maps the text of `deviceType` (case-insensitive).
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "ipcamera" | "ipc" => Self::IpCamera,
            "ipdome" => Self::IpDome,
            "nvr" => Self::Nvr,
            "dvr" => Self::Dvr,
            "vis" => Self::VideoIntercom,
            "acs" | "accesscontrol" => Self::AccessControl,
            _ => Self::Other(s.trim().to_owned()),
        }
    }

    /// True for recorders, whose pushed events may offset IP channels by 32.
    pub fn is_recorder(&self) -> bool {
        matches!(self, Self::Nvr | Self::Dvr)
    }
}

/// The `DeviceInfo` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// User-set name.
    pub device_name: Option<String>,
    /// Device UUID.
    pub device_id: Option<String>,
    /// Model, e.g. `DS-2CD2386G2-IU`.
    pub model: Option<String>,
    /// Full serial (model + date + serial).
    pub serial_number: Option<String>,
    /// MAC address as sent.
    pub mac_address: Option<String>,
    /// Firmware version, e.g. `V5.7.18`.
    pub firmware_version: Option<String>,
    /// Firmware build, e.g. `build 240826`.
    pub firmware_released_date: Option<String>,
    /// Encoder version.
    pub encoder_version: Option<String>,
    /// Hardware version.
    pub hardware_version: Option<String>,
    /// Raw `deviceType` text.
    pub device_type_raw: Option<String>,
    /// Parsed `deviceType`.
    pub device_type: Option<DeviceType>,
    /// `manufacturer`, when present.
    pub manufacturer: Option<String>,
    /// `deviceDescription`.
    pub description: Option<String>,
    /// `deviceLocation`.
    pub location: Option<String>,
    /// `firmwareVersionInfo`, e.g. `B-R-G5-0`.
    pub firmware_version_info: Option<String>,
}

impl XmlModel for DeviceInfo {
    const ROOTS: &'static [&'static str] = &["DeviceInfo"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let device_type_raw = root.string_of("deviceType");
        Ok(Self {
            device_name: root.string_of("deviceName"),
            device_id: root.string_of("deviceID"),
            model: root.string_of("model"),
            serial_number: root.string_of("serialNumber"),
            mac_address: root.string_of("macAddress"),
            firmware_version: root.string_of("firmwareVersion"),
            firmware_released_date: root.string_of("firmwareReleasedDate"),
            encoder_version: root.string_of("encoderVersion"),
            hardware_version: root.string_of("hardwareVersion"),
            device_type: device_type_raw.as_deref().map(DeviceType::parse),
            device_type_raw,
            manufacturer: root.string_of("manufacturer"),
            description: root.string_of("deviceDescription"),
            location: root.string_of("deviceLocation"),
            firmware_version_info: root.string_of("firmwareVersionInfo"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_types() {
        assert_eq!(DeviceType::parse("IPC"), DeviceType::IpCamera);
        assert_eq!(DeviceType::parse(" NVR "), DeviceType::Nvr);
        assert_eq!(DeviceType::parse("VIS"), DeviceType::VideoIntercom);
        assert_eq!(
            DeviceType::parse("Radar"),
            DeviceType::Other("Radar".into())
        );
        assert!(DeviceType::Dvr.is_recorder());
    }

    #[test]
    fn response_status_root_is_an_error() {
        let err = DeviceInfo::from_xml(
            b"<ResponseStatus><statusCode>4</statusCode><subStatusCode>notSupport</subStatusCode></ResponseStatus>",
        )
        .expect_err("status");
        assert!(matches!(err, ParseError::Status(s) if s.is_not_supported()));
        assert!(matches!(
            DeviceInfo::from_xml(b"<storage/>"),
            Err(ParseError::UnexpectedRoot { .. })
        ));
    }
}
