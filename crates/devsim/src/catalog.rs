//! The model catalogue: realistic model names per brand and device kind, with what the
//! hardware has (channels, drive bays, alarm I/O) and the firmware it ships.

use crate::spec::{Brand, DeviceKind};

/// XML namespace dialect a model's firmware answers in (isapi.md §0 rule 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `http://www.hikvision.com/ver20/XMLSchema`, version 2.0 (cameras).
    Hik20,
    /// `http://www.hikvision.com/ver20/XMLSchema`, version 1.0 (older NVR/DVR firmware).
    Hik10,
    /// `http://www.isapi.org/ver20/XMLSchema` (newer NVRs, AX Pro, access control, intercoms).
    Isapi,
    /// `http://www.std-cgi.com/ver20/XMLSchema` (OEM firmware; used by the third-party camera).
    StdCgi,
}

impl Dialect {
    /// The default namespace.
    pub fn ns(self) -> &'static str {
        match self {
            Dialect::Hik20 | Dialect::Hik10 => "http://www.hikvision.com/ver20/XMLSchema",
            Dialect::Isapi => "http://www.isapi.org/ver20/XMLSchema",
            Dialect::StdCgi => "http://www.std-cgi.com/ver20/XMLSchema",
        }
    }

    /// The root `version` attribute.
    pub fn version(self) -> &'static str {
        match self {
            Dialect::Hik10 => "1.0",
            _ => "2.0",
        }
    }
}

/// One model in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// Model name as in deviceInfo.
    pub name: &'static str,
    /// Video channels (cameras 1; recorders their channel count; others 1 or 0).
    pub channels: u32,
    /// Drive bays (recorders) or SD slots (cameras, intercoms, doorbells).
    pub drives: u32,
    /// Alarm inputs.
    pub io_in: u32,
    /// Alarm outputs.
    pub io_out: u32,
    /// Firmware version.
    pub firmware: &'static str,
    /// Firmware build date.
    pub build: &'static str,
    /// XML dialect.
    pub dialect: Dialect,
}

const fn m(
    name: &'static str,
    channels: u32,
    drives: u32,
    io: (u32, u32),
    firmware: &'static str,
    build: &'static str,
    dialect: Dialect,
) -> Model {
    Model {
        name,
        channels,
        drives,
        io_in: io.0,
        io_out: io.1,
        firmware,
        build,
        dialect,
    }
}

use Dialect::{Hik10, Hik20, Isapi, StdCgi};

const HIK_IPC: &[Model] = &[
    m(
        "DS-2CD2386G2-IU",
        1,
        1,
        (0, 0),
        "V5.7.15",
        "build 240201",
        Hik20,
    ),
    m(
        "DS-2CD2346G2-ISU/SL",
        1,
        1,
        (1, 1),
        "V5.7.3",
        "build 220112",
        Hik20,
    ),
    m(
        "DS-2CD2T46G2-ISU/SL",
        1,
        1,
        (1, 1),
        "V5.7.3",
        "build 220112",
        Hik20,
    ),
    m(
        "DS-2CD2146G2-ISU",
        1,
        1,
        (1, 1),
        "V5.7.12",
        "build 230424",
        Hik20,
    ),
    m(
        "DS-2CD2T86G2-ISU/SL",
        1,
        1,
        (1, 1),
        "V5.7.3",
        "build 220112",
        Hik20,
    ),
    m(
        "DS-2CD2047G2-L",
        1,
        1,
        (0, 0),
        "V5.7.10",
        "build 221021",
        Hik20,
    ),
    m(
        "DS-2CD2143G2-I",
        1,
        1,
        (0, 0),
        "V5.7.10",
        "build 221021",
        Hik20,
    ),
];
const HIK_NVR: &[Model] = &[
    m(
        "DS-7608NXI-I2/8P/S",
        8,
        2,
        (4, 1),
        "V4.62.210",
        "build 230619",
        Isapi,
    ),
    m(
        "DS-7616NXI-I2/16P/S",
        16,
        2,
        (4, 1),
        "V4.62.210",
        "build 230619",
        Isapi,
    ),
    m(
        "DS-7616NI-K2",
        16,
        2,
        (0, 0),
        "V4.74.210",
        "build 240108",
        Hik10,
    ),
    m(
        "DS-7616NI-Q2",
        16,
        2,
        (0, 0),
        "V4.61.025",
        "build 220930",
        Hik10,
    ),
    m(
        "DS-7604NI-K1/4P",
        4,
        1,
        (0, 0),
        "V4.74.105",
        "build 231108",
        Hik10,
    ),
    m(
        "DS-7732NI-K4/16P",
        32,
        4,
        (4, 1),
        "V4.74.200",
        "build 240105",
        Hik10,
    ),
];
const HIK_DVR: &[Model] = &[
    m(
        "iDS-7204HUHI-M1/E",
        4,
        1,
        (0, 0),
        "V4.75.011",
        "build 240625",
        Hik10,
    ),
    m(
        "iDS-7208HQHI-M1/S",
        8,
        1,
        (0, 0),
        "V4.72.101",
        "build 230812",
        Hik10,
    ),
    m(
        "DS-7208HUHI-K1",
        8,
        1,
        (0, 0),
        "V4.71.100",
        "build 230302",
        Hik10,
    ),
    m(
        "DS-7216HQHI-K2",
        16,
        2,
        (16, 4),
        "V4.71.100",
        "build 230302",
        Hik10,
    ),
];
const HIK_PANEL: &[Model] = &[
    m(
        "DS-PWA96-M-WE",
        0,
        0,
        (0, 0),
        "V1.2.8",
        "build 230321",
        Isapi,
    ),
    m(
        "DS-PWA64-L-WE",
        0,
        0,
        (0, 0),
        "V1.2.8",
        "build 230321",
        Isapi,
    ),
    m(
        "DS-PWA96-M2H-WE",
        0,
        0,
        (0, 0),
        "V1.2.9",
        "build 240112",
        Isapi,
    ),
];
const HIK_ACS: &[Model] = &[
    m(
        "DS-K1T342MWX",
        1,
        0,
        (2, 1),
        "V4.48.40",
        "build 240705",
        Isapi,
    ),
    m(
        "DS-K1T341AMF",
        1,
        0,
        (2, 1),
        "V3.5.18",
        "build 230615",
        Isapi,
    ),
    m("DS-K1T671M", 1, 0, (2, 1), "V3.2.30", "build 220901", Isapi),
    m(
        "DS-K1T320MFWX",
        1,
        0,
        (2, 1),
        "V4.38.0",
        "build 231120",
        Isapi,
    ),
];
const HIK_INTERCOM: &[Model] = &[
    m(
        "DS-KD8003-IME1",
        1,
        0,
        (2, 1),
        "V2.2.60",
        "build 230210",
        Isapi,
    ),
    m(
        "DS-KH6320-WTE1",
        0,
        1,
        (8, 1),
        "V2.2.62",
        "build 230410",
        Isapi,
    ),
    m(
        "DS-KH8350-WTE1",
        0,
        1,
        (8, 1),
        "V2.2.62",
        "build 230410",
        Isapi,
    ),
];
const HIK_DOORBELL: &[Model] = &[
    m(
        "DS-KV6113-WPE1(C)",
        1,
        1,
        (1, 1),
        "V2.2.53",
        "build 221109",
        Isapi,
    ),
    m(
        "DS-KV8113-WME1(C)",
        1,
        0,
        (1, 1),
        "V2.2.53",
        "build 221109",
        Isapi,
    ),
    m(
        "DS-KB6003-WIP",
        1,
        1,
        (0, 0),
        "V5.3.6",
        "build 220518",
        Hik20,
    ),
];
const HILOOK_IPC: &[Model] = &[
    m("IPC-B140H", 1, 0, (0, 0), "V5.5.800", "build 210628", Hik20),
    m("IPC-T240H", 1, 0, (0, 0), "V5.5.800", "build 210628", Hik20),
    m(
        "IPC-B640HA-Z",
        1,
        1,
        (0, 0),
        "V5.7.0",
        "build 220303",
        Hik20,
    ),
];
const HILOOK_NVR: &[Model] = &[
    m(
        "NVR-104MH-C/4P",
        4,
        1,
        (0, 0),
        "V4.30.216",
        "build 220222",
        Hik10,
    ),
    m(
        "NVR-108MH-C/8P",
        8,
        1,
        (0, 0),
        "V4.30.216",
        "build 220222",
        Hik10,
    ),
    m(
        "NVR-216MH-C",
        16,
        2,
        (0, 0),
        "V4.32.010",
        "build 220812",
        Hik10,
    ),
];
const HILOOK_DVR: &[Model] = &[
    m(
        "DVR-204Q-K1",
        4,
        1,
        (0, 0),
        "V4.30.104",
        "build 220317",
        Hik10,
    ),
    m(
        "DVR-208Q-K1",
        8,
        1,
        (0, 0),
        "V4.30.104",
        "build 220317",
        Hik10,
    ),
    m(
        "DVR-216U-K2",
        16,
        2,
        (0, 0),
        "V4.31.102",
        "build 220901",
        Hik10,
    ),
];
const EZVIZ_IPC: &[Model] = &[
    m(
        "CS-C6N-A0-1C2WFR",
        1,
        1,
        (0, 0),
        "V5.3.0",
        "build 220317",
        Hik20,
    ),
    m(
        "CS-H8C-R100-1J4WKFL",
        1,
        1,
        (0, 0),
        "V5.3.8",
        "build 230606",
        Hik20,
    ),
    m(
        "CS-H3c-R100-1K2WF",
        1,
        1,
        (0, 0),
        "V5.3.4",
        "build 221115",
        Hik20,
    ),
];
const EZVIZ_NVR: &[Model] = &[m(
    "CS-X5S-8W",
    8,
    1,
    (0, 0),
    "V4.1.2",
    "build 210918",
    Hik10,
)];
const EZVIZ_DOORBELL: &[Model] = &[
    m(
        "CS-DB2-A0-2C3WPFBR",
        1,
        1,
        (0, 0),
        "V5.3.2",
        "build 220927",
        Hik20,
    ),
    m(
        "CS-DB1C-A0-1E2W2FR",
        1,
        1,
        (0, 0),
        "V5.2.7",
        "build 210630",
        Hik20,
    ),
];
const THIRD_PARTY: &[Model] = &[
    m(
        "P3245-LV",
        1,
        0,
        (0, 0),
        "10.12.153",
        "build 230110",
        StdCgi,
    ),
    m(
        "M3106-L Mk II",
        1,
        0,
        (0, 0),
        "9.80.3",
        "build 220415",
        StdCgi,
    ),
];

/// The models a brand makes for a kind (empty when the brand has none).
pub fn models(brand: Brand, kind: DeviceKind) -> &'static [Model] {
    use DeviceKind as K;
    match (brand, kind) {
        (_, K::ThirdParty) => THIRD_PARTY,
        (Brand::ThirdParty, _) => &[],
        (Brand::Hikvision, K::Ipc) => HIK_IPC,
        (Brand::Hikvision, K::Nvr) => HIK_NVR,
        (Brand::Hikvision, K::Dvr) => HIK_DVR,
        (Brand::Hikvision, K::ControlPanel) => HIK_PANEL,
        (Brand::Hikvision, K::AccessControl) => HIK_ACS,
        (Brand::Hikvision, K::VideoIntercom) => HIK_INTERCOM,
        (Brand::Hikvision, K::Doorbell) => HIK_DOORBELL,
        (Brand::HiLook, K::Ipc) => HILOOK_IPC,
        (Brand::HiLook, K::Nvr) => HILOOK_NVR,
        (Brand::HiLook, K::Dvr) => HILOOK_DVR,
        (Brand::Ezviz, K::Ipc) => EZVIZ_IPC,
        (Brand::Ezviz, K::Nvr) => EZVIZ_NVR,
        (Brand::Ezviz, K::Doorbell) => EZVIZ_DOORBELL,
        _ => &[],
    }
}

/// The default brand weights: mostly Hikvision, some HiLook and EZVIZ.
pub const DEFAULT_BRANDS: &[(Brand, u32)] =
    &[(Brand::Hikvision, 6), (Brand::HiLook, 2), (Brand::Ezviz, 2)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_hikvision_or_third_party_model() {
        for kind in DeviceKind::ALL {
            let brand = if kind == DeviceKind::ThirdParty {
                Brand::ThirdParty
            } else {
                Brand::Hikvision
            };
            assert!(!models(brand, kind).is_empty(), "{kind}");
        }
        for m in models(Brand::HiLook, DeviceKind::Nvr) {
            assert!(m.name.starts_with("NVR-"));
        }
        for m in models(Brand::Ezviz, DeviceKind::Ipc) {
            assert!(m.name.starts_with("CS-"));
        }
    }
}
