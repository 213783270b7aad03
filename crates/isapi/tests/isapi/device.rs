//! A fake device on 127.0.0.1:0 that demands digest (or basic, or session)
//! authentication, and the client talking to it over real HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt as _;
use md5::{Digest as _, Md5};
use sha2::Sha256;
use siteward_isapi::alert_stream::StreamItem;
use siteward_isapi::models::PanelLink;
use siteward_isapi::{Client, Credentials, Error, HttpConfig, HttpTransport};

const USER: &str = "admin";
const PASS: &str = "Pa55word!";
const REALM: &str = "IP Camera(83813)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Digest,
    Basic,
    Session,
}

#[derive(Debug, Default)]
struct Device {
    mode: Mode,
    /// Nonces issued and still valid.
    valid_nonces: Vec<String>,
    /// Nonces the device now calls stale.
    stale_nonces: Vec<String>,
    issued: u32,
    /// nc values seen, in order.
    nc_seen: Vec<String>,
    challenges_sent: u32,
    requests: u32,
    failures: u32,
    /// Lock the account after this many failures (0 = never).
    lock_after: u32,
    /// Expire the nonce after each successful request (as `stale`).
    stale_after_success: bool,
    /// Reject a nonce's second use with a bare 401 (no challenge), as an ACS did.
    acs_nonce_reuse: bool,
    sessions: Vec<String>,
    logins: u32,
    drop_sessions_once: bool,
    slow: bool,
}

type Shared = Arc<Mutex<Device>>;

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

fn sha_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn params(header: &str) -> Vec<(String, String)> {
    // Independent, simple parser for `k="v", k=v` lists.
    let mut out = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
        rest = &rest[eq + 1..];
        let value;
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            value = r[..end].to_owned();
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        out.push((key, value));
    }
    out
}

fn get<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

fn user_check(lock: bool, retries: u32) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><userCheck version=\"2.0\" xmlns=\"http://www.isapi.org/ver20/XMLSchema\"><statusValue>401</statusValue><statusString>Unauthorized</statusString><isActivated>true</isActivated><lockStatus>{}</lockStatus><unlockTime>{}</unlockTime><retryLoginTime>{retries}</retryLoginTime></userCheck>",
        if lock { "lock" } else { "unlock" },
        if lock { 1800 } else { 0 }
    )
}

fn challenge(dev: &mut Device, stale: bool, body: String) -> Response {
    dev.issued += 1;
    dev.challenges_sent += 1;
    let nonce = format!("{:032x}", 0xABCD_0000u64 + u64::from(dev.issued));
    dev.valid_nonces.push(nonce.clone());
    let header = format!(
        "Digest qop=\"auth\", realm=\"{REALM}\", nonce=\"{nonce}\", stale=\"{}\"",
        if stale { "TRUE" } else { "FALSE" }
    );
    (
        StatusCode::UNAUTHORIZED,
        [
            ("WWW-Authenticate", header),
            ("Content-Type", "application/xml".into()),
        ],
        body,
    )
        .into_response()
}

/// Returns `None` when authorised, else the response to send.
fn authorise(
    dev: &mut Device,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    if dev.lock_after > 0 && dev.failures >= dev.lock_after {
        return Some(challenge(dev, false, user_check(true, 0)));
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match dev.mode {
        Mode::Basic => {
            use base64::Engine as _;
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASS}"))
            );
            if auth == expected {
                return None;
            }
            if !auth.is_empty() {
                dev.failures += 1;
            }
            Some(
                (
                    StatusCode::UNAUTHORIZED,
                    [("WWW-Authenticate", format!("Basic realm=\"{REALM}\""))],
                    "",
                )
                    .into_response(),
            )
        }
        Mode::Session => {
            let cookie = headers
                .get("cookie")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if dev.sessions.iter().any(|s| cookie.contains(s.as_str())) {
                if dev.drop_sessions_once {
                    dev.drop_sessions_once = false;
                    dev.sessions.clear();
                    return Some((StatusCode::UNAUTHORIZED, user_check(false, 5)).into_response());
                }
                return None;
            }
            Some((StatusCode::UNAUTHORIZED, user_check(false, 5)).into_response())
        }
        Mode::Digest => {
            let Some(rest) = auth.strip_prefix("Digest ") else {
                return Some(challenge(
                    dev,
                    false,
                    "<userCheck><statusValue>401</statusValue></userCheck>".into(),
                ));
            };
            let p = params(rest);
            let nonce = get(&p, "nonce").unwrap_or("").to_owned();
            let nc = get(&p, "nc").unwrap_or("").to_owned();
            if dev.stale_nonces.contains(&nonce) {
                return Some(challenge(dev, true, String::new()));
            }
            if !dev.valid_nonces.contains(&nonce) {
                return Some(challenge(dev, false, String::new()));
            }
            if dev.acs_nonce_reuse && nc != "00000001" {
                dev.valid_nonces.retain(|n| n != &nonce);
                // No WWW-Authenticate: the client must start over by itself.
                return Some((StatusCode::UNAUTHORIZED, user_check(false, 5)).into_response());
            }
            let uri_param = get(&p, "uri").unwrap_or("");
            let ha1 = md5_hex(&format!("{USER}:{REALM}:{PASS}"));
            let ha2 = md5_hex(&format!("{}:{}", method.as_str(), uri_param));
            let expected = md5_hex(&format!(
                "{ha1}:{nonce}:{nc}:{}:auth:{ha2}",
                get(&p, "cnonce").unwrap_or("")
            ));
            let path_ok = uri.path_and_query().map(|pq| pq.as_str()) == Some(uri_param);
            if get(&p, "username") == Some(USER)
                && get(&p, "response") == Some(expected.as_str())
                && path_ok
            {
                dev.nc_seen.push(nc);
                if dev.stale_after_success {
                    dev.stale_nonces.push(nonce);
                }
                return None;
            }
            dev.failures += 1;
            let left = 5u32.saturating_sub(dev.failures);
            Some(challenge(dev, false, user_check(false, left)))
        }
    }
}

const DEVICE_INFO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DeviceInfo version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><deviceName>fake</deviceName><model>DS-7608NXI-I2/8P/S</model><serialNumber>DS-7608NXI-I20000000000CCRRJ00000000WCVU</serialNumber><macAddress>cc:ed:d6:41:a8:39</macAddress><firmwareVersion>V4.62.210</firmwareVersion><deviceType>NVR</deviceType></DeviceInfo>"#;

fn stream_body() -> Body {
    let event = "<EventNotificationAlert version=\"1.0\" xmlns=\"urn:psialliance-org\"><channelID>34</channelID><dateTime>2023-01-13T19:16:39+01:00</dateTime><activePostCount>1</activePostCount><eventType>fielddetection</eventType><eventState>active</eventState></EventNotificationAlert>";
    let beat = "<EventNotificationAlert><channelID>1</channelID><activePostCount>0</activePostCount><eventType>videoloss</eventType><eventState>inactive</eventState></EventNotificationAlert>";
    let mut all = Vec::new();
    for body in [beat, event, beat, event] {
        all.extend_from_slice(
            format!("--hikboundary\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\nContent-Length: {}\r\n\r\n{body}\r\n", body.len())
                .as_bytes(),
        );
    }
    // Deliver in awkward 37-byte pieces with pauses, like a real socket.
    let chunks: Vec<Bytes> = all.chunks(37).map(Bytes::copy_from_slice).collect();
    let stream = futures::stream::iter(chunks).then(|c| async move {
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok::<Bytes, std::io::Error>(c)
    });
    Body::from_stream(stream)
}

async fn handle(
    State(dev): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let slow = {
        let mut d = dev.lock().expect("device state");
        d.requests += 1;
        d.slow
    };
    if slow {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let mut d = dev.lock().expect("device state");
    // Session login endpoints need no prior authentication.
    if d.mode == Mode::Session && path == "/ISAPI/Security/sessionLogin/capabilities" {
        return (
            StatusCode::OK,
            "<SessionLoginCap><sessionID>sid1</sessionID><challenge>c0ffee</challenge><iterations>3</iterations><isIrreversible>true</isIrreversible><salt>NaCl</salt><sessionIDVersion>2</sessionIDVersion></SessionLoginCap>",
        )
            .into_response();
    }
    if d.mode == Mode::Session && path == "/ISAPI/Security/sessionLogin" {
        let text = String::from_utf8_lossy(&body);
        let expect = sha_hex(&sha_hex(&format!(
            "{}c0ffee",
            sha_hex(&format!("{USER}NaCl{PASS}"))
        )));
        d.logins += 1;
        if text.contains(&format!("<password>{expect}</password>"))
            && text.contains("<sessionID>sid1</sessionID>")
        {
            let token = format!("tok{}", d.logins);
            d.sessions.push(token.clone());
            return (
                StatusCode::OK,
                [(
                    "Set-Cookie",
                    format!("WebSession_ABC={token}; path=/; HttpOnly"),
                )],
                "<SessionLogin><statusValue>200</statusValue></SessionLogin>",
            )
                .into_response();
        }
        return (StatusCode::UNAUTHORIZED, user_check(false, 4)).into_response();
    }
    if let Some(resp) = authorise(&mut d, &method, &uri, &headers) {
        return resp;
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/ISAPI/System/deviceInfo") => (StatusCode::OK, DEVICE_INFO).into_response(),
        ("GET", "/ISAPI/ContentMgmt/Storage/extension") => (
            StatusCode::FORBIDDEN,
            "<ResponseStatus version=\"2.0\"><requestURL>/ISAPI/ContentMgmt/Storage/extension</requestURL><statusCode>4</statusCode><statusString>Invalid Operation</statusString><subStatusCode>notSupport</subStatusCode></ResponseStatus>",
        )
            .into_response(),
        ("PUT", "/ISAPI/System/reboot") => (
            StatusCode::OK,
            "<ResponseStatus><statusCode>1</statusCode><statusString>OK</statusString><subStatusCode>ok</subStatusCode></ResponseStatus>",
        )
            .into_response(),
        ("GET", "/ISAPI/System/status") => {
            // Larger than the 8 MiB limit.
            (StatusCode::OK, vec![b' '; 9 * 1024 * 1024]).into_response()
        }
        ("GET", "/ISAPI/Event/notification/alertStream") => (
            StatusCode::OK,
            [("Content-Type", "multipart/mixed; boundary=hikboundary")],
            stream_body(),
        )
            .into_response(),
        ("POST", "/ISAPI/SecurityCP/status/host") => (
            StatusCode::OK,
            r#"{"AlarmHostStatus":{"HostStatus":{"ACConnect":true},"BatteryList":[{"Battery":{"id":1,"status":"normal","percent":87}}],"CommuniStatus":{"wired":"break","wifi":"break","mobile":"normal","mobileSignal":3}}}"#,
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "").into_response(),
    }
}

async fn start(dev: Device) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(dev));
    let app = Router::new().fallback(handle).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (format!("http://{addr}"), shared)
}

fn client(base: &str, pass: &str) -> Client {
    Client::http(HttpConfig::new(base), Credentials::new(USER, pass)).expect("client")
}

#[tokio::test]
async fn digest_then_nonce_reuse_with_counting() {
    let (base, dev) = start(Device::default()).await;
    let c = client(&base, PASS);
    let info = c.device_info().await.expect("device info");
    assert_eq!(info.model.as_deref(), Some("DS-7608NXI-I2/8P/S"));
    c.reboot().await.expect("reboot");
    c.device_info().await.expect("again");
    let d = dev.lock().expect("state");
    assert_eq!(d.challenges_sent, 1, "the nonce is reused");
    assert_eq!(d.nc_seen, ["00000001", "00000002", "00000003"]);
}

#[tokio::test]
async fn stale_nonce_is_rechallenged_without_counting_as_failure() {
    let (base, dev) = start(Device {
        stale_after_success: true,
        ..Device::default()
    })
    .await;
    let c = client(&base, PASS);
    for _ in 0..3 {
        c.device_info()
            .await
            .expect("device info across stale nonces");
    }
    let d = dev.lock().expect("state");
    assert_eq!(d.failures, 0);
    assert_eq!(
        d.challenges_sent, 3,
        "one initial and two stale re-challenges"
    );
}

#[tokio::test]
async fn acs_style_nonce_rejection_without_challenge_recovers() {
    let (base, dev) = start(Device {
        acs_nonce_reuse: true,
        ..Device::default()
    })
    .await;
    let c = client(&base, PASS);
    c.device_info().await.expect("first");
    c.device_info().await.expect("second, after a bare 401");
    assert_eq!(dev.lock().expect("state").failures, 0);
}

#[tokio::test]
async fn wrong_password_is_tried_once_then_blocked() {
    let (base, dev) = start(Device::default()).await;
    let c = client(&base, "wrong");
    match c.device_info().await {
        Err(Error::Unauthorized { lock: Some(l) }) => assert_eq!(l.retries_left, Some(4)),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    let before = dev.lock().expect("state").requests;
    assert!(matches!(
        c.device_info().await,
        Err(Error::CredentialsBlocked)
    ));
    assert_eq!(
        dev.lock().expect("state").requests,
        before,
        "no request after a rejection"
    );
    assert_eq!(dev.lock().expect("state").failures, 1);
    c.set_credentials(Credentials::new(USER, PASS));
    c.device_info().await.expect("new credentials work");
}

#[tokio::test]
async fn lockout_stops_all_traffic_until_unlock() {
    let (base, dev) = start(Device {
        lock_after: 1,
        failures: 1,
        ..Device::default()
    })
    .await;
    let c = client(&base, PASS);
    match c.device_info().await {
        Err(Error::LockedOut {
            unlock_in,
            unlock_at,
        }) => {
            assert_eq!(unlock_in, Some(Duration::from_secs(1800)));
            assert!(unlock_at.is_some());
        }
        other => panic!("expected LockedOut, got {other:?}"),
    }
    let before = dev.lock().expect("state").requests;
    assert!(matches!(
        c.device_info().await,
        Err(Error::LockedOut { .. })
    ));
    assert!(matches!(c.storage().await, Err(Error::LockedOut { .. })));
    assert_eq!(dev.lock().expect("state").requests, before);
    assert!(c.locked_until().is_some());
}

#[tokio::test]
async fn basic_when_the_device_asks_for_it() {
    let (base, _dev) = start(Device {
        mode: Mode::Basic,
        ..Device::default()
    })
    .await;
    let c = client(&base, PASS);
    assert!(
        c.device_info()
            .await
            .expect("basic")
            .serial_number
            .is_some()
    );
}

#[tokio::test]
async fn not_supported_and_size_limit() {
    let (base, _dev) = start(Device::default()).await;
    let c = client(&base, PASS);
    match c.storage_extension().await {
        Err(Error::NotSupported {
            http_status: 403,
            status: Some(s),
            ..
        }) => assert!(s.is_not_supported()),
        other => panic!("expected NotSupported, got {other:?}"),
    }
    assert!(matches!(
        c.smart(1).await,
        Err(Error::NotSupported {
            http_status: 404,
            ..
        })
    ));
    assert!(matches!(
        c.system_status().await,
        Err(Error::TooLarge { .. })
    ));
}

#[tokio::test]
async fn alert_stream_over_http() {
    let (base, _dev) = start(Device::default()).await;
    let c = client(&base, PASS);
    let stream = c.alert_stream().await.expect("stream");
    let items: Vec<_> = stream.collect().await;
    let items: Vec<StreamItem> = items.into_iter().map(|i| i.expect("item")).collect();
    let events: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Event(e) => Some((e.event_type.as_str(), e.channel())),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        [("fielddetection", Some(2)), ("fielddetection", Some(2))]
    );
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, StreamItem::Heartbeat(_)))
            .count(),
        2
    );
}

#[tokio::test]
async fn ax_pro_session_login_and_relogin() {
    let (base, dev) = start(Device {
        mode: Mode::Session,
        drop_sessions_once: true,
        ..Device::default()
    })
    .await;
    let t = HttpTransport::new(HttpConfig::new(base)).expect("transport");
    let c = Client::with_session_login(t, Credentials::new(USER, PASS));
    let p = c
        .panel_status()
        .await
        .expect("panel status after a re-login");
    assert_eq!(p.link, PanelLink::Cellular);
    assert_eq!(p.mains_connected, Some(true));
    assert_eq!(p.battery_percent(), Some(87));
    assert_eq!(p.low_battery(), Some(false));
    c.panel_status().await.expect("cookie reused");
    assert_eq!(dev.lock().expect("state").logins, 2);

    let (base, _dev) = start(Device {
        mode: Mode::Session,
        ..Device::default()
    })
    .await;
    let t = HttpTransport::new(HttpConfig::new(base)).expect("transport");
    let bad = Client::with_session_login(t, Credentials::new(USER, "nope"));
    match bad.panel_status().await {
        Err(Error::Unauthorized { lock: Some(l) }) => assert_eq!(l.retries_left, Some(4)),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(matches!(
        bad.panel_status().await,
        Err(Error::CredentialsBlocked)
    ));
}

#[tokio::test]
async fn timeouts_and_unreachable_are_told_apart() {
    let (base, _dev) = start(Device {
        slow: true,
        ..Device::default()
    })
    .await;
    let mut cfg = HttpConfig::new(base);
    cfg.request_timeout = Duration::from_millis(300);
    let c = Client::http(cfg, Credentials::new(USER, PASS)).expect("client");
    assert!(matches!(c.device_info().await, Err(Error::Timeout { .. })));

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let c = client(&format!("http://{addr}"), PASS);
    match c.device_info().await {
        Err(Error::Unreachable { .. }) => {}
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(HttpTransport::new(HttpConfig::new("ftp://x")).is_err());
}
