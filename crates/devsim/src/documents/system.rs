//! `/ISAPI/System/*` and `/ISAPI/Security/adminAccesses`: identity, capabilities, health,
//! clock and network interfaces, each in the shape and namespace of the device's firmware.

use crate::catalog::Dialect;
use crate::device::{Device, State};
use crate::documents::{Xml, device_time, posix_zone};
use crate::faults::LinkType;
use crate::spec::{Brand, DeviceKind};

fn device_type(dev: &Device) -> &'static str {
    match dev.id.kind {
        DeviceKind::Ipc | DeviceKind::ThirdParty => "IPCamera",
        DeviceKind::Nvr => "NVR",
        DeviceKind::Dvr => "DVR",
        DeviceKind::ControlPanel => "AXPro",
        DeviceKind::AccessControl => "ACS",
        DeviceKind::VideoIntercom | DeviceKind::Doorbell => "VIS",
    }
}

fn manufacturer(dev: &Device) -> &'static str {
    match dev.id.brand {
        Brand::Ezviz => "ezviz",
        Brand::ThirdParty => "AXIS",
        Brand::Hikvision | Brand::HiLook => "hikvision",
    }
}

/// `GET /ISAPI/System/deviceInfo`.
pub fn device_info(dev: &Device) -> String {
    let id = &dev.id;
    let d = dev.dialect();
    let mut x = Xml::root(d, "DeviceInfo");
    x.leaf("deviceName", &id.device_name)
        .leaf("deviceID", &id.device_id);
    let camera_style = d == Dialect::Hik20;
    if camera_style {
        x.leaf("deviceDescription", "IPCamera")
            .leaf("deviceLocation", "hangzhou")
            .leaf("systemContact", "Hikvision.China");
    }
    x.leaf("model", id.model.name)
        .leaf("serialNumber", &id.serial_number)
        .leaf("macAddress", id.mac_string())
        .leaf("firmwareVersion", id.model.firmware)
        .leaf("firmwareReleasedDate", id.model.build);
    match id.kind {
        DeviceKind::ThirdParty => {
            x.leaf("deviceType", device_type(dev))
                .leaf("manufacturer", manufacturer(dev));
            return x.finish();
        }
        DeviceKind::ControlPanel | DeviceKind::AccessControl | DeviceKind::VideoIntercom
            if !camera_style =>
        {
            x.leaf("deviceType", device_type(dev))
                .leaf("subSerialNumber", &id.serial)
                .leaf("manufacturer", manufacturer(dev));
            return x.finish();
        }
        _ => {}
    }
    if camera_style {
        x.leaf("encoderVersion", "V7.3")
            .leaf("encoderReleasedDate", id.model.build)
            .leaf("bootVersion", "V1.3.4")
            .leaf("bootReleasedDate", "100316")
            .leaf("hardwareVersion", "0x0")
            .leaf("deviceType", device_type(dev))
            .leaf("telecontrolID", 88)
            .leaf("supportBeep", "false")
            .leaf("supportVideoLoss", "false")
            .leaf("firmwareVersionInfo", "B-R-G5-0")
            .leaf("manufacturer", manufacturer(dev))
            .leaf("subSerialNumber", &id.serial)
            .leaf("OEMCode", 1);
    } else {
        x.leaf("encoderVersion", "V5.0")
            .leaf("encoderReleasedDate", id.model.build)
            .leaf("deviceType", device_type(dev))
            .leaf("telecontrolID", 255);
        if d == Dialect::Isapi {
            x.leaf("hardwareVersion", "0100000092010000")
                .leaf("decordChannelNums", id.model.channels.min(16))
                .leaf("VGANums", 1)
                .leaf("USBNums", 2)
                .leaf("auxoutNums", 0)
                .leaf("regionVersion", "basic");
        } else {
            x.leaf("hardwareVersion", "0xc0fcc00")
                .leaf("manufacturer", manufacturer(dev));
        }
    }
    x.finish()
}

/// `GET /ISAPI/System/capabilities`.
pub fn capabilities(dev: &Device, st: &State) -> String {
    let id = &dev.id;
    let mut x = Xml::root(dev.dialect(), "DeviceCap");
    x.open("SysCap").leaf("isSupportDst", "true");
    x.open("NetworkCap")
        .leaf(
            "isSupportWireless",
            matches!(st.faults.link, Some(LinkType::Wifi)) || id.model.name.contains('W'),
        )
        .leaf("isSupportPPPoE", "false")
        .leaf("isSupportNtp", "true")
        .leaf("isSupportHttps", "true")
        .leaf("isSupportEZVIZ", "true")
        .leaf("isSupportEhome", "true")
        .close();
    x.open("IOCap")
        .leaf("IOInputPortNums", id.model.io_in)
        .leaf("IOOutputPortNums", id.model.io_out)
        .close();
    if id.kind.is_video() {
        x.open("VideoCap")
            .leaf(
                "videoInputPortNums",
                if id.kind == DeviceKind::Nvr {
                    0
                } else {
                    id.model.channels
                },
            )
            .leaf("videoOutputPortNums", u32::from(id.kind.is_recorder()))
            .close();
    }
    x.leaf("isSupportGettingWorkingStatus", id.kind.is_recorder())
        .leaf("isSupportSubscribeEvent", "true")
        .close();
    x.open("SecurityCap")
        .leaf("supportUserNums", 32)
        .leaf("keyIterateNum", 100)
        .leaf("isSupportUserCheck", "true")
        .leaf("issupIllegalLoginLock", "true");
    x.open("WebCertificateCap")
        .leaf_attrs("CertificateType", "opt=\"digest,digest/basic\"", "digest")
        .open("SecurityAlgorithm")
        .leaf_attrs("algorithmType", "opt=\"MD5,SHA256,MD5/SHA256\"", "MD5")
        .close()
        .close()
        .close();
    if id.kind.is_video() || !id.drives.is_empty() {
        x.open("EventCap")
            .leaf("isSupportHDFull", "true")
            .leaf("isSupportHDError", "true")
            .leaf("isSupportNicBroken", "true")
            .leaf("isSupportIpConflict", "true")
            .leaf("isSupportIllAccess", "true")
            .leaf("isSupportRecordException", id.kind.is_recorder())
            .close();
    }
    if id.kind.is_recorder() {
        x.open("RacmCap")
            .leaf(
                "inputProxyNums",
                if id.kind == DeviceKind::Nvr {
                    id.model.channels
                } else {
                    2
                },
            )
            .leaf("nasNums", 8)
            .leaf("isSupportSMARTTest", "true")
            .leaf("diskGroupNums", 16)
            .close();
    }
    if id.kind == DeviceKind::Ipc {
        x.open("SmartCap")
            .leaf("isSupportFieldDetection", "true")
            .leaf("isSupportLineDetection", "true")
            .leaf("isSupportRegionEntrance", "true")
            .leaf("isSupportRegionExiting", "true")
            .leaf("isSupportSceneChangeDetection", "true")
            .close();
    }
    x.leaf("isSupportEhome", "true");
    x.finish()
}

/// `GET /ISAPI/System/status`. Recorders answer without a namespace and with
/// space-padded floating-point memory figures, cameras with integers (isapi.md §1).
pub fn status(dev: &Device, st: &State) -> String {
    let uptime = st.boot.elapsed().as_secs();
    let wobble = (uptime % 17) as u32;
    if dev.id.kind.is_recorder() {
        let ns = (dev.dialect() == Dialect::Isapi).then(|| dev.dialect().ns());
        let mut x = Xml::root_ns("DeviceStatus", "1.0", ns);
        x.leaf("currentDeviceTime", device_time(&dev.id))
            .leaf("deviceUpTime", uptime)
            .open("CPUList")
            .open("CPU")
            .leaf("cpuDescription", "2786.91")
            .leaf("cpuUtilization", 3 + wobble)
            .close()
            .close()
            .open("MemoryList")
            .open("Memory")
            .leaf("memoryDescription", "DDR Memory")
            .leaf(
                "memoryUsage",
                format!(" {:.6}", 240.0 + f64::from(wobble) * 0.25),
            )
            .leaf(
                "memoryAvailable",
                format!(" {:.6}", 260.0 - f64::from(wobble) * 0.25),
            )
            .close()
            .close();
        return x.finish();
    }
    let mut x = Xml::root(dev.dialect(), "DeviceStatus");
    x.leaf("currentDeviceTime", device_time(&dev.id))
        .leaf("deviceUpTime", uptime)
        .open("CPUList")
        .open("CPU")
        .leaf("cpuDescription", "ARM Cortex-A7 (ARMv7)")
        .leaf("cpuUtilization", 20 + wobble)
        .close()
        .close()
        .open("MemoryList")
        .open("Memory")
        .leaf("memoryDescription", "DDR Memory")
        .leaf("memoryUsage", 60 + wobble)
        .leaf("memoryAvailable", 40_596 - wobble * 10)
        .close()
        .close();
    if dev.dialect() == Dialect::Hik20 {
        x.leaf("totalRebootCount", 3);
    }
    x.finish()
}

/// `GET /ISAPI/System/time`.
pub fn time(dev: &Device) -> String {
    let mut x = Xml::root(dev.dialect(), "Time");
    x.leaf_attrs("timeMode", "opt=\"NTP,manual,platform\"", "NTP")
        .leaf("localTime", device_time(&dev.id))
        .leaf("timeZone", posix_zone(&dev.id))
        .leaf_attrs("timeType", "opt=\"local,UTC\"", "local");
    x.finish()
}

/// Writes the children of one `NetworkInterface`.
fn interface(x: &mut Xml, dev: &Device, id: u32, wireless: bool, default: bool) {
    let ip = dev.addr.ip().to_string();
    x.leaf("id", id);
    x.open("IPAddress")
        .leaf("ipVersion", "dual")
        .leaf(
            "addressingType",
            if wireless { "dynamic" } else { "static" },
        )
        .leaf("ipAddress", &ip)
        .leaf("subnetMask", "255.0.0.0")
        .leaf("ipv6Address", "::")
        .leaf("bitMask", 0)
        .open("DefaultGateway")
        .leaf("ipAddress", &ip)
        .close()
        .open("PrimaryDNS")
        .leaf("ipAddress", "8.8.8.8")
        .close()
        .open("SecondaryDNS")
        .leaf("ipAddress", "8.8.4.4")
        .close()
        .open("Ipv6Mode")
        .leaf("ipV6AddressingType", "ra")
        .close()
        .close();
    if wireless {
        x.open("Wireless")
            .leaf("enabled", "true")
            .leaf("wirelessNetworkMode", "infrastructure")
            .leaf("ssid", "SITE-WLAN")
            .open("WirelessSecurity")
            .leaf("securityMode", "WPA2-personal")
            .close()
            .close();
    }
    let mut mac = dev.id.mac;
    if wireless {
        mac[5] = mac[5].wrapping_add(1);
    }
    let mac = mac
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    x.open("Link")
        .leaf("MACAddress", mac)
        .leaf("autoNegotiation", "true")
        .leaf("speed", if wireless || !default { 0 } else { 100 })
        .leaf("duplex", "full")
        .leaf("MTU", 1500)
        .close();
    x.leaf("defaultConnection", default);
}

/// `GET /ISAPI/System/Network/interfaces` (or one interface with `only`). Wi-Fi (the `link`
/// fault) adds interface 2 with a `Wireless` block and makes it the default connection.
pub fn network_interfaces(dev: &Device, st: &State, only: Option<u32>) -> Option<String> {
    let wifi = st.faults.link == Some(LinkType::Wifi);
    let list: Vec<(u32, bool, bool)> = if wifi {
        vec![(1, false, false), (2, true, true)]
    } else {
        vec![(1, false, true)]
    };
    match only {
        Some(want) => {
            let (i, w, d) = list.into_iter().find(|(i, _, _)| *i == want)?;
            let mut x = Xml::root(dev.dialect(), "NetworkInterface");
            interface(&mut x, dev, i, w, d);
            Some(x.finish())
        }
        None => {
            let mut x = Xml::root(dev.dialect(), "NetworkInterfaceList");
            for (i, w, d) in list {
                x.open("NetworkInterface");
                interface(&mut x, dev, i, w, d);
                x.close();
            }
            Some(x.finish())
        }
    }
}

/// `GET /ISAPI/Security/adminAccesses` — the HTTP port is the simulator's real port.
pub fn admin_accesses(dev: &Device) -> String {
    let mut x = Xml::root(dev.dialect(), "AdminAccessProtocolList");
    let rows = [
        (1, "HTTP", u32::from(dev.addr.port())),
        (2, "RTSP", 554),
        (3, "HTTPS", 443),
        (4, "DEV_MANAGE", 8000),
    ];
    for (i, proto, port) in rows {
        x.open("AdminAccessProtocol")
            .leaf("id", i)
            .leaf("enabled", "true")
            .leaf("protocol", proto)
            .leaf("portNo", port)
            .close();
    }
    x.finish()
}
