//! Fuzzes the XML tree, every typed model, the JSON models and the 401-body parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use siteward_isapi::models::*;
use siteward_isapi::{DeviceTime, Element, digest, parse_unauthorized_body};

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = Element::parse(data) {
        let _ = DeviceInfo::from_root(&root);
        let _ = Storage::from_root(&root);
        let _ = SmartStatus::from_root(&root);
        let _ = NetworkInterfaceList::from_root(&root);
        let _ = InputProxyChannelList::from_root(&root);
        let _ = InputProxyChannelStatusList::from_root(&root);
        let _ = StorageExtension::from_root(&root);
        let _ = RecordingTrackList::from_root(&root);
        let _ = DeviceStatus::from_root(&root);
        let _ = DeviceClock::from_root(&root);
        let _ = EventAlert::from_root(&root);
        let _ = HttpHostNotificationList::from_root(&root);
        let _ = IoPortStatus::from_root(&root);
        let _ = ResponseStatus::from_element(&root);
        let _ = root.to_xml();
    }
    let _ = EventAlert::parse(data);
    let _ = HdStatusList::from_json(data);
    let _ = PanelStatus::from_json(data);
    let _ = AcsWorkStatus::from_json(data);
    let _ = CallStatus::from_json(data);
    let _ = parse_unauthorized_body(data);
    let text = String::from_utf8_lossy(data);
    let _ = digest::parse_challenges(&text);
    let _ = DeviceTime::parse(&text);
});
