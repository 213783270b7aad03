//! `GET /ISAPI/System/Network/interfaces`: addresses and link state per interface.

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::xml::Element;

/// `IPAddress` block of an interface.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IpAddressConfig {
    /// `ipVersion` (`v4`, `dual`).
    pub ip_version: Option<String>,
    /// `addressingType` (`static`, `dynamic`).
    pub addressing_type: Option<String>,
    /// IPv4 address.
    pub ip_address: Option<String>,
    /// Subnet mask.
    pub subnet_mask: Option<String>,
    /// IPv6 address.
    pub ipv6_address: Option<String>,
    /// `DefaultGateway/ipAddress`.
    pub default_gateway: Option<String>,
    /// `PrimaryDNS/ipAddress`.
    pub primary_dns: Option<String>,
    /// `SecondaryDNS/ipAddress`.
    pub secondary_dns: Option<String>,
}

impl IpAddressConfig {
    fn from_element(e: &Element) -> Self {
        let nested = |name: &str| {
            e.path(&[name, "ipAddress"])
                .and_then(Element::non_empty_text)
                .map(str::to_owned)
        };
        Self {
            ip_version: e.string_of("ipVersion"),
            addressing_type: e.string_of("addressingType"),
            ip_address: e.string_of("ipAddress"),
            subnet_mask: e.string_of("subnetMask"),
            ipv6_address: e.string_of("ipv6Address"),
            default_gateway: nested("DefaultGateway"),
            primary_dns: nested("PrimaryDNS"),
            secondary_dns: nested("SecondaryDNS"),
        }
    }
}

/// `Link` block: physical link parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Link {
    /// `MACAddress`.
    pub mac_address: Option<String>,
    /// `autoNegotiation`.
    pub auto_negotiation: Option<bool>,
    /// Speed in Mbit/s (0 or absent when down on some firmware).
    pub speed_mbps: Option<u32>,
    /// `duplex` (`full`, `half`).
    pub duplex: Option<String>,
    /// `MTU`.
    pub mtu: Option<u32>,
    /// Explicit link state, when the firmware reports one (`linkStatus`/`status`).
    pub status: Option<String>,
}

impl Link {
    fn from_element(e: &Element) -> Self {
        Self {
            mac_address: e
                .string_of("MACAddress")
                .or_else(|| e.string_of("macAddress")),
            auto_negotiation: e.bool_of("autoNegotiation"),
            speed_mbps: e.u32_of("speed"),
            duplex: e.string_of("duplex"),
            mtu: e.u32_of("MTU"),
            status: e.string_of("linkStatus").or_else(|| e.string_of("status")),
        }
    }

    /// Best guess whether the link is up: an explicit status wins, else a
    /// non-zero speed counts as up; `None` when nothing tells.
    pub fn is_up(&self) -> Option<bool> {
        if let Some(s) = self.status.as_deref() {
            let s = s.to_ascii_lowercase();
            return Some(matches!(
                s.as_str(),
                "up" | "connected" | "connect" | "normal" | "true" | "online"
            ));
        }
        self.speed_mbps.map(|s| s > 0)
    }
}

/// One `NetworkInterface`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterface {
    /// Interface id (`1` wired, `2` Wi-Fi on many devices).
    pub id: Option<u32>,
    /// Addresses.
    pub ip: IpAddressConfig,
    /// Link parameters, when the `Link` block is present.
    pub link: Option<Link>,
    /// `defaultConnection`.
    pub default_connection: Option<bool>,
    /// True when a `Wireless` block is present.
    pub wireless: bool,
}

impl NetworkInterface {
    fn from_element(e: &Element) -> Self {
        Self {
            id: e.u32_of("id"),
            ip: e
                .child("IPAddress")
                .map(IpAddressConfig::from_element)
                .unwrap_or_default(),
            link: e.child("Link").map(Link::from_element),
            default_connection: e.bool_of("defaultConnection"),
            wireless: e.child("Wireless").is_some(),
        }
    }
}

/// `NetworkInterfaceList` (a single `NetworkInterface` root is accepted too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterfaceList {
    /// Interfaces in document order.
    pub interfaces: Vec<NetworkInterface>,
}

impl XmlModel for NetworkInterfaceList {
    const ROOTS: &'static [&'static str] = &["NetworkInterfaceList", "NetworkInterface"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let interfaces = if root.is("NetworkInterface") {
            vec![NetworkInterface::from_element(root)]
        } else {
            root.children_named("NetworkInterface")
                .map(NetworkInterface::from_element)
                .collect()
        };
        Ok(Self { interfaces })
    }
}

impl XmlModel for Link {
    const ROOTS: &'static [&'static str] = &["Link"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        Ok(Link::from_element(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_list() {
        let doc = br#"<NetworkInterfaceList xmlns="http://www.hikvision.com/ver20/XMLSchema">
<NetworkInterface><id>1</id><IPAddress><ipVersion>dual</ipVersion><addressingType>static</addressingType>
<ipAddress>192.168.1.64</ipAddress><subnetMask>255.255.255.0</subnetMask>
<DefaultGateway><ipAddress>192.168.1.1</ipAddress></DefaultGateway><PrimaryDNS><ipAddress>8.8.8.8</ipAddress></PrimaryDNS></IPAddress>
<Link><MACAddress>44:19:b6:00:00:01</MACAddress><autoNegotiation>true</autoNegotiation><speed>100</speed><duplex>full</duplex><MTU>1500</MTU></Link>
</NetworkInterface>
<NetworkInterface><id>2</id><IPAddress><ipAddress>0.0.0.0</ipAddress></IPAddress><Wireless><enabled>false</enabled></Wireless><Link><speed>0</speed></Link></NetworkInterface>
</NetworkInterfaceList>"#;
        let list = NetworkInterfaceList::from_xml(doc).expect("parses");
        assert_eq!(list.interfaces.len(), 2);
        let eth = &list.interfaces[0];
        assert_eq!(eth.ip.default_gateway.as_deref(), Some("192.168.1.1"));
        assert_eq!(eth.ip.primary_dns.as_deref(), Some("8.8.8.8"));
        assert_eq!(eth.link.as_ref().and_then(Link::is_up), Some(true));
        assert_eq!(eth.link.as_ref().and_then(|l| l.mtu), Some(1500));
        assert!(list.interfaces[1].wireless);
        assert_eq!(
            list.interfaces[1].link.as_ref().and_then(Link::is_up),
            Some(false)
        );
    }
}
