//! `GET /ISAPI/ContentMgmt/Storage`: HDDs, SD cards and NAS volumes; plus the NVR
//! JSON `GET /ISAPI/System/workingstatus/hdStatus?format=json`.

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::json;
use crate::xml::Element;

/// Status of a disk or NAS volume (spellings as devices send them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageStatus {
    /// `ok`.
    Ok,
    /// `unformatted`.
    Unformatted,
    /// `error` / abnormal.
    Error,
    /// `idle` (sleeping disk).
    Idle,
    /// `mismatch`.
    Mismatch,
    /// `offline` / not online.
    Offline,
    /// `smartFailed`.
    SmartFailed,
    /// `reparing` (sic) / repairing.
    Repairing,
    /// `formating` (sic) / formatting.
    Formatting,
    /// `notexist`.
    NotExist,
    /// `unRecordHostFormatted`: formatted by another recorder.
    ForeignFormatted,
    /// Anything else, as sent.
    Other(String),
}

impl StorageStatus {
    /// Maps the textual status (case-insensitive, tolerant of the known misspellings).
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "ok" | "normal" => Self::Ok,
            "unformatted" => Self::Unformatted,
            "error" | "abnormal" => Self::Error,
            "idle" | "sleeping" => Self::Idle,
            "mismatch" => Self::Mismatch,
            "offline" | "notonline" => Self::Offline,
            "smartfailed" => Self::SmartFailed,
            "reparing" | "repairing" => Self::Repairing,
            "formating" | "formatting" => Self::Formatting,
            "notexist" => Self::NotExist,
            "unrecordhostformatted" => Self::ForeignFormatted,
            _ => Self::Other(s.trim().to_owned()),
        }
    }

    /// Maps the numeric SNMP-MIB status of the JSON `hdStatus` endpoint.
    pub fn from_code(code: u64) -> Self {
        match code {
            0 => Self::Ok,
            1 => Self::Unformatted,
            2 => Self::Error,
            3 => Self::SmartFailed,
            4 => Self::Mismatch,
            5 => Self::Idle,
            6 => Self::Offline,
            7 => Self::Repairing,
            other => Self::Other(other.to_string()),
        }
    }

    /// True when the medium can record.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Self::Ok | Self::Idle)
    }
}

/// One HDD or SD card (`hddName` `SD1` on cameras).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hdd {
    /// `id`.
    pub id: Option<u32>,
    /// `hddName`, e.g. `hdd1`, `SD1`.
    pub name: Option<String>,
    /// `hddType`, e.g. `SATA`.
    pub hdd_type: Option<String>,
    /// Parsed `status`.
    pub status: Option<StorageStatus>,
    /// Capacity in MiB.
    pub capacity_mib: Option<u64>,
    /// Free space in MiB.
    pub free_space_mib: Option<u64>,
    /// `property` (`RW`, `RO`, `Redund`); the first when repeated.
    pub property: Option<String>,
    /// Storage group.
    pub group: Option<u32>,
    /// `formatType`, e.g. `EXT4`.
    pub format_type: Option<String>,
    /// `Encryption/encryptionStatus`.
    pub encryption_status: Option<String>,
    /// `installationTime` as sent (`14-Apr-2024 13:20`).
    pub installation_time: Option<String>,
}

impl Hdd {
    /// True for SD/microSD cards (cameras, doorbells).
    pub fn is_sd_card(&self) -> bool {
        self.name
            .as_deref()
            .is_some_and(|n| n.to_ascii_lowercase().starts_with("sd"))
    }

    fn from_element(e: &Element) -> Self {
        Self {
            id: e.u32_of("id"),
            name: e.string_of("hddName"),
            hdd_type: e.string_of("hddType"),
            status: e.text_of("status").map(StorageStatus::parse),
            capacity_mib: e.u64_of("capacity"),
            free_space_mib: e.u64_of("freeSpace"),
            property: e.strings_of("property").into_iter().next(),
            group: e.u32_of("group"),
            format_type: e.string_of("formatType"),
            encryption_status: e
                .path(&["Encryption", "encryptionStatus"])
                .and_then(|x| x.non_empty_text())
                .map(str::to_owned),
            installation_time: e.string_of("installationTime"),
        }
    }
}

/// One NAS volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nas {
    /// `id` (NAS ids start at 9 on cameras).
    pub id: Option<u32>,
    /// `ipAddress`.
    pub ip_address: Option<String>,
    /// `hostName`, when addressed by name.
    pub host_name: Option<String>,
    /// `nasType` (`NFS`).
    pub nas_type: Option<String>,
    /// `mountType` (`NFS`, `SMB/CIFS`).
    pub mount_type: Option<String>,
    /// Export path.
    pub path: Option<String>,
    /// Parsed `status`.
    pub status: Option<StorageStatus>,
    /// Capacity in MiB.
    pub capacity_mib: Option<u64>,
    /// Free space in MiB.
    pub free_space_mib: Option<u64>,
    /// `property`.
    pub property: Option<String>,
}

impl Nas {
    fn from_element(e: &Element) -> Self {
        Self {
            id: e.u32_of("id"),
            ip_address: e.string_of("ipAddress"),
            host_name: e.string_of("hostName"),
            nas_type: e.string_of("nasType"),
            mount_type: e.string_of("mountType"),
            path: e.string_of("path"),
            status: e.text_of("status").map(StorageStatus::parse),
            capacity_mib: e.u64_of("capacity"),
            free_space_mib: e.u64_of("freeSpace"),
            property: e.strings_of("property").into_iter().next(),
        }
    }
}

/// The `storage` document (also accepts a bare `hddList` from `/Storage/hdd`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storage {
    /// Disks and SD cards.
    pub hdds: Vec<Hdd>,
    /// NAS volumes.
    pub nas: Vec<Nas>,
    /// `workMode` (`quota`, `group`).
    pub work_mode: Option<String>,
    /// Allowed `workMode` values from `opt`.
    pub work_mode_options: Vec<String>,
}

impl XmlModel for Storage {
    const ROOTS: &'static [&'static str] = &["storage", "hddList"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let hdds = if root.is("hddList") {
            root.children_named("hdd").map(Hdd::from_element).collect()
        } else {
            root.children_named("hddList")
                .flat_map(|l| l.children_named("hdd"))
                .map(Hdd::from_element)
                .collect()
        };
        let nas = root
            .children_named("nasList")
            .flat_map(|l| l.children_named("nas"))
            .map(Nas::from_element)
            .collect();
        let work_mode = root.child("workMode");
        Ok(Self {
            hdds,
            nas,
            work_mode: work_mode
                .and_then(Element::non_empty_text)
                .map(str::to_owned),
            work_mode_options: work_mode
                .map(|w| w.capability().options)
                .unwrap_or_default(),
        })
    }
}

impl Storage {
    /// Total capacity over disks and NAS, in MiB.
    pub fn total_capacity_mib(&self) -> u64 {
        self.hdds.iter().filter_map(|h| h.capacity_mib).sum::<u64>()
            + self.nas.iter().filter_map(|n| n.capacity_mib).sum::<u64>()
    }

    /// True when no disk, card or NAS is present at all.
    pub fn is_empty(&self) -> bool {
        self.hdds.is_empty() && self.nas.is_empty()
    }
}

/// One entry of the JSON `HDStatus` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HdStatus {
    /// `hdNo`.
    pub hd_no: Option<u32>,
    /// Numeric status as sent.
    pub status_code: Option<u64>,
    /// Mapped status.
    pub status: Option<StorageStatus>,
    /// `volume` in MiB.
    pub volume_mib: Option<u64>,
    /// `freeSpace` in MiB.
    pub free_space_mib: Option<u64>,
}

/// `{"HDStatus":[…]}` from `/ISAPI/System/workingstatus/hdStatus?format=json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HdStatusList {
    /// Disks.
    pub disks: Vec<HdStatus>,
}

impl HdStatusList {
    /// Parses the JSON document.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ParseError> {
        let v = json::parse(bytes)?;
        if let Some(e) = super::json_status_error(&v) {
            return Err(e);
        }
        let Some(list) = json::get(&v, "HDStatus") else {
            return Err(ParseError::UnexpectedRoot {
                expected: "HDStatus",
                found: "JSON without HDStatus".into(),
            });
        };
        let disks = json::items(Some(list), "HDStatus")
            .into_iter()
            .map(|d| {
                let status_code = json::u64(d, "status");
                HdStatus {
                    hd_no: json::u32(d, "hdNo"),
                    status: status_code.map(StorageStatus::from_code),
                    status_code,
                    volume_mib: json::u64(d, "volume"),
                    free_space_mib: json::u64(d, "freeSpace"),
                }
            })
            .collect();
        Ok(Self { disks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_property_and_bare_hdd_list() {
        let s = Storage::from_xml(
            b"<hddList><hdd><id>2</id><status>smartFailed</status><property>RW</property><property>RW</property><capacity> 100 </capacity></hdd></hddList>",
        )
        .expect("parses");
        assert_eq!(s.hdds.len(), 1);
        assert_eq!(s.hdds[0].status, Some(StorageStatus::SmartFailed));
        assert_eq!(s.hdds[0].property.as_deref(), Some("RW"));
        assert_eq!(s.hdds[0].capacity_mib, Some(100));
    }

    #[test]
    fn status_spellings() {
        assert_eq!(StorageStatus::parse("reparing"), StorageStatus::Repairing);
        assert_eq!(StorageStatus::parse("formating"), StorageStatus::Formatting);
        assert_eq!(
            StorageStatus::parse("unRecordHostFormatted"),
            StorageStatus::ForeignFormatted
        );
        assert_eq!(StorageStatus::from_code(6), StorageStatus::Offline);
        assert!(!StorageStatus::Error.is_healthy());
    }
}
