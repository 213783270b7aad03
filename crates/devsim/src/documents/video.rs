//! Video-side documents: NVR IP channels and their online state, event triggers, alarm
//! hosts, alarm I/O, streaming channels, video inputs and motion detection.

use crate::catalog::Dialect;
use crate::device::{Device, HttpHost, State};
use crate::documents::Xml;
use crate::spec::DeviceKind;

fn center_notification(x: &mut Xml) {
    x.open("EventTriggerNotificationList")
        .open("EventTriggerNotification")
        .leaf("id", "center")
        .leaf("notificationMethod", "center")
        .leaf("notificationRecurrence", "beginning")
        .close()
        .close();
}

/// One trigger row: (id, eventType, description, channel, io port).
type Trigger = (String, &'static str, &'static str, Option<u32>, Option<u32>);

fn triggers(dev: &Device) -> Vec<Trigger> {
    let id = &dev.id;
    let mut v: Vec<Trigger> = Vec::new();
    let channels = id.channel_names.len() as u32;
    let per_channel: &[(&str, &str, &str)] = match id.kind {
        DeviceKind::Ipc => &[
            ("VMD", "VMD", "VMD Event trigger Information"),
            (
                "tamper",
                "tamperdetection",
                "shelteralarm Event trigger Information",
            ),
            (
                "linedetection",
                "linedetection",
                "Linedetection Event trigger Information",
            ),
            (
                "fielddetection",
                "fielddetection",
                "fielddetection Event trigger Information",
            ),
            (
                "regionEntrance",
                "regionEntrance",
                "regionEntrance Event trigger Information",
            ),
            (
                "regionExiting",
                "regionExiting",
                "regionExiting Event trigger Information",
            ),
            (
                "scenechangedetection",
                "scenechangedetection",
                "scenechangedetection Event trigger Information",
            ),
        ],
        DeviceKind::Nvr => &[
            ("VMD", "VMD", "VMD Event trigger Information"),
            (
                "videoloss",
                "videoloss",
                "videoloss Event trigger Information",
            ),
            (
                "tamper",
                "tamperdetection",
                "shelteralarm Event trigger Information",
            ),
            (
                "linedetection",
                "linedetection",
                "Linedetection Event trigger Information",
            ),
            (
                "fielddetection",
                "fielddetection",
                "fielddetection Event trigger Information",
            ),
        ],
        DeviceKind::Dvr => &[
            ("VMD", "VMD", "VMD Event trigger Information"),
            (
                "videoloss",
                "videoloss",
                "videoloss Event trigger Information",
            ),
            (
                "tamper",
                "tamperdetection",
                "shelteralarm Event trigger Information",
            ),
            (
                "linedetection",
                "linedetection",
                "Linedetection Event trigger Information",
            ),
            (
                "fielddetection",
                "fielddetection",
                "fielddetection Event trigger Information",
            ),
        ],
        DeviceKind::Doorbell => &[("VMD", "VMD", "VMD Event trigger Information")],
        _ => &[],
    };
    for c in 1..=channels {
        for (prefix, et, desc) in per_channel {
            v.push((format!("{prefix}-{c}"), et, desc, Some(c), None));
        }
    }
    for p in 1..=id.model.io_in {
        v.push((
            format!("IO-{p}"),
            "IO",
            "IO Event trigger Information",
            None,
            Some(p),
        ));
    }
    let mut exceptions = vec!["nicbroken", "ipconflict", "illaccess"];
    if !id.drives.is_empty() {
        exceptions.splice(0..0, ["diskfull", "diskerror"]);
    }
    if id.kind.is_recorder() {
        exceptions.push("recordingfailure");
    }
    for e in exceptions {
        v.push((e.to_string(), e, "exception Information", None, None));
    }
    v
}

fn write_trigger(x: &mut Xml, dev: &Device, t: &Trigger) {
    let (tid, et, desc, ch, io) = t;
    x.leaf("id", tid)
        .leaf("eventType", et)
        .leaf("eventDescription", desc);
    if let Some(p) = io {
        x.leaf("inputIOPortID", p);
    } else if dev.id.kind == DeviceKind::Nvr {
        if let Some(c) = ch {
            x.leaf("dynVideoInputChannelID", c);
        }
    } else {
        let c = ch.unwrap_or(1);
        x.leaf("videoInputChannelID", c)
            .leaf("dynVideoInputChannelID", c);
    }
    center_notification(x);
}

/// `GET /ISAPI/Event/triggers` (every trigger notifies `center`, so events reach the stream).
pub fn event_triggers(dev: &Device) -> String {
    let mut x = Xml::root(dev.dialect(), "EventTriggerList");
    for t in triggers(dev) {
        x.open("EventTrigger");
        write_trigger(&mut x, dev, &t);
        x.close();
    }
    x.finish()
}

/// `GET /ISAPI/Event/triggers/<id>` (id compared case-insensitively).
pub fn event_trigger(dev: &Device, want: &str) -> Option<String> {
    let t = triggers(dev)
        .into_iter()
        .find(|t| t.0.eq_ignore_ascii_case(want))?;
    let mut x = Xml::root(dev.dialect(), "EventTrigger");
    write_trigger(&mut x, dev, &t);
    Some(x.finish())
}

fn source_descriptor(x: &mut Xml, dev: &Device, ch: u32, full: bool) {
    let Some(cam) = dev.id.proxied.iter().find(|c| c.channel == ch) else {
        return;
    };
    x.open("sourceInputPortDescriptor")
        .leaf("proxyProtocol", "HIKVISION")
        .leaf("addressingFormatType", "ipaddress")
        .leaf("ipAddress", &cam.ip)
        .leaf("managePortNo", 8000)
        .leaf("srcInputPort", 1)
        .leaf("userName", "admin");
    if full {
        x.leaf("connMode", "plugplay")
            .leaf("streamType", "auto")
            .leaf("model", cam.model)
            .leaf("serialNumber", &cam.serial_number)
            .leaf("firmwareVersion", &cam.firmware);
    } else {
        x.leaf("streamType", "auto");
    }
    x.empty("deviceID").close();
}

/// `GET /ISAPI/ContentMgmt/InputProxy/channels[/<id>]`. DVRs answer an empty list.
pub fn input_proxy_channels(dev: &Device, only: Option<u32>) -> Option<String> {
    let d = dev.dialect();
    let id = &dev.id;
    let write = |x: &mut Xml, ch: u32| {
        x.leaf("id", ch)
            .leaf("name", &id.channel_names[(ch - 1) as usize]);
        source_descriptor(x, dev, ch, true);
        x.leaf("certificateValidationEnabled", "false")
            .leaf("defaultAdminPortEnabled", "true")
            .leaf("enableAnr", "false")
            .leaf("enableTiming", "true");
    };
    if let Some(ch) = only {
        id.proxied.iter().find(|c| c.channel == ch)?;
        let mut x = Xml::root(d, "InputProxyChannel");
        write(&mut x, ch);
        return Some(x.finish());
    }
    let n = if id.kind == DeviceKind::Dvr {
        2
    } else {
        id.model.channels
    };
    // The size attribute (channel capacity) sits on the root after the namespace.
    let mut x = Xml::root_raw(
        "InputProxyChannelList",
        &format!(
            "version=\"{}\" xmlns=\"{}\" size=\"{n}\"",
            d.version(),
            d.ns()
        ),
    );
    for cam in &id.proxied {
        x.open("InputProxyChannel");
        write(&mut x, cam.channel);
        x.close();
    }
    Some(x.finish())
}

fn write_status(x: &mut Xml, dev: &Device, st: &State, ch: u32) {
    let online = !st.faults.channels_offline.contains(&ch);
    x.leaf("id", ch);
    source_descriptor(x, dev, ch, false);
    x.leaf("online", online)
        .open("streamingProxyChannelIdList")
        .leaf("streamingProxyChannelId", ch * 100 + 1)
        .close()
        .leaf(
            "chanDetectResult",
            if online { "connect" } else { "netUnreachable" },
        );
}

/// `GET /ISAPI/ContentMgmt/InputProxy/channels/status` and `/channels/<id>/status`.
pub fn input_proxy_status(dev: &Device, st: &State, only: Option<u32>) -> Option<String> {
    let d = dev.dialect();
    if let Some(ch) = only {
        dev.id.proxied.iter().find(|c| c.channel == ch)?;
        let mut x = Xml::root(d, "InputProxyChannelStatus");
        write_status(&mut x, dev, st, ch);
        return Some(x.finish());
    }
    let mut x = Xml::root(d, "InputProxyChannelStatusList");
    for cam in &dev.id.proxied {
        x.open("InputProxyChannelStatus");
        write_status(&mut x, dev, st, cam.channel);
        x.close();
    }
    Some(x.finish())
}

fn write_host(x: &mut Xml, dev: &Device, h: &HttpHost) {
    x.leaf("id", h.id)
        .leaf("url", &h.url)
        .leaf("protocolType", &h.protocol)
        .leaf("parameterFormatType", &h.format)
        .leaf("addressingFormatType", &h.addressing);
    if h.addressing == "hostname" {
        x.leaf("hostName", &h.host_name);
    } else {
        x.leaf("ipAddress", &h.ip);
    }
    x.leaf("portNo", h.port)
        .empty("userName")
        .leaf("httpAuthenticationMethod", "none");
    if dev.dialect() == Dialect::Isapi {
        x.open_attrs(
            "Extensions",
            "xmlns=\"urn:selfextension:psiaext-ver10-xsd\"",
        )
        .leaf("intervalBetweenEvents", 0)
        .close();
    } else {
        x.leaf("httpBroken", "false");
    }
}

/// `GET /ISAPI/Event/notification/httpHosts`.
pub fn http_hosts(dev: &Device, st: &State) -> String {
    let d = dev.dialect();
    let mut x = Xml::root(d, "HttpHostNotificationList");
    for h in &st.http_hosts {
        if d == Dialect::Isapi {
            x.open("HttpHostNotification");
        } else {
            x.open_attrs(
                "HttpHostNotification",
                &format!("version=\"2.0\" xmlns=\"{}\"", d.ns()),
            );
        }
        write_host(&mut x, dev, h);
        x.close();
    }
    x.finish()
}

/// `GET /ISAPI/Event/notification/httpHosts/<id>`.
pub fn http_host(dev: &Device, st: &State, id: u32) -> Option<String> {
    let h = st.http_hosts.iter().find(|h| h.id == id)?;
    let mut x = Xml::root(dev.dialect(), "HttpHostNotification");
    write_host(&mut x, dev, h);
    Some(x.finish())
}

/// `GET /ISAPI/System/IO/inputs`.
pub fn io_inputs(dev: &Device) -> String {
    let mut x = Xml::root(dev.dialect(), "IOInputPortList");
    for p in 1..=dev.id.model.io_in {
        x.open("IOInputPort");
        io_input_children(&mut x, p);
        x.close();
    }
    x.finish()
}

fn io_input_children(x: &mut Xml, p: u32) {
    x.leaf("id", p)
        .leaf("enabled", "true")
        .leaf("triggering", "low")
        .leaf("name", format!("Alarm input {p}"));
}

/// `GET /ISAPI/System/IO/inputs/<id>`.
pub fn io_input(dev: &Device, p: u32) -> String {
    let mut x = Xml::root(dev.dialect(), "IOInputPort");
    io_input_children(&mut x, p);
    x.finish()
}

/// `GET /ISAPI/System/IO/outputs`.
pub fn io_outputs(dev: &Device) -> String {
    let mut x = Xml::root(dev.dialect(), "IOOutputPortList");
    for p in 1..=dev.id.model.io_out {
        x.open("IOOutputPort")
            .leaf("id", p)
            .leaf("name", format!("Alarm output {p}"))
            .open("PowerOnState")
            .leaf("defaultState", "low")
            .leaf("outputState", "pulse")
            .leaf("pulseDuration", 1000)
            .close()
            .close();
    }
    x.finish()
}

/// `GET /ISAPI/System/IO/{inputs,outputs}/<id>/status`.
pub fn io_status(dev: &Device, p: u32, input: bool) -> String {
    let mut x = Xml::root(dev.dialect(), "IOPortStatus");
    x.leaf("ioPortID", p)
        .leaf("ioPortType", if input { "input" } else { "output" })
        .leaf("ioState", "inactive");
    x.finish()
}

/// The stream ids a device offers (`channel*100 + stream`).
pub fn stream_ids(dev: &Device) -> Vec<u32> {
    let channels = dev.id.channel_names.len() as u32;
    let per = if dev.id.kind == DeviceKind::Ipc { 3 } else { 2 };
    (1..=channels)
        .flat_map(|c| (1..=per).map(move |s| c * 100 + s))
        .collect()
}

fn write_stream(x: &mut Xml, dev: &Device, sid: u32) {
    let ch = sid / 100;
    let main = sid % 100 == 1;
    let (w, h) = if main { (2560, 1440) } else { (640, 360) };
    x.leaf("id", sid)
        .leaf("channelName", &dev.id.channel_names[(ch - 1) as usize])
        .leaf("enabled", "true")
        .open("Transport")
        .open("ControlProtocolList")
        .open("ControlProtocol")
        .leaf("streamingTransport", "RTSP")
        .close()
        .close()
        .close()
        .open("Video")
        .leaf("enabled", "true")
        .leaf("videoInputChannelID", ch)
        .leaf("videoCodecType", if main { "H.265" } else { "H.264" })
        .leaf("videoResolutionWidth", w)
        .leaf("videoResolutionHeight", h)
        .leaf("videoQualityControlType", "VBR")
        .leaf("fixedQuality", 60)
        .leaf("vbrUpperCap", if main { 4096 } else { 512 })
        .leaf("GovLength", 50)
        .leaf("maxFrameRate", 2500)
        .leaf("snapShotImageType", "JPEG")
        .close()
        .open("Audio")
        .leaf("enabled", "false")
        .leaf("audioInputChannelID", 1)
        .leaf("audioCompressionType", "G.711ulaw")
        .close();
}

/// `GET /ISAPI/Streaming/channels[/<id>]`.
pub fn streaming(dev: &Device, only: Option<u32>) -> Option<String> {
    let ids = stream_ids(dev);
    if let Some(sid) = only {
        if !ids.contains(&sid) {
            return None;
        }
        let mut x = Xml::root(dev.dialect(), "StreamingChannel");
        write_stream(&mut x, dev, sid);
        return Some(x.finish());
    }
    let mut x = Xml::root(dev.dialect(), "StreamingChannelList");
    for sid in ids {
        x.open("StreamingChannel");
        write_stream(&mut x, dev, sid);
        x.close();
    }
    Some(x.finish())
}

/// `GET /ISAPI/System/Video/inputs/channels` (cameras, DVRs; DVR inputs without a camera
/// show `NO VIDEO`).
pub fn video_inputs(dev: &Device, st: &State) -> String {
    let d = dev.dialect();
    let mut x = Xml::root(d, "VideoInputChannelList");
    for (i, name) in dev.id.channel_names.iter().enumerate() {
        let ch = i as u32 + 1;
        x.open("VideoInputChannel")
            .leaf("id", ch)
            .leaf("inputPort", ch);
        if dev.id.kind == DeviceKind::Dvr {
            x.leaf("videoInputEnabled", "true");
        }
        x.leaf("name", name).leaf("videoFormat", "PAL");
        if dev.id.kind == DeviceKind::Dvr {
            let lost = st.faults.channels_offline.contains(&ch);
            x.leaf("resDesc", if lost { "NO VIDEO" } else { "1920*1080P25" });
        }
        x.close();
    }
    x.finish()
}

/// Motion detection settings of a channel.
pub fn motion_detection(dev: &Device, ch: u32) -> Option<String> {
    if ch == 0 || ch as usize > dev.id.channel_names.len() {
        return None;
    }
    let mut x = Xml::root(dev.dialect(), "MotionDetection");
    x.leaf("enabled", "true")
        .leaf("enableHighlight", "false")
        .leaf("samplingInterval", 2)
        .leaf("startTriggerTime", 500)
        .leaf("endTriggerTime", 500)
        .leaf("regionType", "grid")
        .open("Grid")
        .leaf("rowGranularity", 18)
        .leaf("columnGranularity", 22)
        .close()
        .open("MotionDetectionLayout")
        .leaf("sensitivityLevel", 60)
        .open("layout")
        .leaf("gridMap", "fffffc".repeat(18))
        .close()
        .close();
    Some(x.finish())
}
