//! Walks every captured device response under `shared/reference/samples` and
//! parses each with the matching parser, reporting file by file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use siteward_isapi::alert_stream::{StreamItem, decode_all};
use siteward_isapi::client::check;
use siteward_isapi::digest::{self, DigestSession, Scheme};
use siteward_isapi::models::*;
use siteward_isapi::{
    Element, Error, ParseError, Response, UnauthorizedBody, parse_unauthorized_body,
};
use time::macros::offset;

pub fn samples_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/samples");
    assert!(
        dir.is_dir(),
        "sample folder missing at {} — the tests need /work/shared/reference/samples",
        dir.display()
    );
    dir
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = samples_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// How a file was understood.
enum Class {
    /// Parsed with a typed model (name of the model).
    Typed(&'static str),
    /// Parsed with the generic tree (root name).
    Generic(String),
    /// Checked, but not a device response.
    NotIsapi(&'static str),
}

/// Root element expected for endpoint names found in file names.
fn expected_root(rel: &str) -> Option<&'static str> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let table: &[(&str, &str)] = &[
        ("System.deviceInfo", "DeviceInfo"),
        ("ContentMgmt.Storage", "storage"),
        ("System.status", "DeviceStatus"),
        ("System.time", "Time"),
        ("Event.notification.httpHosts", "HttpHostNotificationList"),
        (
            "ContentMgmt.InputProxy.channels.xml",
            "InputProxyChannelList",
        ),
        ("Security.adminAccesses", "AdminAccessProtocolList"),
        ("System.capabilities", "DeviceCap"),
        ("Event.triggers.xml", "EventTriggerList"),
        ("Streaming.channels.xml", "StreamingChannelList"),
        ("System.Video.inputs.channels.xml", "VideoInputChannelList"),
        ("System.Holidays", "HolidayList"),
        ("onlineUpgrade.status", "OnlineUpgradeStatus"),
        ("onlineUpgrade.capabilities", "OnlineUpgradeCap"),
        ("notSupport", "ResponseStatus"),
    ];
    if rel.contains("/EventNotificationAlert/") {
        return Some("EventNotificationAlert");
    }
    if rel.contains("Streaming.channels.x0y.picture/") {
        return Some("ResponseStatus");
    }
    if name.contains(".IO.") && name.ends_with(".status.xml") {
        return Some("IOPortStatus");
    }
    table
        .iter()
        .find(|(k, _)| name.contains(k))
        .map(|(_, v)| *v)
}

fn check_xml(rel: &str, bytes: &[u8]) -> Result<Class, String> {
    let root = Element::parse(bytes).map_err(|e| format!("tree: {e}"))?;
    if let Some(expected) = expected_root(rel)
        && !root.is(expected)
    {
        return Err(format!(
            "file name says <{expected}>, root is <{}>",
            root.name()
        ));
    }
    let fail = |e: ParseError| format!("{}: {e}", root.name());
    let class = match root.name() {
        "DeviceInfo" => {
            let d = DeviceInfo::from_root(&root).map_err(fail)?;
            if d.model.is_none()
                || d.serial_number.is_none()
                || d.firmware_version.is_none()
                || d.device_type.is_none()
            {
                return Err(format!("DeviceInfo lacks identity: {d:?}"));
            }
            Class::Typed("DeviceInfo")
        }
        "storage" => {
            let s = Storage::from_root(&root).map_err(fail)?;
            for h in &s.hdds {
                if h.capacity_mib.is_none() || h.free_space_mib.is_none() || h.status.is_none() {
                    return Err(format!("hdd without capacity/free/status: {h:?}"));
                }
            }
            for n in &s.nas {
                if n.status.is_none() || n.capacity_mib.is_none() {
                    return Err(format!("nas without status/capacity: {n:?}"));
                }
            }
            if s.work_mode.is_none() {
                return Err("storage without workMode".into());
            }
            Class::Typed("Storage")
        }
        "EventNotificationAlert" => {
            let e = EventAlert::from_root(&root).map_err(fail)?;
            if e.state == EventState::Unknown
                || e.date_time.as_ref().and_then(|t| t.instant()).is_none()
            {
                return Err(format!("event without state/time: {e:?}"));
            }
            if e.channel().is_none() {
                return Err("event without channel".into());
            }
            Class::Typed("EventAlert")
        }
        "ResponseStatus" => {
            let s = ResponseStatus::from_element(&root);
            if s.status_code.is_none() || s.sub_status_code.is_none() {
                return Err(format!("status without codes: {s:?}"));
            }
            Class::Typed("ResponseStatus")
        }
        "DeviceStatus" => {
            let s = DeviceStatus::from_root(&root).map_err(fail)?;
            if s.uptime_secs.is_none() || s.cpus.is_empty() || s.memory.is_empty() {
                return Err(format!("status incomplete: {s:?}"));
            }
            Class::Typed("DeviceStatus")
        }
        "Time" => {
            let t = DeviceClock::from_root(&root).map_err(fail)?;
            if t.local_time.as_ref().and_then(|l| l.instant()).is_none()
                || t.zone_offset().is_none()
            {
                return Err(format!("clock incomplete: {t:?}"));
            }
            Class::Typed("DeviceClock")
        }
        "InputProxyChannelList" => {
            let l = InputProxyChannelList::from_root(&root).map_err(fail)?;
            // A recorder without IP cameras answers an empty list (iDS-7204HUHI-M1).
            if l.channels
                .iter()
                .any(|c| c.id.is_none() || c.source.ip_address.is_none())
            {
                return Err(format!("channels incomplete: {l:?}"));
            }
            Class::Typed("InputProxyChannelList")
        }
        "HttpHostNotificationList" => {
            let l = HttpHostNotificationList::from_root(&root).map_err(fail)?;
            if l.hosts.is_empty() || l.hosts.iter().any(|h| h.id.is_none() || h.url.is_none()) {
                return Err(format!("hosts incomplete: {l:?}"));
            }
            Class::Typed("HttpHostNotificationList")
        }
        "IOPortStatus" => {
            let s = IoPortStatus::from_root(&root).map_err(fail)?;
            if s.active.is_none() || s.id.is_none() {
                return Err(format!("io status incomplete: {s:?}"));
            }
            Class::Typed("IoPortStatus")
        }
        other => {
            if root.count() < 2 && root.attributes().is_empty() && root.text().is_empty() {
                return Err(format!("<{other}> parsed to nothing"));
            }
            Class::Generic(other.to_owned())
        }
    };
    Ok(class)
}

/// Splits a transcribed HTTP message into start line, headers and body.
fn split_http(bytes: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let start = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    (start, headers, body.as_bytes().to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn count_events(items: &[StreamItem]) -> Result<usize, String> {
    let bad: Vec<_> = items
        .iter()
        .filter(|i| matches!(i, StreamItem::Malformed { .. }))
        .collect();
    if !bad.is_empty() {
        return Err(format!("malformed parts: {bad:?}"));
    }
    Ok(items
        .iter()
        .filter(|i| matches!(i, StreamItem::Event(_)))
        .count())
}

fn check_txt(bytes: &[u8]) -> Result<Class, String> {
    let text = String::from_utf8_lossy(bytes);
    if text.starts_with("HTTP/") {
        let (start, headers, body) = split_http(bytes);
        let code: u16 = start
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or("no status")?;
        if code == 401 {
            let challenge = header(&headers, "WWW-Authenticate").ok_or("401 without challenge")?;
            let cs = digest::parse_challenges(challenge);
            let c = digest::choose(&cs).ok_or("no usable challenge")?;
            if c.scheme != Scheme::Digest || c.realm().is_none() || !c.offers_qop_auth() {
                return Err(format!("bad challenge {c:?}"));
            }
            match parse_unauthorized_body(&body) {
                UnauthorizedBody::Status(l) if l.status_value == Some(401) => {}
                other => return Err(format!("401 body not understood: {other:?}")),
            }
        }
        return Ok(Class::Typed("HTTP 401 exchange (challenge + userCheck)"));
    }
    if text.starts_with("POST ") || text.starts_with("PUT ") {
        let (_, headers, body) = split_http(bytes);
        let items = decode_all(header(&headers, "Content-Type"), &body);
        return match count_events(&items)? {
            0 => Err("push carried no event".into()),
            _ => Ok(Class::Typed("httpHosts push (multipart)")),
        };
    }
    if text.trim_start().starts_with("--") {
        let items = decode_all(None, bytes);
        return match count_events(&items)? {
            0 => Err("stream carried no event".into()),
            _ => Ok(Class::Typed("alertStream")),
        };
    }
    Err("unrecognised .txt".into())
}

fn check_json(rel: &str, bytes: &[u8]) -> Result<Class, String> {
    if rel.contains("hdStatus") {
        let l = HdStatusList::from_json(bytes).map_err(|e| e.to_string())?;
        if l.disks.is_empty() || l.disks.iter().any(|d| d.status.is_none()) {
            return Err(format!("hdStatus incomplete: {l:?}"));
        }
        return Ok(Class::Typed("HdStatusList"));
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if rel.contains("AccessControlEvents/") {
        let rows = v.as_array().ok_or("code table is not an array")?;
        for row in rows {
            let value = row
                .get("Value")
                .and_then(|x| x.as_str())
                .ok_or("row without Value")?;
            // Single codes (`0x4b`, `0X421`) or ranges (`0x900 to 0x93f`, `0x900-0x93f`).
            for code in value.split(" to ").flat_map(|c| c.split('-')) {
                let hex = code
                    .trim()
                    .trim_start_matches("0x")
                    .trim_start_matches("0X");
                u32::from_str_radix(hex, 16).map_err(|e| format!("{value}: {e}"))?;
            }
            row.get("ShortDescription")
                .and_then(|x| x.as_str())
                .ok_or("row without ShortDescription")?;
        }
        return Ok(Class::NotIsapi(
            "access-control event code table (reference data)",
        ));
    }
    match EventAlert::from_json_value(&v) {
        Ok(_) => Ok(Class::Typed("EventAlert (JSON)")),
        Err(e) => Err(format!("unclassified JSON: {e}")),
    }
}

fn check_tsv(path: &Path, bytes: &[u8]) -> Result<Class, String> {
    let dir = path.parent().ok_or("no parent")?;
    let text = String::from_utf8_lossy(bytes);
    let mut referenced = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (endpoint, result) = line
            .split_once('\t')
            .ok_or_else(|| format!("bad line {line:?}"))?;
        if let Some(file) = result.strip_prefix("200 -> ") {
            if !dir.join(file.trim()).is_file() {
                return Err(format!("{endpoint}: missing {file}"));
            }
            referenced.push(file.trim().to_owned());
        } else {
            let v: serde_json::Value =
                serde_json::from_str(result).map_err(|e| format!("{line:?}: {e}"))?;
            let code = v
                .get("status_code")
                .and_then(serde_json::Value::as_u64)
                .ok_or("no status_code")?;
            let resp = Response {
                status: http::StatusCode::from_u16(u16::try_from(code).map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?,
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::new(),
            };
            let mapped = check(&format!("/ISAPI/{endpoint}"), resp);
            let ok = match code {
                403 | 404 => matches!(mapped, Err(Error::NotSupported { .. })),
                _ => matches!(mapped, Err(Error::HttpStatus { .. })),
            };
            if !ok {
                return Err(format!("{endpoint}: HTTP {code} mapped to {mapped:?}"));
            }
        }
    }
    // Every XML beside the index is listed in it.
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let name = entry
            .map_err(|e| e.to_string())?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".xml") && !referenced.contains(&name) {
            return Err(format!("{name} not listed in INDEX.tsv"));
        }
    }
    Ok(Class::NotIsapi("endpoint index (statuses cross-checked)"))
}

fn check_md(name: &str, bytes: &[u8]) -> Result<Class, String> {
    if !name.ends_with("_auth_exchange.md") {
        return Ok(Class::NotIsapi("notes"));
    }
    let text = String::from_utf8_lossy(bytes);
    let challenges: Vec<_> = text
        .lines()
        .filter_map(|l| {
            l.split_once("WWW-Authenticate: ")
                .map(|(_, v)| v.trim_end_matches('`'))
        })
        .flat_map(digest::parse_challenges)
        .collect();
    let auths: Vec<_> = text
        .lines()
        .filter_map(|l| {
            l.split_once("Authorization: Digest")
                .map(|(_, v)| format!("Digest{}", v.split('`').next().unwrap_or("")))
        })
        .filter_map(|h| digest::parse_authorization(&h))
        .collect();
    if challenges.is_empty() || auths.is_empty() {
        return Err("no digest exchange found".into());
    }
    if !challenges
        .iter()
        .all(|c| c.scheme == Scheme::Digest && c.nonce().is_some())
    {
        return Err(format!("challenge not understood: {challenges:?}"));
    }
    Ok(Class::Typed("digest exchange"))
}

#[test]
fn every_sample_file_parses() {
    let root = samples_dir();
    let mut files = Vec::new();
    walk(&root, &mut files);
    assert!(
        files.len() > 300,
        "expected the full sample set, found {} files",
        files.len()
    );
    let mut failures = Vec::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_isapi = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {rel}: {e}"));
        let ext = name.rsplit('.').next().unwrap_or("");
        let result = match ext {
            "xml" => check_xml(&rel, &bytes),
            "json" => check_json(&rel, &bytes),
            "txt" => check_txt(&bytes),
            "tsv" => check_tsv(path, &bytes),
            "html" => match parse_unauthorized_body(&bytes) {
                UnauthorizedBody::Html { title: Some(t) } if t.contains("Unauthorized") => {
                    Ok(Class::Typed("401 HTML page"))
                }
                other => Err(format!("html not understood: {other:?}")),
            },
            "md" => check_md(&name, &bytes),
            _ => Err(format!("unknown file kind .{ext}")),
        };
        match result {
            Ok(Class::Typed(model)) => {
                println!("ok      {rel}  [{model}]");
                *tally.entry(format!("typed {model}")).or_default() += 1;
            }
            Ok(Class::Generic(root)) => {
                println!("ok      {rel}  [tree <{root}>]");
                *tally.entry("generic tree".into()).or_default() += 1;
            }
            Ok(Class::NotIsapi(why)) => {
                println!("skip    {rel}  [not an ISAPI document: {why}]");
                not_isapi.push(rel.clone());
                *tally.entry(format!("not ISAPI: {why}")).or_default() += 1;
            }
            Err(e) => {
                println!("FAILED  {rel}: {e}");
                failures.push(format!("{rel}: {e}"));
            }
        }
    }
    println!("\n{} files", files.len());
    for (k, v) in &tally {
        println!("{v:5}  {k}");
    }
    assert!(
        failures.is_empty(),
        "{} sample(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Only notes, indexes and reference tables may be set aside.
    for rel in &not_isapi {
        assert!(
            rel.ends_with(".md")
                || rel.ends_with("INDEX.tsv")
                || rel.contains("AccessControlEvents/"),
            "{rel} was set aside"
        );
    }
}

#[test]
fn device_info_samples() {
    let ipc =
        DeviceInfo::from_xml(&read("hikvision_next/raw/System.deviceInfo/ipc.xml")).expect("ipc");
    assert_eq!(ipc.model.as_deref(), Some("DS-2CD2386G2-IU"));
    assert_eq!(
        ipc.serial_number.as_deref(),
        Some("DS-2CD2386G2-IU00000000AAWRJ00000000")
    );
    assert_eq!(ipc.firmware_version.as_deref(), Some("V5.7.14"));
    assert_eq!(ipc.mac_address.as_deref(), Some("14:92:3c:4f:f8:42"));
    assert_eq!(ipc.device_type, Some(DeviceType::IpCamera));
    let nvr =
        DeviceInfo::from_xml(&read("hikvision_next/raw/System.deviceInfo/nvr.xml")).expect("nvr");
    assert_eq!(nvr.model.as_deref(), Some("DS-7608NXI-I2/8P/S"));
    assert_eq!(nvr.firmware_version.as_deref(), Some("V4.62.210"));
    assert_eq!(nvr.device_type, Some(DeviceType::Nvr));
    // CRLF line ends, ver20 namespace, fw 5.5.0.
    let old = DeviceInfo::from_xml(&read(
        "hikvision-client-MissiaL/DS-2CD2155FWD-I_fw5.5.0_System.deviceInfo.xml",
    ))
    .expect("old cam");
    assert_eq!(old.firmware_version.as_deref(), Some("V5.5.0"));
    assert_eq!(old.firmware_version_info.as_deref(), Some("B-R-G1-0"));
}

#[test]
fn storage_samples() {
    let s = Storage::from_xml(&read(
        "hikvision_next/raw/ContentMgmt.Storage/hdd1_nas1.xml",
    ))
    .expect("hdd+nas");
    assert_eq!(s.hdds.len(), 1);
    assert_eq!(s.hdds[0].capacity_mib, Some(30436));
    assert_eq!(s.hdds[0].free_space_mib, Some(27392));
    assert_eq!(s.hdds[0].status, Some(StorageStatus::Ok));
    assert_eq!(s.hdds[0].encryption_status.as_deref(), Some("unencrypted"));
    assert_eq!(s.nas.len(), 1);
    assert_eq!(s.nas[0].id, Some(9));
    assert_eq!(s.nas[0].capacity_mib, Some(122_346));
    assert_eq!(s.nas[0].free_space_mib, Some(119_552));
    assert_eq!(s.nas[0].mount_type.as_deref(), Some("SMB/CIFS"));

    let full =
        Storage::from_xml(&read("hikvision_next/raw/ContentMgmt.Storage/hdd1.xml")).expect("hdd1");
    assert_eq!(full.hdds[0].free_space_mib, Some(0));
    assert_eq!(full.work_mode.as_deref(), Some("quota"));
    assert_eq!(full.work_mode_options, vec!["group", "quota"]);

    let ptz = Storage::from_xml(&read(
        "hikvision_next/devices/DS-2SE4C425MWG-E-26/ContentMgmt.Storage.xml",
    ))
    .expect("ptz");
    assert!(ptz.hdds[0].is_sd_card());
    assert_eq!(ptz.hdds[0].capacity_mib, Some(237_708));
    assert_eq!(ptz.hdds[0].free_space_mib, Some(213_093));
    assert_eq!(ptz.nas[0].status, Some(StorageStatus::Unformatted));

    let none = Storage::from_xml(&read(
        "hikvision_next/devices/DS-2CD2146G2-ISU/ContentMgmt.Storage.xml",
    ))
    .expect("no card");
    assert!(none.hdds.is_empty());
    assert_eq!(none.nas[0].status, Some(StorageStatus::Offline));

    let hd = HdStatusList::from_json(&read(
        "from-github-issues/centreon-3211_DS-7608NI-K2_System.workingstatus.hdStatus.json",
    ))
    .expect("hdStatus");
    assert_eq!(hd.disks.len(), 1);
    assert_eq!(hd.disks[0].hd_no, Some(2));
    assert_eq!(hd.disks[0].status, Some(StorageStatus::Ok));
    assert_eq!(hd.disks[0].volume_mib, Some(5_723_166));
    assert_eq!(hd.disks[0].free_space_mib, Some(5_658_624));
}

#[test]
fn status_and_time_samples() {
    let nvr = DeviceStatus::from_xml(&read(
        "from-github-issues/centreon-3211_DS-7608NI-K2_System.status.xml",
    ))
    .expect("nvr");
    assert_eq!(nvr.uptime_secs, Some(2530));
    assert_eq!(nvr.memory[0].usage, Some(244.175_781));
    assert_eq!(nvr.memory[0].available, Some(255.894_531));
    let cam = DeviceStatus::from_xml(&read(
        "hikvision-client-MissiaL/DS-2CD2155FWD-I_fw5.5.0_System.status.xml",
    ))
    .expect("cam");
    assert_eq!(cam.cpus[0].utilization_percent, Some(100.0));
    assert_eq!(cam.total_reboot_count, Some(0));
    let t = cam.current_device_time.expect("time");
    assert!(!t.is_plausible(), "1970 clock must be flagged");

    let clock = DeviceClock::from_xml(&read(
        "from-github-issues/centreon-3211_DS-7608NI-K2_System.time.capabilities.xml",
    ))
    .expect("clock");
    assert_eq!(clock.time_mode.as_deref(), Some("NTP"));
    assert_eq!(clock.time_mode_options, vec!["NTP", "manual", "platform"]);
    assert_eq!(clock.zone_offset(), Some(offset!(+3)));
    assert_eq!(clock.local_time.and_then(|l| l.offset), Some(offset!(+3)));
}

#[test]
fn response_status_samples_map_to_errors() {
    let not_support = read(
        "hikvision_isapi-JoeyGE0/DS-2CD2387G3-LIS2UY_System.onlineUpgrade.version_notSupport.xml",
    );
    let resp = Response {
        status: http::StatusCode::FORBIDDEN,
        headers: http::HeaderMap::new(),
        body: not_support.clone().into(),
    };
    match check("/ISAPI/System/onlineUpgrade/version", resp) {
        Err(Error::NotSupported {
            http_status: 403,
            status: Some(s),
            ..
        }) => {
            assert_eq!(
                s.description.as_deref(),
                Some("SW_ONLINE_UPGRADE_SUP not support.")
            );
        }
        other => panic!("expected NotSupported, got {other:?}"),
    }
    // A 200 carrying ResponseStatus in place of data is not a DeviceInfo.
    assert!(
        matches!(DeviceInfo::from_xml(&not_support), Err(ParseError::Status(s)) if s.is_not_supported())
    );
    let bad = ResponseStatus::from_xml(&read(
        "hikvision_next/raw/Streaming.channels.x0y.picture/badXmlContent.xml",
    ))
    .expect("bad");
    assert_eq!(bad.status_code, Some(6));
    assert_eq!(
        bad.request_url.as_deref(),
        Some("/ISAPI/Streaming/channels/101/picture")
    );
    let resp = Response {
        status: http::StatusCode::INTERNAL_SERVER_ERROR,
        headers: http::HeaderMap::new(),
        body: read("hikvision_next/raw/Streaming.channels.x0y.picture/deviceError.xml").into(),
    };
    assert!(matches!(
        check("/p", resp),
        Err(Error::Device {
            http_status: 500,
            ..
        })
    ));
}

#[test]
fn unauthorized_samples() {
    let (_, headers, body) = split_http(&read(
        "from-github-issues/hikvision_next-50_ERI-K104-P4_401_response.txt",
    ));
    let challenge =
        digest::parse_challenges(header(&headers, "WWW-Authenticate").expect("challenge"));
    let c = digest::choose(&challenge).expect("usable");
    assert_eq!(c.param("algorithm"), Some("MD5"));
    assert_eq!(c.param("opaque"), Some(""));
    assert!(!c.stale());
    let lock = parse_unauthorized_body(&body)
        .lock()
        .cloned()
        .expect("userCheck");
    assert_eq!(lock.status_value, Some(401));
    assert_eq!(lock.status_string.as_deref(), Some("Unauthorized"));
    assert!(!lock.is_locked());
    assert_eq!(lock.retries_left, None);
    let html = parse_unauthorized_body(&read(
        "hikvision-client-MissiaL/DS-2CD2155FWD-I_fw5.5.0_401_unauthorized_body.html",
    ));
    assert_eq!(
        html,
        UnauthorizedBody::Html {
            title: Some("Document Error: Unauthorized".into())
        }
    );
}

#[test]
fn recorded_digest_exchange_is_reproduced() {
    // Step 1's challenge (no algorithm, no opaque) and step 3's request, transcribed.
    let text = String::from_utf8(read(
        "hikvision-client-MissiaL/DS-2CD2155FWD-I_auth_exchange.md",
    ))
    .expect("utf8");
    let recorded = text
        .lines()
        .find_map(|l| {
            l.split_once("Authorization: Digest")
                .map(|(_, v)| format!("Digest{}", v.split('`').next().unwrap_or("")))
        })
        .and_then(|h| digest::parse_authorization(&h))
        .expect("recorded Authorization");
    let nonce = recorded.param("nonce").expect("nonce");
    let challenge = digest::parse_challenges(&format!(
        r#"Digest qop="auth", realm="IP Camera(83813)", nonce="{nonce}", stale="FALSE""#
    ))
    .pop()
    .expect("challenge");
    let mut session = DigestSession::new(challenge).expect("usable");
    let ours = session.authorize_with_cnonce(
        "admin",
        "secret",
        "GET",
        "/ISAPI/System/status",
        "42669a73b46eb115",
    );
    let ours = digest::parse_authorization(&ours).expect("ours");
    for key in ["username", "realm", "nonce", "uri", "qop", "nc", "cnonce"] {
        assert_eq!(ours.param(key), recorded.param(key), "parameter {key}");
    }
    // The camera's challenge had neither, so neither is echoed.
    assert_eq!(ours.param("algorithm"), None);
    assert_eq!(ours.param("opaque"), None);
    // Step 4: the same nonce again with nc=2 on the lower-case path.
    let second =
        session.authorize_with_cnonce("admin", "secret", "GET", "/ISAPI/System/deviceinfo", "x");
    assert!(second.contains("nc=00000002"));
}

fn event_files() -> Vec<(String, Vec<u8>)> {
    let dir = samples_dir().join("hikvision_next/raw/EventNotificationAlert");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("event dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect()
}

/// Builds a realistic multipart alert stream from the real event samples.
pub fn sample_stream(boundary: &str) -> (Vec<u8>, Vec<(String, Option<u32>)>) {
    let heartbeat = "<EventNotificationAlert version=\"1.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\"><ipAddress>10.0.0.2</ipAddress><channelID>1</channelID><dateTime>2024-01-22T11:47:1500:00</dateTime><activePostCount>0</activePostCount><eventType>videoloss</eventType><eventState>inactive</eventState><eventDescription>videoloss alarm</eventDescription></EventNotificationAlert>";
    let mut out = Vec::new();
    let mut expected = Vec::new();
    for (i, (_, body)) in event_files().into_iter().enumerate() {
        let e = EventAlert::from_xml(&body).expect("sample event");
        expected.push((e.event_type.clone(), e.channel()));
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\nContent-Length: {}\r\n\r\n", body.len())
                .as_bytes(),
        );
        out.extend_from_slice(&body);
        out.extend_from_slice(b"\r\n");
        if i % 3 == 0 {
            out.extend_from_slice(
                format!("--{boundary}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{heartbeat}\r\n", heartbeat.len())
                    .as_bytes(),
            );
        }
    }
    (out, expected)
}

#[test]
fn alert_stream_from_real_events() {
    let (bytes, expected) = sample_stream("boundary");
    assert_eq!(expected.len(), 12);
    let items = decode_all(Some("multipart/mixed; boundary=boundary"), &bytes);
    let events: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Event(e) => Some((e.event_type.clone(), e.channel())),
            _ => None,
        })
        .collect();
    let beats = items
        .iter()
        .filter(|i| matches!(i, StreamItem::Heartbeat(_)))
        .count();
    assert_eq!(events, expected);
    assert_eq!(beats, 4);
    assert_eq!(items.len(), 16, "no malformed parts: {items:?}");
    // The NVR push for IP camera 2 reports channel 34.
    assert!(expected.contains(&("fielddetection".into(), Some(2))));
    // IO events from three cameras, VMD on dynamic channel 2.
    assert_eq!(expected.iter().filter(|(t, _)| t == "IO").count(), 3);
    assert!(expected.contains(&("VMD".into(), Some(2))));
}

#[test]
fn event_samples_details() {
    let nvr = EventAlert::from_xml(&read(
        "hikvision_next/raw/EventNotificationAlert/nvr_2_fielddetection.xml",
    ))
    .expect("nvr");
    assert_eq!(nvr.channel_id, Some(34));
    assert_eq!(nvr.channel(), Some(2));
    assert_eq!(nvr.active_post_count, Some(174));
    assert_eq!(
        nvr.serial_number.as_deref(),
        Some("DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU")
    );
    let human = EventAlert::from_xml(&read(
        "hikvision_next/raw/EventNotificationAlert/fielddetection_human.xml",
    ))
    .expect("human");
    assert_eq!(human.targets.len(), 1);
    assert_eq!(human.targets[0].target.as_deref(), Some("human"));
    assert_eq!(human.targets[0].rect.map(|r| r.0), Some(0.6));
    let anpr = EventAlert::from_xml(&read(
        "hikvision_next/raw/EventNotificationAlert/ipc1_anpr_plate_detected.xml",
    ))
    .expect("anpr");
    assert_eq!(
        anpr.anpr.and_then(|a| a.license_plate).as_deref(),
        Some("KH35192")
    );
    let io = EventAlert::from_xml(&read(
        "hikvision_next/raw/EventNotificationAlert/cam1_DS-2CD2T46G2-ISU_io_notification.xml",
    ))
    .expect("io");
    assert_eq!(io.io_port, Some(1));

    let items = decode_all(
        None,
        &read("from-github-issues/pyhik-62_wifi-cam_alertStream_duration_part.txt"),
    );
    let [StreamItem::Event(e)] = items.as_slice() else {
        panic!("one event expected, got {items:?}");
    };
    assert_eq!(e.event_type, "duration");
    assert_eq!(e.effective_type(), "fielddetection");
    assert_eq!(e.channel(), Some(1));
    assert_eq!(
        e.date_time.as_ref().and_then(|t| t.offset),
        Some(offset!(+2))
    );

    let (_, headers, body) = split_http(&read(
        "from-other-repos/hikvision-bubble-webhook_DS-K1T342MFWX_httpHosts_push_multipart.txt",
    ));
    let items = decode_all(header(&headers, "Content-Type"), &body);
    let [StreamItem::Event(e)] = items.as_slice() else {
        panic!("one event expected, got {items:?}");
    };
    let acs = e.access.as_ref().expect("access payload");
    assert_eq!(
        (acs.major, acs.minor, acs.serial_no),
        (Some(2), Some(1024), Some(52))
    );
    assert_eq!(acs.device_name.as_deref(), Some("subdoorOne"));
    assert_eq!(
        e.date_time.as_ref().and_then(|t| t.offset),
        Some(offset!(-3))
    );
}

#[test]
fn input_proxy_and_io_samples() {
    let l = InputProxyChannelList::from_xml(&read(
        "hikvision_next/devices/DS-7608NXI-I2/ContentMgmt.InputProxy.channels.xml",
    ))
    .expect("channels");
    assert_eq!(l.channels.len(), 4);
    assert_eq!(l.channels[0].name.as_deref(), Some("garden"));
    assert_eq!(
        l.channels[0].source.model.as_deref(),
        Some("DS-2CD2386G2-IU")
    );
    assert_eq!(l.channels[0].source.manage_port, Some(8000));
    let io = IoPortStatus::from_xml(&read(
        "hikvision_next/devices/DS-7608NXI-I2/System.IO.inputs.1.status.xml",
    ))
    .expect("io");
    assert_eq!(io.active, Some(false));
}
