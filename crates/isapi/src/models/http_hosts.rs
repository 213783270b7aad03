//! `GET /ISAPI/Event/notification/httpHosts`: where the device pushes events.

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::xml::Element;

/// One push target slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpHostNotification {
    /// Slot id.
    pub id: Option<u32>,
    /// Path on the receiver.
    pub url: Option<String>,
    /// `protocolType` (`HTTP`, `HTTPS`).
    pub protocol: Option<String>,
    /// `parameterFormatType` (`XML`, `JSON`).
    pub format: Option<String>,
    /// `addressingFormatType` (`ipaddress`, `hostname`).
    pub addressing: Option<String>,
    /// Receiver IP.
    pub ip_address: Option<String>,
    /// Receiver host name.
    pub host_name: Option<String>,
    /// Receiver port.
    pub port: Option<u32>,
    /// `httpAuthenticationMethod`.
    pub authentication: Option<String>,
}

impl HttpHostNotification {
    /// True when the slot points nowhere (`0.0.0.0` and no host name).
    pub fn is_unset(&self) -> bool {
        self.host_name.is_none() && self.ip_address.as_deref().is_none_or(|ip| ip == "0.0.0.0")
    }
}

/// `HttpHostNotificationList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpHostNotificationList {
    /// Slots in document order.
    pub hosts: Vec<HttpHostNotification>,
}

impl XmlModel for HttpHostNotificationList {
    const ROOTS: &'static [&'static str] = &["HttpHostNotificationList", "HttpHostNotification"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let map = |h: &Element| HttpHostNotification {
            id: h.u32_of("id"),
            url: h.string_of("url"),
            protocol: h.string_of("protocolType"),
            format: h.string_of("parameterFormatType"),
            addressing: h.string_of("addressingFormatType"),
            ip_address: h.string_of("ipAddress"),
            host_name: h.string_of("hostName"),
            port: h.u32_of("portNo"),
            authentication: h.string_of("httpAuthenticationMethod"),
        };
        let hosts = if root.is("HttpHostNotification") {
            vec![map(root)]
        } else {
            root.children_named("HttpHostNotification")
                .map(map)
                .collect()
        };
        Ok(Self { hosts })
    }
}
