//! Finding devices on the LAN with Hikvision's SADP (isapi.md §8): a `Probe`
//! (`inquiry`) sent to the multicast group 239.255.255.250:37020, answered by
//! each device with a `ProbeMatch` naming its serial number, model, addresses and
//! ports. The bridge only lists what answers; it changes nothing on the devices.

use siteward_isapi::xml::Element;
use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

/// The SADP multicast group.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
/// The SADP port (devices answer to it, so the prober listens on it too).
pub const PORT: u16 = 37020;

/// One device that answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// `DeviceSN`.
    pub serial: Option<String>,
    /// `DeviceDescription` (the model).
    pub model: Option<String>,
    /// `IPv4Address`.
    pub ipv4: Option<String>,
    /// `HttpPort`.
    pub http_port: Option<u16>,
    /// `MAC` or `MACAddress`.
    pub mac: Option<String>,
    /// `SoftwareVersion`.
    pub firmware: Option<String>,
    /// `Activated` (an inactive device has no password yet).
    pub activated: Option<bool>,
    /// Where the answer came from.
    pub from: Option<SocketAddr>,
}

impl Found {
    /// A line for the terminal, with a `[[devices]]` address ready to copy.
    pub fn describe(&self) -> String {
        let dash = || "-".to_owned();
        let address = match (&self.ipv4, self.http_port) {
            (Some(ip), Some(port)) => format!("{ip}:{port}"),
            (Some(ip), None) => ip.clone(),
            _ => self.from.map_or_else(dash, |a| a.ip().to_string()),
        };
        let state = match self.activated {
            Some(false) => "  (not activated: set its password first)",
            _ => "",
        };
        format!(
            "{}  {}  address = \"{}\"  mac {}  firmware {}{}",
            self.serial.clone().unwrap_or_else(dash),
            self.model.clone().unwrap_or_else(dash),
            address,
            self.mac.clone().unwrap_or_else(dash),
            self.firmware.clone().unwrap_or_else(dash),
            state
        )
    }
}

/// The probe, with a random `Uuid` the answers echo.
pub fn probe(uuid: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Probe><Uuid>{uuid}</Uuid><Types>inquiry</Types></Probe>"
    )
}

/// Reads a `ProbeMatch`; anything else (our own probe echoed back, other
/// traffic on the port) is `None`.
pub fn parse_probe_match(bytes: &[u8]) -> Option<Found> {
    let root = Element::parse(bytes).ok()?;
    if !root.is("ProbeMatch") {
        return None;
    }
    Some(Found {
        serial: root.string_of("DeviceSN"),
        model: root.string_of("DeviceDescription"),
        ipv4: root.string_of("IPv4Address"),
        http_port: root.u32_of("HttpPort").and_then(|p| u16::try_from(p).ok()),
        mac: root
            .string_of("MAC")
            .or_else(|| root.string_of("MACAddress")),
        firmware: root.string_of("SoftwareVersion"),
        activated: root.bool_of("Activated"),
        from: None,
    })
}

/// Sends one probe and collects the answers for `wait`.
pub async fn discover(wait: Duration) -> std::io::Result<Vec<Found>> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT).into())?;
    socket.join_multicast_v4(&GROUP, &Ipv4Addr::UNSPECIFIED)?;
    socket.set_nonblocking(true)?;
    let socket = tokio::net::UdpSocket::from_std(socket.into())?;
    let uuid = format!("{:032X}", rand::random::<u128>());
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &uuid[..8],
        &uuid[8..12],
        &uuid[12..16],
        &uuid[16..20],
        &uuid[20..]
    );
    socket
        .send_to(probe(&uuid).as_bytes(), SocketAddrV4::new(GROUP, PORT))
        .await?;
    let deadline = tokio::time::Instant::now() + wait;
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(received) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await {
        let Ok((n, from)) = received else { continue };
        let Some(mut f) = parse_probe_match(&buf[..n]) else {
            continue;
        };
        f.from = Some(from);
        let key = f
            .serial
            .clone()
            .or_else(|| f.mac.clone())
            .unwrap_or_else(|| from.to_string());
        if seen.insert(key) {
            found.push(f);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_match_reads_and_our_own_probe_does_not() {
        // Fields as captured from a DS-7804HQH-K1 (isapi.md §8), shortened.
        let answer = br#"<?xml version="1.0" encoding="UTF-8"?>
<ProbeMatch>
<Uuid>9B1A2A4C-0000-0000-0000-000000000000</Uuid>
<Types>inquiry</Types>
<DeviceType>44322</DeviceType>
<DeviceDescription>DS-7804HQH-K1</DeviceDescription>
<DeviceSN>DS-7804HQH-K10420191215CCRRD12345678WCVU</DeviceSN>
<CommandPort>8000</CommandPort>
<HttpPort>80</HttpPort>
<MAC>68-6d-bc-ee-f8-f0</MAC>
<IPv4Address>192.168.1.64</IPv4Address>
<SoftwareVersion>V3.5.38build 191215</SoftwareVersion>
<Activated>true</Activated>
</ProbeMatch>"#;
        let f = parse_probe_match(answer).expect("a ProbeMatch");
        assert_eq!(f.model.as_deref(), Some("DS-7804HQH-K1"));
        assert_eq!(f.ipv4.as_deref(), Some("192.168.1.64"));
        assert_eq!((f.http_port, f.activated), (Some(80), Some(true)));
        assert!(f.describe().contains("address = \"192.168.1.64:80\""));
        assert!(parse_probe_match(probe("X").as_bytes()).is_none());
        assert!(parse_probe_match(b"\x00\x01 not xml").is_none());
        let older =
            b"<ProbeMatch><MACAddress>aa</MACAddress><Activated>false</Activated></ProbeMatch>";
        let f = parse_probe_match(older).expect("older firmware");
        assert_eq!(f.mac.as_deref(), Some("aa"));
        assert!(f.describe().contains("not activated"));
    }
}
