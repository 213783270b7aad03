//! `/ISAPI/ContentMgmt/Storage*` and the NVR `hdStatus` JSON: drives with the status,
//! free space, SMART and overwrite setting that the storage faults dictate.

use crate::catalog::Dialect;
use crate::device::{Device, State};
use crate::documents::Xml;
use crate::identity::Drive;

const HIK_VER10: &str = "http://www.hikvision.com/ver10/XMLSchema";

/// A drive as the documents show it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriveView {
    /// Drive id.
    pub id: u32,
    /// `ok`, `error` or `unformatted`.
    pub status: &'static str,
    /// MiB.
    pub capacity: u64,
    /// MiB.
    pub free: u64,
}

impl DriveView {
    /// The SNMP-MIB style code of `hdStatus` JSON (Normal 0, Unformatted 1, Abnormal 2).
    pub fn code(self) -> u32 {
        match self.status {
            "unformatted" => 1,
            "error" => 2,
            _ => 0,
        }
    }
}

/// The drives after faults: none when the SD card is missing; the first drive takes the
/// error/unformatted faults; all drives go to freeSpace 0 when full.
pub fn drives(dev: &Device, st: &State) -> Vec<DriveView> {
    let f = &st.faults;
    if f.sd_missing {
        return Vec::new();
    }
    dev.id
        .drives
        .iter()
        .enumerate()
        .map(|(i, d): (usize, &Drive)| {
            let status = match (i, f.hdd_error, f.hdd_unformatted) {
                (0, true, _) => "error",
                (0, _, true) => "unformatted",
                _ => "ok",
            };
            let free = if status == "unformatted" || f.drives_full() {
                0
            } else {
                d.free_mb
            };
            DriveView {
                id: d.id,
                status,
                capacity: d.capacity_mb,
                free,
            }
        })
        .collect()
}

fn hdd_children(x: &mut Xml, dev: &Device, d: DriveView) {
    let recorder = dev.id.kind.is_recorder();
    x.leaf("id", d.id)
        .leaf(
            "hddName",
            if recorder {
                format!("hdd{}", d.id)
            } else {
                format!("SD{}", d.id)
            },
        )
        .empty("hddPath")
        .leaf("hddType", "SATA")
        .leaf("status", d.status)
        .leaf("capacity", d.capacity)
        .leaf("freeSpace", d.free)
        .leaf("property", "RW");
    if recorder {
        if dev.dialect() == Dialect::Isapi {
            x.leaf("group", 1);
        }
    } else {
        x.leaf("formatType", "EXT4")
            .open("Encryption")
            .leaf_attrs("passwordLen", "min=\"6\" max=\"64\"", "")
            .leaf_attrs(
                "encryptionStatus",
                "opt=\"unencrypted,encrypted,verfyFailed\"",
                "unencrypted",
            )
            .leaf_attrs("encryptFormatType", "opt=\"EXT4\"", "EXT4")
            .close()
            .leaf("installationTime", "14-Apr-2024 13:20");
    }
}

fn hdd_list(x: &mut Xml, dev: &Device, st: &State) {
    let views = drives(dev, st);
    let d = dev.dialect();
    if !dev.id.kind.is_recorder() {
        // Cameras: a ver10 hddList inside a ver20 storage document (isapi.md §0 rule 1).
        x.open_attrs(
            "hddList",
            &format!("version=\"1.0\" xmlns=\"{HIK_VER10}\" size=\"8\""),
        );
        for v in views {
            x.open("hdd");
            hdd_children(x, dev, v);
            x.close();
        }
        x.close();
        return;
    }
    x.open("hddList");
    for v in views {
        if d == Dialect::Hik10 {
            x.open_attrs("hdd", &format!("version=\"1.0\" xmlns=\"{}\"", d.ns()));
        } else {
            x.open("hdd");
        }
        hdd_children(x, dev, v);
        x.close();
    }
    x.close();
}

/// `GET /ISAPI/ContentMgmt/Storage`.
pub fn storage(dev: &Device, st: &State) -> String {
    let d = dev.dialect();
    let mut x = Xml::root(d, "storage");
    hdd_list(&mut x, dev, st);
    if dev.id.kind.is_recorder() {
        x.empty("nasList");
        if d == Dialect::Isapi {
            x.leaf_attrs("workMode", "opt=\"group,quota\"", "quota")
                .empty("ssdList");
        } else {
            x.leaf("workMode", "quota");
        }
    } else {
        x.open_attrs(
            "nasList",
            "version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\"",
        )
        .leaf_attrs("supportMountType", "opt=\"NFS,SMB/CIFS\"", "")
        .leaf_attrs("authentication", "opt=\"SMB/CIFS\"", "")
        .close()
        .leaf("workMode", "quota");
    }
    x.finish()
}

/// `GET /ISAPI/ContentMgmt/Storage/hdd`.
pub fn hdd_list_doc(dev: &Device, st: &State) -> String {
    let d = dev.dialect();
    let mut x = Xml::root(d, "hddList");
    for v in drives(dev, st) {
        x.open("hdd");
        hdd_children(&mut x, dev, v);
        x.close();
    }
    x.finish()
}

/// `GET /ISAPI/ContentMgmt/Storage/hdd/<id>`.
pub fn hdd_doc(dev: &Device, st: &State, id: u32) -> Option<String> {
    let v = drives(dev, st).into_iter().find(|v| v.id == id)?;
    let mut x = Xml::root(dev.dialect(), "hdd");
    hdd_children(&mut x, dev, v);
    Some(x.finish())
}

/// `GET /ISAPI/ContentMgmt/Storage/hdd/<id>/SMARTTest/status` (misspelled element names are
/// the firmware's: `temprature`, `selfEvaluaingStatus`, `allEvaluaingStatus`).
pub fn smart_status(dev: &Device, st: &State, id: u32) -> Option<String> {
    let drive = dev.id.drives.iter().find(|d| d.id == id)?;
    let warn = st.faults.smart_warning && id == 1;
    let temperature = if warn { 61 } else { drive.temperature };
    let reallocated = if warn { 312 } else { 0 };
    let pending = if warn { 24 } else { 0 };
    let mut x = Xml::root(dev.dialect(), "SMARTTest");
    x.leaf("id", id)
        .leaf("temprature", temperature)
        .leaf("powerOnDay", drive.power_on_days)
        .leaf("selfEvaluaingStatus", if warn { "error" } else { "ok" })
        .leaf(
            "allEvaluaingStatus",
            if warn { "fault" } else { "functional" },
        )
        .leaf("selfTestPercent", 100)
        .leaf("selfTestStatus", "notTested")
        .open("TestResultList");
    let rows: [(u32, &str, u32, u32, u32, u64); 5] = [
        (1, "0x000f", 6, 100, 99, 0),
        (
            5,
            "0x0033",
            10,
            if warn { 62 } else { 100 },
            if warn { 62 } else { 100 },
            reallocated,
        ),
        (9, "0x0032", 0, 90, 90, u64::from(drive.power_on_days) * 24),
        (194, "0x0022", 0, temperature, 55, u64::from(temperature)),
        (
            197,
            "0x0012",
            0,
            if warn { 88 } else { 100 },
            if warn { 88 } else { 100 },
            pending,
        ),
    ];
    for (attr, flags, threshold, value, worst, raw) in rows {
        let bad = warn && matches!(attr, 5 | 194 | 197);
        x.open("TestResult")
            .leaf("attributeID", attr)
            .leaf("status", if bad { "warning" } else { "ok" })
            .leaf("flags", flags)
            .leaf("thresholds", threshold)
            .leaf("value", value)
            .leaf("worst", worst)
            .leaf("rawValue", raw)
            .close();
    }
    x.close();
    Some(x.finish())
}

/// `GET /ISAPI/ContentMgmt/Storage/extension`: `LoopEnable` (overwrite when full) is on,
/// except under `hdd_full`, which models a full disk with overwrite off.
pub fn storage_extension(dev: &Device, st: &State) -> String {
    let mut x = Xml::root(dev.dialect(), "storageExtension");
    x.leaf("LoopEnable", !st.faults.hdd_full);
    x.finish()
}

/// `GET /ISAPI/System/workingstatus/hdStatus?format=json`.
pub fn hd_status_json(dev: &Device, st: &State) -> String {
    let list: Vec<serde_json::Value> = drives(dev, st)
        .into_iter()
        .map(|v| {
            serde_json::json!({
                "hdNo": v.id,
                "status": v.code(),
                "volume": v.capacity,
                "freeSpace": v.free,
            })
        })
        .collect();
    serde_json::json!({ "HDStatus": list }).to_string()
}
