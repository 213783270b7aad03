//! Serving one ISAPI request: the reachability gate and `slow` delay, authentication, and
//! dispatch on the case-insensitive path to the documents each device kind answers; the rest
//! gets the 403/404 `notSupport` answers real firmware gives.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::alert_stream;
use crate::auth;
use crate::device::{Arming, Device, Gate, HttpHost};
use crate::documents::{self, access, intercom, security_cp, storage, system, video, xml_text};
use crate::events;
use crate::respond::{self, Reply};
use crate::spec::DeviceKind;

/// Error that makes hyper drop the connection without an answer.
fn dropped() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "device offline")
}

/// Waits at the gate: open passes; refused drops; silent holds the request until the gate
/// changes, then drops it.
async fn pass_gate(dev: &Device) -> Result<(), std::io::Error> {
    let mut rx = dev.gate_rx();
    let g = *rx.borrow_and_update();
    match g {
        Gate::Open => Ok(()),
        Gate::Refuse => Err(dropped()),
        Gate::Silent => {
            let _ = rx.changed().await;
            Err(dropped())
        }
    }
}

/// Entry point of a device connection's service.
pub(crate) async fn serve(
    dev: Arc<Device>,
    req: Request<Incoming>,
) -> Result<Reply, std::io::Error> {
    pass_gate(&dev).await?;
    let slow = dev.state().faults.slow_ms;
    if let Some(ms) = slow {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        pass_gate(&dev).await?;
    }
    let (parts, body) = req.into_parts();
    let bytes = Limited::new(body, 1 << 20)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    Ok(route(
        &dev,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        false,
    ))
}

/// A request that came through the device link: the link authenticated it, so the
/// device answers without asking for digest credentials (as devices with the cloud
/// client built in do). Faults that make the device unreachable or slow apply.
pub(crate) async fn serve_linked(
    dev: Arc<Device>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &str,
) -> Result<Reply, std::io::Error> {
    pass_gate(&dev).await?;
    let slow = dev.state().faults.slow_ms;
    if let Some(ms) = slow {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        pass_gate(&dev).await?;
    }
    Ok(route(&dev, method, uri, headers, body, true))
}

fn query(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (!k.is_empty()).then(|| (k.to_ascii_lowercase(), v.to_string()))
        })
        .collect()
}

/// Top-level ISAPI areas: unknown paths under them get 403, anything else 404.
const KNOWN_ROOTS: &[&str] = &[
    "system",
    "contentmgmt",
    "event",
    "streaming",
    "security",
    "securitycp",
    "accesscontrol",
    "videointercom",
    "smart",
    "image",
    "ptzctrl",
    "thermal",
    "intelligent",
    "wlalarm",
];

fn route(
    dev: &Arc<Device>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &str,
    linked: bool,
) -> Reply {
    let url = uri.path();
    let lower = url.to_ascii_lowercase();
    let q = query(uri);
    let json_fmt = q
        .get("format")
        .is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let Some(rest) = lower.strip_prefix("/isapi/") else {
        return respond::not_found(dev, url, json_fmt);
    };
    let seg: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let tp = dev.id.kind == DeviceKind::ThirdParty;
    match (method, seg.as_slice()) {
        (&Method::GET, ["security", "sessionlogin", "capabilities"]) if !tp => {
            return auth::session_capabilities(dev);
        }
        (&Method::POST, ["security", "sessionlogin"]) if !tp => {
            return auth::session_login(dev, body);
        }
        _ => {}
    }
    if !linked && let Err(reply) = auth::authenticate(dev, method.as_str(), headers) {
        return *reply;
    }
    let ctx = Ctx {
        dev,
        url,
        json: json_fmt,
        q: &q,
        headers,
        body,
    };
    match dispatch(&ctx, method, &seg) {
        Some(r) => r,
        None if seg.first().is_some_and(|s| KNOWN_ROOTS.contains(s)) && !tp => {
            respond::forbidden(dev, url, json_fmt)
        }
        None => respond::not_found(dev, url, json_fmt),
    }
}

struct Ctx<'a> {
    dev: &'a Arc<Device>,
    url: &'a str,
    json: bool,
    q: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
    body: &'a str,
}

fn num(s: &str) -> Option<u32> {
    s.parse().ok()
}

fn dispatch(c: &Ctx<'_>, method: &Method, seg: &[&str]) -> Option<Reply> {
    let dev = c.dev;
    let kind = dev.id.kind;
    if kind == DeviceKind::ThirdParty {
        return third_party(c, method, seg);
    }
    if let Some(r) = system_routes(c, method, seg) {
        return Some(r);
    }
    let rec = kind.is_recorder();
    let has_storage = rec || dev.id.model.drives > 0;
    let ok = |r: Option<String>| r.map(|b| respond::ok_xml(dev, b));
    match (method, seg) {
        // Storage.
        (&Method::GET, ["contentmgmt", "storage"]) if has_storage => {
            ok(Some(storage::storage(dev, &dev.state())))
        }
        (&Method::GET, ["contentmgmt", "storage", "hdd"]) if has_storage => {
            ok(Some(storage::hdd_list_doc(dev, &dev.state())))
        }
        (&Method::GET, ["contentmgmt", "storage", "hdd", id]) if has_storage => {
            ok(storage::hdd_doc(dev, &dev.state(), num(id)?))
        }
        (&Method::GET, ["contentmgmt", "storage", "hdd", id, "smarttest", "status"]) if rec => {
            ok(storage::smart_status(dev, &dev.state(), num(id)?))
        }
        (&Method::GET, ["contentmgmt", "storage", "extension"]) if rec => {
            ok(Some(storage::storage_extension(dev, &dev.state())))
        }
        (&Method::PUT, ["contentmgmt", "storage", "extension"]) if rec => {
            Some(respond::ok_status(dev, c.url, c.json))
        }
        (&Method::GET, ["system", "workingstatus", "hdstatus"]) if rec => Some(respond::ok_json(
            dev,
            storage::hd_status_json(dev, &dev.state()),
        )),
        // NVR IP channels.
        (&Method::GET, ["contentmgmt", "inputproxy", "channels"]) if rec => {
            ok(video::input_proxy_channels(dev, None))
        }
        (&Method::GET, ["contentmgmt", "inputproxy", "channels", "status"]) if rec => {
            ok(video::input_proxy_status(dev, &dev.state(), None))
        }
        (&Method::GET, ["contentmgmt", "inputproxy", "channels", id]) if rec => {
            ok(video::input_proxy_channels(dev, Some(num(id)?)))
        }
        (&Method::GET, ["contentmgmt", "inputproxy", "channels", id, "status"]) if rec => {
            ok(video::input_proxy_status(dev, &dev.state(), Some(num(id)?)))
        }
        (
            &Method::GET,
            [
                "contentmgmt",
                "inputproxy",
                "channels",
                id,
                "video",
                "motiondetection",
            ],
        ) if kind == DeviceKind::Nvr => ok(video::motion_detection(dev, num(id)?)),
        // Events.
        (&Method::GET, ["event", "triggers"])
            if kind.is_video() || kind == DeviceKind::Doorbell =>
        {
            ok(Some(video::event_triggers(dev)))
        }
        (&Method::GET, ["event", "triggers", id])
            if kind.is_video() || kind == DeviceKind::Doorbell =>
        {
            ok(video::event_trigger(dev, id))
        }
        (&Method::GET, ["event", "notification", "httphosts"]) => {
            ok(Some(video::http_hosts(dev, &dev.state())))
        }
        (&Method::GET, ["event", "notification", "httphosts", id]) => {
            ok(video::http_host(dev, &dev.state(), num(id)?))
        }
        (&Method::PUT, ["event", "notification", "httphosts"]) => Some(put_http_hosts(c, None)),
        (&Method::PUT, ["event", "notification", "httphosts", id]) => {
            Some(put_http_hosts(c, Some(num(id)?)))
        }
        (&Method::GET, ["event", "notification", "alertstream"]) => {
            Some(alert_stream::alert_stream(Arc::clone(dev)))
        }
        // Alarm I/O.
        (&Method::GET, ["system", "io", "inputs"]) if dev.id.model.io_in > 0 => {
            ok(Some(video::io_inputs(dev)))
        }
        (&Method::GET, ["system", "io", "inputs", id]) if dev.id.model.io_in > 0 => {
            let p = num(id).filter(|p| (1..=dev.id.model.io_in).contains(p))?;
            ok(Some(video::io_input(dev, p)))
        }
        (&Method::GET, ["system", "io", "inputs", id, "status"]) if dev.id.model.io_in > 0 => {
            let p = num(id).filter(|p| (1..=dev.id.model.io_in).contains(p))?;
            ok(Some(video::io_status(dev, p, true)))
        }
        (&Method::GET, ["system", "io", "outputs"]) if dev.id.model.io_out > 0 => {
            ok(Some(video::io_outputs(dev)))
        }
        (&Method::GET, ["system", "io", "outputs", id, "status"]) if dev.id.model.io_out > 0 => {
            let p = num(id).filter(|p| (1..=dev.id.model.io_out).contains(p))?;
            ok(Some(video::io_status(dev, p, false)))
        }
        // Video.
        (&Method::GET, ["streaming", "channels"]) if !dev.id.channel_names.is_empty() => {
            ok(video::streaming(dev, None))
        }
        (&Method::GET, ["streaming", "channels", id]) if !dev.id.channel_names.is_empty() => {
            ok(video::streaming(dev, Some(num(id)?)))
        }
        (&Method::GET, ["system", "video", "inputs", "channels"])
            if matches!(kind, DeviceKind::Ipc | DeviceKind::Dvr) =>
        {
            ok(Some(video::video_inputs(dev, &dev.state())))
        }
        (
            &Method::GET,
            [
                "system",
                "video",
                "inputs",
                "channels",
                id,
                "motiondetection",
            ],
        ) if matches!(
            kind,
            DeviceKind::Ipc | DeviceKind::Dvr | DeviceKind::Doorbell
        ) =>
        {
            ok(video::motion_detection(dev, num(id)?))
        }
        _ => match kind {
            DeviceKind::ControlPanel => security_cp_routes(c, method, seg),
            DeviceKind::AccessControl | DeviceKind::VideoIntercom | DeviceKind::Doorbell => {
                access_routes(c, method, seg)
            }
            _ => None,
        },
    }
}

fn system_routes(c: &Ctx<'_>, method: &Method, seg: &[&str]) -> Option<Reply> {
    let dev = c.dev;
    match (method, seg) {
        (&Method::GET, ["system", "deviceinfo"]) => {
            Some(respond::ok_xml(dev, system::device_info(dev)))
        }
        (&Method::GET, ["system", "capabilities"]) => Some(respond::ok_xml(
            dev,
            system::capabilities(dev, &dev.state()),
        )),
        (&Method::GET, ["system", "status"]) => {
            Some(respond::ok_xml(dev, system::status(dev, &dev.state())))
        }
        (&Method::GET, ["system", "time"]) => Some(respond::ok_xml(dev, system::time(dev))),
        (&Method::PUT, ["system", "time"]) => Some(respond::ok_status(dev, c.url, c.json)),
        (&Method::PUT | &Method::POST, ["system", "reboot"]) => {
            dev.reboot();
            Some(respond::ok_status(dev, c.url, c.json))
        }
        (&Method::GET, ["system", "network", "interfaces"]) => {
            system::network_interfaces(dev, &dev.state(), None).map(|b| respond::ok_xml(dev, b))
        }
        (&Method::GET, ["system", "network", "interfaces", id]) => {
            system::network_interfaces(dev, &dev.state(), Some(num(id)?))
                .map(|b| respond::ok_xml(dev, b))
        }
        (&Method::GET, ["security", "adminaccesses"]) => {
            Some(respond::ok_xml(dev, system::admin_accesses(dev)))
        }
        (&Method::GET, ["security", "usercheck"]) => {
            let mut x = documents::Xml::root(dev.dialect(), "userCheck");
            x.leaf("statusValue", 200)
                .leaf("statusString", "OK")
                .leaf("isDefaultPassword", "false")
                .leaf("isRiskPassword", "false")
                .leaf("isActivated", "true");
            Some(respond::ok_xml(dev, x.finish()))
        }
        (&Method::PUT, ["security", "sessionlogout"]) => {
            Some(auth::session_logout(dev, c.headers, c.url))
        }
        (&Method::PUT, ["security", "sessionheartbeat"]) => {
            Some(respond::ok_status(dev, c.url, c.json))
        }
        _ => None,
    }
}

fn third_party(c: &Ctx<'_>, method: &Method, seg: &[&str]) -> Option<Reply> {
    let dev = c.dev;
    match (method, seg) {
        (&Method::GET, ["system", "deviceinfo"]) => {
            Some(respond::ok_xml(dev, system::device_info(dev)))
        }
        (&Method::GET, ["system", "status"]) => {
            Some(respond::ok_xml(dev, system::status(dev, &dev.state())))
        }
        (&Method::GET, ["streaming", "channels"]) => {
            video::streaming(dev, None).map(|b| respond::ok_xml(dev, b))
        }
        _ => None,
    }
}

fn put_http_hosts(c: &Ctx<'_>, only: Option<u32>) -> Reply {
    let dev = c.dev;
    let chunks: Vec<&str> = c
        .body
        .split("<HttpHostNotification")
        .skip(1)
        .filter(|s| !s.starts_with("List"))
        .collect();
    if chunks.is_empty() {
        return respond::bad_request(dev, c.url, c.json);
    }
    let mut st = dev.state();
    for chunk in chunks {
        let chunk = format!("<x{chunk}");
        let Some(id) = only.or_else(|| xml_text(&chunk, "id").and_then(|s| s.parse().ok())) else {
            continue;
        };
        let get = |k: &str| xml_text(&chunk, k).unwrap_or_default();
        let host = HttpHost {
            id,
            url: get("url"),
            protocol: xml_text(&chunk, "protocolType").unwrap_or_else(|| "HTTP".into()),
            format: xml_text(&chunk, "parameterFormatType").unwrap_or_else(|| "XML".into()),
            addressing: xml_text(&chunk, "addressingFormatType")
                .unwrap_or_else(|| "ipaddress".into()),
            ip: get("ipAddress"),
            host_name: get("hostName"),
            port: get("portNo").parse().unwrap_or(80),
        };
        match st.http_hosts.iter_mut().find(|h| h.id == id) {
            Some(slot) => *slot = host,
            None => {
                drop(st);
                return respond::bad_request(dev, c.url, c.json);
            }
        }
    }
    drop(st);
    respond::ok_status(dev, c.url, c.json)
}

fn security_cp_routes(c: &Ctx<'_>, method: &Method, seg: &[&str]) -> Option<Reply> {
    let dev = c.dev;
    let get_or_post = matches!(*method, Method::GET | Method::POST);
    let body = match (method, seg) {
        (m, ["securitycp", "status", "subsystems"]) if m == Method::GET => {
            security_cp::sub_systems_doc(&dev.state())
        }
        (_, ["securitycp", "status", "armstatus"]) if get_or_post => {
            security_cp::arm_status(&dev.state())
        }
        (m, ["securitycp", "status", "zones"]) if m == Method::GET => {
            security_cp::zones(dev, &dev.state())
        }
        (m, ["securitycp", "status", "exdevstatus"]) if m == Method::GET => {
            security_cp::ex_dev_status(dev)
        }
        (m, ["securitycp", "status", "batteries"]) if m == Method::GET => {
            security_cp::batteries(&dev.state())
        }
        (m, ["securitycp", "status", "communication"]) if m == Method::GET => {
            security_cp::communication(&dev.state())
        }
        (_, ["securitycp", "status", "host"]) if get_or_post => {
            security_cp::host_status(dev, &dev.state())
        }
        (m, ["securitycp", "control", op, area]) if m == Method::PUT => {
            return Some(panel_control(c, op, num(area)?));
        }
        _ => return None,
    };
    Some(respond::ok_json(dev, body))
}

fn panel_control(c: &Ctx<'_>, op: &str, area: u32) -> Reply {
    let dev = c.dev;
    if !(1..=2).contains(&area) {
        return respond::status(
            dev,
            StatusCode::BAD_REQUEST,
            c.url,
            true,
            documents::Status::BadParameters,
        );
    }
    let idx = (area - 1) as usize;
    let part = {
        let mut st = dev.state();
        st.post_count = st.post_count.wrapping_add(1).max(1);
        let n = st.post_count;
        match op {
            "arm" => {
                let stay =
                    c.q.get("ways")
                        .is_some_and(|w| w.eq_ignore_ascii_case("stay"));
                st.arming[idx] = if stay { Arming::Stay } else { Arming::Away };
                let code = if stay { 3441 } else { 3401 };
                Some(events::cid_alert(dev, n, code, "armAndDisarm", None, area))
            }
            "disarm" => {
                st.arming[idx] = Arming::Disarm;
                Some(events::cid_alert(dev, n, 1401, "armAndDisarm", None, area))
            }
            "clearalarm" => {
                st.alarm_zones
                    .retain(|z| security_cp::zone_area(*z) != area);
                None
            }
            _ => return respond::forbidden(dev, c.url, true),
        }
    };
    if let Some(p) = part {
        dev.publish(p);
    }
    respond::ok_status(dev, c.url, true)
}

fn access_routes(c: &Ctx<'_>, method: &Method, seg: &[&str]) -> Option<Reply> {
    let dev = c.dev;
    let kind = dev.id.kind;
    let acs = kind == DeviceKind::AccessControl;
    let vis = matches!(kind, DeviceKind::VideoIntercom | DeviceKind::Doorbell);
    let body = match (method, seg) {
        (m, ["accesscontrol", "acsworkstatus"]) if m == Method::GET => {
            access::work_status(dev, &dev.state())
        }
        (m, ["accesscontrol", "capabilities"]) if m == Method::GET && acs => access::capabilities(),
        (m, ["accesscontrol", "userinfo", "count"]) if m == Method::GET && acs => {
            access::user_count(dev)
        }
        (m, ["accesscontrol", "acsevent"]) if m == Method::POST => {
            access::event_search(&dev.state(), c.body)
        }
        (m, ["accesscontrol", "remotecontrol", "door", door]) if m == Method::PUT => {
            let door = num(door).filter(|d| *d == 1)?;
            let cmd = xml_text(c.body, "cmd").unwrap_or_default();
            if cmd == "open" || cmd == "alwaysOpen" {
                let part = events::remote_open(dev, &mut dev.state(), door);
                dev.publish(part);
            } else if !matches!(cmd.as_str(), "close" | "alwaysClose") {
                return Some(respond::bad_request(dev, c.url, c.json));
            }
            return Some(respond::ok_status(dev, c.url, c.json));
        }
        (m, ["videointercom", "callstatus"]) if m == Method::GET && vis => {
            intercom::call_status(&dev.state())
        }
        (m, ["videointercom", "callsignal"]) if m == Method::PUT && vis => {
            let r = intercom::call_signal(&mut dev.state(), c.body);
            return Some(match r {
                Ok(()) => respond::ok_status(dev, c.url, true),
                Err(()) => respond::status(
                    dev,
                    StatusCode::BAD_REQUEST,
                    c.url,
                    true,
                    documents::Status::InvalidOperation,
                ),
            });
        }
        (m, ["videointercom", "capabilities"]) if m == Method::GET && vis => {
            intercom::capabilities()
        }
        _ => return None,
    };
    Some(respond::ok_json(dev, body))
}
