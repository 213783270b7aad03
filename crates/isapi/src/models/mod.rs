//! Typed models of device documents, built from the tolerant XML tree or JSON.
//!
//! Every XML model implements [`XmlModel`]: it names the root element(s) it
//! accepts and maps the tree with lenient accessors. Unknown elements are
//! ignored; missing ones become `None` or empty lists.

mod access;
mod axpro;
mod clock;
mod device_info;
mod event;
mod http_hosts;
mod input_proxy;
mod io;
mod network;
mod recording;
mod response_status;
mod smart;
mod storage;
mod system_status;

pub use access::{AcsWorkStatus, CallState, CallStatus};
pub use axpro::{
    CommunicationStatus, LOW_BATTERY_PERCENT, PanelBattery, PanelLink, PanelStatus, SubSystemStatus,
};
pub use clock::DeviceClock;
pub use device_info::{DeviceInfo, DeviceType};
pub use event::{
    AccessControllerEvent, AnprInfo, CidEvent, DetectionTarget, EventAlert, EventState,
    NVR_IP_CHANNEL_OFFSET,
};
pub use http_hosts::{HttpHostNotification, HttpHostNotificationList};
pub use input_proxy::{
    InputProxyChannel, InputProxyChannelList, InputProxyChannelStatus, InputProxyChannelStatusList,
    SourceInputPort,
};
pub use io::IoPortStatus;
pub use network::{IpAddressConfig, Link, NetworkInterface, NetworkInterfaceList};
pub use recording::{RecordingTrack, RecordingTrackList, StorageExtension};
pub use response_status::ResponseStatus;
pub use smart::{SmartAttribute, SmartStatus};
pub use storage::{HdStatus, HdStatusList, Hdd, Nas, Storage, StorageStatus};
pub use system_status::{CpuStatus, DeviceStatus, MemoryStatus};

use crate::error::ParseError;
use crate::xml::Element;

/// A model read from an XML document.
pub trait XmlModel: Sized {
    /// Root local names accepted (case-insensitive).
    const ROOTS: &'static [&'static str];

    /// Maps a root element already checked against [`XmlModel::ROOTS`].
    fn from_element(root: &Element) -> Result<Self, ParseError>;

    /// Parses bytes; a `ResponseStatus` root becomes [`ParseError::Status`].
    fn from_xml(bytes: &[u8]) -> Result<Self, ParseError> {
        let root = Element::parse(bytes)?;
        Self::from_root(&root)
    }

    /// Checks the root name, then maps it.
    fn from_root(root: &Element) -> Result<Self, ParseError> {
        if Self::ROOTS.iter().any(|r| root.is(r)) {
            return Self::from_element(root);
        }
        if root.is("ResponseStatus") {
            return Err(ParseError::Status(Box::new(ResponseStatus::from_element(
                root,
            ))));
        }
        Err(ParseError::UnexpectedRoot {
            expected: Self::ROOTS.first().copied().unwrap_or("?"),
            found: root.name().to_owned(),
        })
    }
}

/// Checks a JSON document for a `ResponseStatus`-shaped error instead of data.
pub(crate) fn json_status_error(v: &serde_json::Value) -> Option<ParseError> {
    let v = crate::json::get(v, "ResponseStatus").unwrap_or(v);
    let code = crate::json::u32(v, "statusCode")?;
    if code == 1 {
        return None;
    }
    let bytes = serde_json::to_vec(v).ok()?;
    ResponseStatus::from_json(&bytes)
        .ok()
        .map(|s| ParseError::Status(Box::new(s)))
}
