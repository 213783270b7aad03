//! AX Pro security control panel JSON (`/ISAPI/SecurityCP/...?format=json`, isapi.md §6):
//! areas and arming, zones, peripherals, batteries, communication links and host status.

use serde_json::{Value, json};

use crate::device::{Device, State};
use crate::faults::LinkType;

/// Zones of every simulated panel: (name, detectorType, zoneType).
pub const ZONES: [(&str, &str, &str); 8] = [
    ("Front door", "magneticContact", "Delay"),
    ("Hall PIR", "passiveInfraredDetector", "Instant"),
    ("Back door", "magneticContact", "Instant"),
    ("Kitchen window", "magneticContact", "Perimeter"),
    ("Living room PIR", "pircam", "Instant"),
    ("Garage door", "magneticContact", "Delay"),
    ("Office PIR", "passiveInfraredDetector", "Instant"),
    ("Bedroom window", "magneticContact", "Perimeter"),
];

/// Area (subsystem) a zone belongs to (1 or 2).
pub fn zone_area(zone: u32) -> u32 {
    if zone < 6 { 1 } else { 2 }
}

fn area_alarm(st: &State, area: u32) -> bool {
    st.alarm_zones.iter().any(|z| zone_area(*z) == area)
}

fn sub_systems(st: &State) -> Value {
    let list: Vec<Value> = (1..=2u32)
        .map(|id| {
            json!({"SubSys": {
                "id": id,
                "arming": st.arming[(id - 1) as usize].as_str(),
                "alarm": area_alarm(st, id),
                "enabled": true,
                "name": format!("Area {id}"),
                "delayTime": 30,
            }})
        })
        .collect();
    Value::Array(list)
}

/// `GET /ISAPI/SecurityCP/status/subSystems?format=json`.
pub fn sub_systems_doc(st: &State) -> String {
    json!({ "SubSysList": sub_systems(st) }).to_string()
}

/// `POST /ISAPI/SecurityCP/status/armStatus?format=json`.
pub fn arm_status(st: &State) -> String {
    let list: Vec<Value> = (1..=2u32)
        .map(|id| json!({"ArmStatus": {"id": id, "status": st.arming[(id - 1) as usize].as_str()}}))
        .collect();
    json!({ "ArmStatusList": list }).to_string()
}

/// `GET /ISAPI/SecurityCP/status/zones?format=json` (zone ids 0-based).
pub fn zones(dev: &Device, st: &State) -> String {
    let list: Vec<Value> = ZONES
        .iter()
        .enumerate()
        .map(|(i, (name, detector, zone_type))| {
            let id = i as u32;
            let alarm = st.alarm_zones.contains(&id);
            let area = zone_area(id);
            let armed = st.arming[(area - 1) as usize] != crate::device::Arming::Disarm;
            json!({"Zone": {
                "id": id,
                "name": name,
                "status": if alarm { "trigger" } else { "online" },
                "sensorStatus": if alarm { "alarm" } else { "normal" },
                "magnetOpenStatus": alarm && *detector == "magneticContact",
                "tamperEvident": false,
                "shielded": false,
                "bypassed": false,
                "armed": armed,
                "isArming": false,
                "alarm": alarm,
                "charge": "normal",
                "chargeValue": 100 - (id * 7 + dev.id.mac[5] as u32 % 10),
                "signal": 160 + id,
                "realSignal": 160 + id,
                "signalType": "R3",
                "temperature": 21,
                "subSystemNo": area,
                "linkageSubSystem": [area],
                "detectorType": detector,
                "model": "0x00006",
                "zoneType": zone_type,
                "zoneAttrib": "wireless",
                "accessModuleType": "localTransmitter",
                "moduleChannel": id,
                "deviceNo": id + 1,
                "isViaRepeater": false,
                "version": "V1.2.0",
                "abnormalOrNot": false,
            }})
        })
        .collect();
    json!({ "ZoneList": list }).to_string()
}

fn battery(st: &State) -> Value {
    let percent = st.faults.low_battery.map_or(100, u32::from);
    json!([{"Battery": {
        "id": 1,
        "status": "normal",
        "percent": percent,
        "voltage": if percent < 20 { 3 } else { 4 },
    }}])
}

/// `GET /ISAPI/SecurityCP/status/batteries?format=json`.
pub fn batteries(st: &State) -> String {
    json!({ "BatteryList": battery(st) }).to_string()
}

fn communi(st: &State) -> Value {
    let link = st.faults.link.unwrap_or(LinkType::Wired);
    let on = |t: LinkType| if link == t { "normal" } else { "break" };
    json!({
        "wired": on(LinkType::Wired),
        "wifi": on(LinkType::Wifi),
        "wifiSignal": if link == LinkType::Wifi { 4 } else { 0 },
        "wifiName": if link == LinkType::Wifi { "SITE-WLAN" } else { "" },
        "mobile": on(LinkType::Cellular),
        "mobileSignal": if link == LinkType::Cellular { 3 } else { 0 },
        "mobileNetworkType": if link == LinkType::Cellular { "4G" } else { "" },
        "connectedSIM": if link == LinkType::Cellular { 1 } else { 0 },
        "SIMOperatorName": if link == LinkType::Cellular { "Operator" } else { "" },
        "flow": 0.0,
        "monFlowLimit": 100,
        "cloud": "normal",
        "R3AverageNoise": -112,
        "RXAverageNoise": -110,
    })
}

/// `GET /ISAPI/SecurityCP/status/communication?format=json`.
pub fn communication(st: &State) -> String {
    json!({ "CommuniStatus": communi(st) }).to_string()
}

fn ex_dev(dev: &Device) -> Value {
    let seq = |p: &str| format!("{p}{}", &dev.id.serial[1..]);
    json!({
        "OutputModList": [],
        "OutputList": [],
        "SirenList": [{"Siren": {
            "id": 0, "seq": seq("Q"), "name": "Indoor siren", "status": "online",
            "tamperEvident": false, "charge": "normal", "chargeValue": 100, "signal": 150,
        }}],
        "RepeaterList": [],
        "CardReaderList": [],
        "KeypadList": [{"Keypad": {
            "id": 0, "seq": seq("K"), "name": "Keypad", "status": "online",
            "tamperEvident": false, "charge": "normal", "chargeValue": 100, "signal": 140,
        }}],
        "RemoteList": [],
        "TransmitterList": [],
    })
}

/// `GET /ISAPI/SecurityCP/status/exDevStatus?format=json`.
pub fn ex_dev_status(dev: &Device) -> String {
    json!({ "ExDevStatus": ex_dev(dev) }).to_string()
}

/// `POST|GET /ISAPI/SecurityCP/status/host?format=json`.
pub fn host_status(dev: &Device, st: &State) -> String {
    let faults = u32::from(st.faults.low_battery.is_some());
    json!({"AlarmHostStatus": {
        "SubSysList": sub_systems(st),
        "HostStatus": {
            "ACConnect": st.faults.low_battery.is_none(),
            "tamperEvident": false,
            "faultNum": faults,
            "EzvizNetwork": "normal",
        },
        "BatteryList": battery(st),
        "CommuniStatus": communi(st),
        "ExDevStatus": ex_dev(dev),
    }})
    .to_string()
}
