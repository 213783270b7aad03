//! NVR IP channels: `GET /ISAPI/ContentMgmt/InputProxy/channels` (configuration)
//! and `/channels/status` (online state; no real capture — documented shape).

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::xml::Element;

/// `sourceInputPortDescriptor`: the camera behind an NVR channel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SourceInputPort {
    /// `proxyProtocol` (`HIKVISION`, `ONVIF`, …).
    pub proxy_protocol: Option<String>,
    /// Camera IP address.
    pub ip_address: Option<String>,
    /// Camera host name, when addressed by name.
    pub host_name: Option<String>,
    /// `managePortNo` (8000).
    pub manage_port: Option<u32>,
    /// `srcInputPort`: the camera's own channel.
    pub src_input_port: Option<u32>,
    /// Camera model, as the NVR learnt it.
    pub model: Option<String>,
    /// Camera serial.
    pub serial_number: Option<String>,
    /// Camera firmware (`V5.7.15 build 240201`).
    pub firmware_version: Option<String>,
}

impl SourceInputPort {
    fn from_element(e: &Element) -> Self {
        Self {
            proxy_protocol: e.string_of("proxyProtocol"),
            ip_address: e.string_of("ipAddress"),
            host_name: e.string_of("hostName"),
            manage_port: e.u32_of("managePortNo"),
            src_input_port: e.u32_of("srcInputPort"),
            model: e.string_of("model"),
            serial_number: e.string_of("serialNumber"),
            firmware_version: e.string_of("firmwareVersion"),
        }
    }
}

/// One configured IP channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputProxyChannel {
    /// Channel id (1-based).
    pub id: Option<u32>,
    /// Channel name.
    pub name: Option<String>,
    /// The camera behind it.
    pub source: SourceInputPort,
}

/// `InputProxyChannelList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputProxyChannelList {
    /// Channels in document order.
    pub channels: Vec<InputProxyChannel>,
}

impl XmlModel for InputProxyChannelList {
    const ROOTS: &'static [&'static str] = &["InputProxyChannelList", "InputProxyChannel"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let map = |c: &Element| InputProxyChannel {
            id: c.u32_of("id"),
            name: c.string_of("name"),
            source: c
                .child("sourceInputPortDescriptor")
                .map(SourceInputPort::from_element)
                .unwrap_or_default(),
        };
        let channels = if root.is("InputProxyChannel") {
            vec![map(root)]
        } else {
            root.children_named("InputProxyChannel").map(map).collect()
        };
        Ok(Self { channels })
    }
}

/// Online state of one IP channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputProxyChannelStatus {
    /// Channel id.
    pub id: Option<u32>,
    /// The camera behind it.
    pub source: SourceInputPort,
    /// `online`.
    pub online: Option<bool>,
    /// `chanDetectResult` (`connect`, `netUnreachable`, `errorUserNameOrPasswd`, …).
    pub detect_result: Option<String>,
    /// Stream ids proxied for this channel.
    pub streaming_channel_ids: Vec<u32>,
}

impl InputProxyChannelStatus {
    /// Online flag, else inferred from `chanDetectResult == connect`.
    pub fn is_online(&self) -> Option<bool> {
        self.online.or_else(|| {
            self.detect_result
                .as_deref()
                .map(|r| r.eq_ignore_ascii_case("connect"))
        })
    }
}

/// `InputProxyChannelStatusList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputProxyChannelStatusList {
    /// Channels in document order.
    pub channels: Vec<InputProxyChannelStatus>,
}

impl XmlModel for InputProxyChannelStatusList {
    const ROOTS: &'static [&'static str] =
        &["InputProxyChannelStatusList", "InputProxyChannelStatus"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let map = |c: &Element| InputProxyChannelStatus {
            id: c.u32_of("id"),
            source: c
                .child("sourceInputPortDescriptor")
                .map(SourceInputPort::from_element)
                .unwrap_or_default(),
            online: c.bool_of("online"),
            detect_result: c.string_of("chanDetectResult"),
            streaming_channel_ids: c
                .descendants_named("streamingProxyChannelId")
                .into_iter()
                .filter_map(|e| crate::value::parse_u64(e.text()))
                .filter_map(|v| u32::try_from(v).ok())
                .collect(),
        };
        let channels = if root.is("InputProxyChannelStatus") {
            vec![map(root)]
        } else {
            root.children_named("InputProxyChannelStatus")
                .map(map)
                .collect()
        };
        Ok(Self { channels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_list() {
        let doc = br#"<InputProxyChannelStatusList xmlns="http://www.isapi.org/ver20/XMLSchema">
<InputProxyChannelStatus><id>1</id><sourceInputPortDescriptor><ipAddress>10.0.0.5</ipAddress></sourceInputPortDescriptor>
<online>true</online><streamingProxyChannelIdList><streamingProxyChannelId>101</streamingProxyChannelId><streamingProxyChannelId>102</streamingProxyChannelId></streamingProxyChannelIdList>
<chanDetectResult>connect</chanDetectResult></InputProxyChannelStatus>
<InputProxyChannelStatus><id>2</id><online>false</online><chanDetectResult>netUnreachable</chanDetectResult></InputProxyChannelStatus>
<InputProxyChannelStatus><id>3</id><chanDetectResult>connect</chanDetectResult></InputProxyChannelStatus>
</InputProxyChannelStatusList>"#;
        let list = InputProxyChannelStatusList::from_xml(doc).expect("parses");
        assert_eq!(list.channels.len(), 3);
        assert_eq!(list.channels[0].streaming_channel_ids, vec![101, 102]);
        assert_eq!(
            list.channels[0].source.ip_address.as_deref(),
            Some("10.0.0.5")
        );
        assert_eq!(list.channels[1].is_online(), Some(false));
        assert_eq!(
            list.channels[1].detect_result.as_deref(),
            Some("netUnreachable")
        );
        assert_eq!(list.channels[2].is_online(), Some(true));
    }
}
