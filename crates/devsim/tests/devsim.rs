//! Integration tests of the simulator over real HTTP on 127.0.0.1: digest auth, every fault,
//! lockout, the alert stream, sessions, the control API, seeds and fleet files, the binary.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use md5::{Digest as _, Md5};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use siteward_devsim::{
    Brand, DeviceHandle, DeviceInfo, DeviceKind, Fault, FaultKind, Fleet, FleetSpec, LinkType,
    OfflineMode, SiteSpec,
};

// ---------------------------------------------------------------------------------------
// A small digest client (RFC 7616 MD5, qop=auth) written for the tests.

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn parse_challenge(h: &str) -> HashMap<String, String> {
    let rest = h.trim().strip_prefix("Digest").expect("digest challenge");
    let mut out = HashMap::new();
    for part in rest.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    out
}

struct Client {
    http: reqwest::Client,
    base: String,
    user: String,
    pass: String,
    challenge: Option<HashMap<String, String>>,
    nc: u32,
}

struct Reply {
    status: StatusCode,
    text: String,
}

impl Client {
    fn new(d: &DeviceInfo) -> Client {
        Client::with_password(d, &d.password)
    }

    fn with_password(d: &DeviceInfo, pass: &str) -> Client {
        Client {
            http: http_client(),
            base: format!("http://{}", d.address),
            user: d.username.clone(),
            pass: pass.to_string(),
            challenge: None,
            nc: 0,
        }
    }

    fn authorization(&mut self, method: &Method, path: &str) -> Option<String> {
        let c = self.challenge.as_ref()?;
        self.nc += 1;
        let nc = format!("{:08x}", self.nc);
        let cnonce = format!("{:016x}", rand::random::<u64>());
        let realm = &c["realm"];
        let nonce = &c["nonce"];
        let ha1 = md5_hex(&format!("{}:{realm}:{}", self.user, self.pass));
        let ha2 = md5_hex(&format!("{}:{path}", method.as_str()));
        let response = md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
        Some(format!(
            "Digest username=\"{}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{path}\", response=\"{response}\", qop=auth, nc={nc}, cnonce=\"{cnonce}\"",
            self.user
        ))
    }

    async fn send_once(
        &mut self,
        method: &Method,
        path: &str,
        body: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(a) = self.authorization(method, path) {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        req.send().await.expect("request")
    }

    /// Sends with digest: answers a 401 challenge once (new or stale nonce).
    async fn open(&mut self, method: Method, path: &str, body: Option<&str>) -> reqwest::Response {
        let r = self.send_once(&method, path, body).await;
        if r.status() != StatusCode::UNAUTHORIZED {
            return r;
        }
        let Some(h) = r
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
        else {
            return r;
        };
        let fresh = parse_challenge(h);
        let had = self.challenge.is_some();
        let stale = fresh
            .get("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true"));
        if had && !stale {
            return r; // credentials were sent and refused
        }
        self.challenge = Some(fresh);
        self.nc = 0;
        self.send_once(&method, path, body).await
    }

    async fn req(&mut self, method: Method, path: &str, body: Option<&str>) -> Reply {
        let r = self.open(method, path, body).await;
        let status = r.status();
        let text = r.text().await.expect("body");
        Reply { status, text }
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.req(Method::GET, path, None).await
    }

    async fn get_ok(&mut self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.text);
        r.text
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

/// Text of the first element with this local name.
fn tag(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

fn tags(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let after = &rest[s + open.len()..];
        let Some(e) = after.find(&close) else { break };
        out.push(after[..e].trim().to_string());
        rest = &after[e..];
    }
    out
}

// ---------------------------------------------------------------------------------------
// Fleets for the tests.

fn spec(mix: &[(DeviceKind, u32)], seed: u64) -> FleetSpec {
    let mut s = FleetSpec::from_mix(mix.to_vec(), seed);
    s.sites[0].brands = vec![(Brand::Hikvision, 1)];
    s.options.heartbeat = Duration::from_millis(200);
    s.options.reboot_downtime = Duration::from_millis(300);
    s.options.ring_duration = Duration::from_secs(5);
    s
}

async fn start(mix: &[(DeviceKind, u32)]) -> Fleet {
    Fleet::start(spec(mix, 42)).await.expect("fleet starts")
}

fn first(
    fleet: &Fleet,
    kind: DeviceKind,
    pred: impl Fn(&DeviceHandle) -> bool,
) -> (DeviceInfo, DeviceHandle) {
    let h = fleet
        .handles()
        .iter()
        .find(|h| h.identity().kind == kind && pred(h))
        .expect("a matching device")
        .clone();
    (h.info(), h)
}

// ---------------------------------------------------------------------------------------
// Authentication.

#[tokio::test]
async fn digest_auth_is_required_and_checked() {
    let fleet = start(&[(DeviceKind::Ipc, 1), (DeviceKind::Nvr, 1)]).await;
    for d in fleet.devices() {
        let http = http_client();
        let url = format!("http://{}/ISAPI/System/deviceInfo", d.address);
        let r = http.get(&url).send().await.expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let www = r.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(www.starts_with("Digest "), "{www}");
        let c = parse_challenge(&www);
        assert_eq!(c.get("qop").map(String::as_str), Some("auth"));
        assert!(c.contains_key("nonce") && c.contains_key("realm"));

        // Basic is refused like V5.5+ firmware.
        let r = http
            .get(&url)
            .basic_auth(&d.username, Some(&d.password))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

        let mut ok = Client::new(&d);
        let body = ok.get_ok("/ISAPI/System/deviceInfo").await;
        assert_eq!(tag(&body, "model").as_deref(), Some(d.model.as_str()));
        assert!(
            tag(&body, "serialNumber")
                .expect("serial")
                .contains(&d.serial)
        );
        // The same nonce serves further requests with a growing nc.
        ok.get_ok("/ISAPI/System/status").await;
        assert_eq!(ok.nc, 2);

        let mut wrong = Client::with_password(&d, "not-the-password");
        let r = wrong.get("/ISAPI/System/deviceInfo").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(
            r.text.contains("<userCheck>") || r.text.contains("<userCheck "),
            "{}",
            r.text
        );
        assert!(r.text.contains("<statusValue>401</statusValue>"));
    }
}

#[tokio::test]
async fn expired_nonce_gets_a_stale_rechallenge() {
    let mut s = spec(&[(DeviceKind::Ipc, 1)], 3);
    s.options.nonce_ttl = Duration::from_millis(300);
    let fleet = Fleet::start(s).await.expect("fleet");
    let d = fleet.devices().remove(0);
    let mut c = Client::new(&d);
    c.get_ok("/ISAPI/System/deviceInfo").await;
    tokio::time::sleep(Duration::from_millis(450)).await;
    let r = c
        .send_once(&Method::GET, "/ISAPI/System/deviceInfo", None)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let www = r.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(www.contains("stale=\"TRUE\""), "{www}");
    // The client retries with the fresh nonce and gets in; a stale nonce is no failed login.
    c.get_ok("/ISAPI/System/deviceInfo").await;
}

#[tokio::test]
async fn lockout_locks_after_wrong_passwords_and_refuses_the_right_one_until_it_expires() {
    let fleet = start(&[(DeviceKind::Nvr, 1)]).await;
    let (d, h) = first(&fleet, DeviceKind::Nvr, |_| true);
    // Without the fault, wrong passwords never lock.
    for _ in 0..6 {
        let r = Client::with_password(&d, "bad")
            .get("/ISAPI/System/status")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    Client::new(&d).get_ok("/ISAPI/System/status").await;

    h.set_fault(Fault::Lockout {
        attempts: Some(3),
        duration: Some(Duration::from_secs(1)),
    })
    .expect("lockout applies");
    let r = Client::with_password(&d, "bad")
        .get("/ISAPI/System/status")
        .await;
    assert_eq!(tag(&r.text, "lockStatus").as_deref(), Some("unlock"));
    assert_eq!(tag(&r.text, "retryLoginTime").as_deref(), Some("2"));
    Client::with_password(&d, "bad")
        .get("/ISAPI/System/status")
        .await;
    let r = Client::with_password(&d, "bad")
        .get("/ISAPI/System/status")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        tag(&r.text, "lockStatus").as_deref(),
        Some("lock"),
        "{}",
        r.text
    );
    assert!(h.is_locked());

    // Locked: even the right password is refused, with the remaining lock time.
    let r = Client::new(&d).get("/ISAPI/System/status").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(tag(&r.text, "lockStatus").as_deref(), Some("lock"));
    assert_eq!(tag(&r.text, "unlockTime").as_deref(), Some("1"));
    assert_eq!(tag(&r.text, "retryLoginTime").as_deref(), Some("0"));

    tokio::time::sleep(Duration::from_millis(1100)).await;
    Client::new(&d).get_ok("/ISAPI/System/status").await;
    assert!(!h.is_locked());

    // Clearing the fault removes a lock at once.
    for _ in 0..3 {
        Client::with_password(&d, "bad")
            .get("/ISAPI/System/status")
            .await;
    }
    assert!(h.is_locked());
    h.clear_fault(FaultKind::Lockout);
    Client::new(&d).get_ok("/ISAPI/System/status").await;
}

// ---------------------------------------------------------------------------------------
// Documents and quirks.

#[tokio::test]
async fn paths_are_case_insensitive_and_unsupported_endpoints_say_not_support() {
    let fleet = start(&[(DeviceKind::Ipc, 1), (DeviceKind::ThirdParty, 1)]).await;
    let (d, _) = first(&fleet, DeviceKind::Ipc, |_| true);
    let mut c = Client::new(&d);
    let body = c.get_ok("/isapi/system/deviceinfo").await;
    assert!(body.contains("xmlns=\"http://www.hikvision.com/ver20/XMLSchema\""));
    assert_eq!(tag(&body, "deviceType").as_deref(), Some("IPCamera"));

    let r = c.get("/ISAPI/ContentMgmt/InputProxy/channels").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(tag(&r.text, "subStatusCode").as_deref(), Some("notSupport"));
    let r = c.get("/ISAPI/NoSuchArea/thing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(tag(&r.text, "subStatusCode").as_deref(), Some("notSupport"));

    // Camera storage: a ver10 hddList inside a ver20 storage document.
    let storage = c.get_ok("/ISAPI/ContentMgmt/Storage").await;
    assert!(
        storage.contains(
            "<hddList version=\"1.0\" xmlns=\"http://www.hikvision.com/ver10/XMLSchema\""
        )
    );
    let triggers = c.get_ok("/ISAPI/Event/triggers").await;
    assert!(tags(&triggers, "eventType").contains(&"VMD".to_string()));
    assert!(
        tags(&triggers, "notificationMethod")
            .iter()
            .all(|m| m == "center")
    );
    let streams = c.get_ok("/ISAPI/Streaming/channels").await;
    assert_eq!(tags(&streams, "id")[..3], ["101", "102", "103"]);
    let hosts = c.get_ok("/ISAPI/Event/notification/httpHosts").await;
    assert_eq!(tags(&hosts, "id").len(), 3);
    let nets = c.get_ok("/ISAPI/System/Network/interfaces").await;
    assert_eq!(tags(&nets, "id"), ["1"]);
    assert!(nets.contains(&d.address.ip().to_string()));

    let (tp, _) = first(&fleet, DeviceKind::ThirdParty, |_| true);
    let mut c = Client::new(&tp);
    let body = c.get_ok("/ISAPI/System/deviceInfo").await;
    assert_eq!(tag(&body, "manufacturer").as_deref(), Some("AXIS"));
    assert!(!body.contains("hikvision.com"));
    assert_eq!(
        c.get("/ISAPI/ContentMgmt/Storage").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/ISAPI/Event/notification/alertStream").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn http_hosts_can_be_configured() {
    let fleet = start(&[(DeviceKind::Nvr, 1)]).await;
    let (d, _) = first(&fleet, DeviceKind::Nvr, |_| true);
    let mut c = Client::new(&d);
    let body = "<HttpHostNotification><id>1</id><url>/api/hik</url><protocolType>HTTP</protocolType><parameterFormatType>XML</parameterFormatType><addressingFormatType>ipaddress</addressingFormatType><ipAddress>127.0.0.9</ipAddress><portNo>8123</portNo></HttpHostNotification>";
    let r = c
        .req(
            Method::PUT,
            "/ISAPI/Event/notification/httpHosts/1",
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(tag(&r.text, "statusCode").as_deref(), Some("1"));
    let hosts = c.get_ok("/ISAPI/Event/notification/httpHosts").await;
    assert_eq!(tag(&hosts, "ipAddress").as_deref(), Some("127.0.0.9"));
    assert_eq!(tag(&hosts, "portNo").as_deref(), Some("8123"));
    assert_eq!(tag(&hosts, "url").as_deref(), Some("/api/hik"));
}

// ---------------------------------------------------------------------------------------
// Faults.

#[tokio::test]
async fn storage_faults_change_the_documents_and_clearing_restores_them() {
    let fleet = start(&[(DeviceKind::Nvr, 1)]).await;
    let (d, h) = first(&fleet, DeviceKind::Nvr, |_| true);
    let mut c = Client::new(&d);
    let healthy_storage = c.get_ok("/ISAPI/ContentMgmt/Storage").await;
    let healthy_hd: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/System/workingstatus/hdStatus?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(tag(&healthy_storage, "status").as_deref(), Some("ok"));
    let free: u64 = tag(&healthy_storage, "freeSpace")
        .expect("free")
        .parse()
        .expect("num");
    assert!(free > 0);
    assert_eq!(healthy_hd["HDStatus"][0]["status"], 0);
    assert_eq!(
        tag(
            &c.get_ok("/ISAPI/ContentMgmt/Storage/extension").await,
            "LoopEnable"
        )
        .as_deref(),
        Some("true")
    );

    h.set_fault(Fault::HddError).expect("applies");
    let s = c.get_ok("/ISAPI/ContentMgmt/Storage").await;
    assert_eq!(tag(&s, "status").as_deref(), Some("error"));
    let hd: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/System/workingstatus/hdStatus?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(hd["HDStatus"][0]["status"], 2);
    assert_eq!(
        tag(
            &c.get_ok("/ISAPI/ContentMgmt/Storage/hdd/1").await,
            "status"
        )
        .as_deref(),
        Some("error")
    );
    h.clear_fault(FaultKind::HddError);
    assert_eq!(
        c.get_ok("/ISAPI/ContentMgmt/Storage").await,
        healthy_storage
    );

    h.set_fault(Fault::HddUnformatted).expect("applies");
    let s = c.get_ok("/ISAPI/ContentMgmt/Storage/hdd").await;
    assert_eq!(tag(&s, "status").as_deref(), Some("unformatted"));
    assert_eq!(tag(&s, "freeSpace").as_deref(), Some("0"));
    h.clear_fault(FaultKind::HddUnformatted);

    h.set_fault(Fault::HddFull).expect("applies");
    let s = c.get_ok("/ISAPI/ContentMgmt/Storage").await;
    assert!(tags(&s, "freeSpace").iter().all(|f| f == "0"));
    assert_eq!(tag(&s, "status").as_deref(), Some("ok"));
    assert_eq!(
        tag(
            &c.get_ok("/ISAPI/ContentMgmt/Storage/extension").await,
            "LoopEnable"
        )
        .as_deref(),
        Some("false")
    );
    h.clear_fault(FaultKind::HddFull);

    h.set_fault(Fault::RecordOverwritten).expect("applies");
    let s = c.get_ok("/ISAPI/ContentMgmt/Storage").await;
    assert!(tags(&s, "freeSpace").iter().all(|f| f == "0"));
    assert_eq!(
        tag(
            &c.get_ok("/ISAPI/ContentMgmt/Storage/extension").await,
            "LoopEnable"
        )
        .as_deref(),
        Some("true")
    );
    h.clear_fault(FaultKind::RecordOverwritten);
    assert_eq!(
        c.get_ok("/ISAPI/ContentMgmt/Storage").await,
        healthy_storage
    );

    let smart = c
        .get_ok("/ISAPI/ContentMgmt/Storage/hdd/1/SMARTTest/status")
        .await;
    assert_eq!(tag(&smart, "selfEvaluaingStatus").as_deref(), Some("ok"));
    assert_eq!(
        tag(&smart, "allEvaluaingStatus").as_deref(),
        Some("functional")
    );
    h.set_fault(Fault::SmartWarning).expect("applies");
    let bad = c
        .get_ok("/ISAPI/ContentMgmt/Storage/hdd/1/SMARTTest/status")
        .await;
    assert_eq!(tag(&bad, "selfEvaluaingStatus").as_deref(), Some("error"));
    assert_eq!(tag(&bad, "allEvaluaingStatus").as_deref(), Some("fault"));
    assert!(
        tag(&bad, "temprature")
            .expect("temp")
            .parse::<u32>()
            .expect("num")
            > 55
    );
    h.clear_fault(FaultKind::SmartWarning);
    assert_eq!(
        c.get_ok("/ISAPI/ContentMgmt/Storage/hdd/1/SMARTTest/status")
            .await,
        smart
    );

    // Faults that make no sense for the device are refused.
    assert!(h.set_fault(Fault::SdMissing).is_err());
    assert!(h.set_fault(Fault::LowBattery { level: 5 }).is_err());
}

#[tokio::test]
async fn channel_offline_shows_on_nvr_channel_status_and_dvr_inputs() {
    let fleet = start(&[(DeviceKind::Nvr, 1), (DeviceKind::Dvr, 1)]).await;
    let (d, h) = first(&fleet, DeviceKind::Nvr, |_| true);
    let mut c = Client::new(&d);
    let list = c.get_ok("/ISAPI/ContentMgmt/InputProxy/channels").await;
    assert!(tags(&list, "id").len() >= 2);
    let before = c
        .get_ok("/ISAPI/ContentMgmt/InputProxy/channels/status")
        .await;
    assert!(tags(&before, "online").iter().all(|o| o == "true"));
    h.set_fault(Fault::ChannelOffline { channel: 2 })
        .expect("applies");
    let after = c
        .get_ok("/ISAPI/ContentMgmt/InputProxy/channels/status")
        .await;
    let online = tags(&after, "online");
    assert_eq!(online[0], "true");
    assert_eq!(online[1], "false");
    let one = c
        .get_ok("/ISAPI/ContentMgmt/InputProxy/channels/2/status")
        .await;
    assert_eq!(
        tag(&one, "chanDetectResult").as_deref(),
        Some("netUnreachable")
    );
    assert!(h.set_fault(Fault::ChannelOffline { channel: 99 }).is_err());
    h.clear_fault(FaultKind::ChannelOffline);
    assert_eq!(
        c.get_ok("/ISAPI/ContentMgmt/InputProxy/channels/status")
            .await,
        before
    );

    let (d, h) = first(&fleet, DeviceKind::Dvr, |_| true);
    let mut c = Client::new(&d);
    h.set_fault(Fault::ChannelOffline { channel: 1 })
        .expect("applies");
    let inputs = c.get_ok("/ISAPI/System/Video/inputs/channels").await;
    assert_eq!(tags(&inputs, "resDesc")[0], "NO VIDEO");
    h.clear_fault(FaultKind::ChannelOffline);
    let inputs = c.get_ok("/ISAPI/System/Video/inputs/channels").await;
    assert!(tags(&inputs, "resDesc").iter().all(|r| r != "NO VIDEO"));
}

#[tokio::test]
async fn sd_missing_link_and_battery_faults() {
    let fleet = start(&[(DeviceKind::Ipc, 4), (DeviceKind::ControlPanel, 1)]).await;
    let (d, h) = first(&fleet, DeviceKind::Ipc, |h| h.identity().model.drives > 0);
    let mut c = Client::new(&d);
    let with_card = c.get_ok("/ISAPI/ContentMgmt/Storage").await;
    assert_eq!(tag(&with_card, "hddName").as_deref(), Some("SD1"));
    h.set_fault(Fault::SdMissing).expect("applies");
    let without = c.get_ok("/ISAPI/ContentMgmt/Storage").await;
    assert!(!without.contains("<hdd>"), "{without}");
    h.clear_fault(FaultKind::SdMissing);
    assert_eq!(c.get_ok("/ISAPI/ContentMgmt/Storage").await, with_card);

    h.set_fault(Fault::Link(LinkType::Wifi)).expect("applies");
    let nets = c.get_ok("/ISAPI/System/Network/interfaces").await;
    assert_eq!(tags(&nets, "id"), ["1", "2"]);
    assert!(nets.contains("<Wireless>"));
    h.clear_fault(FaultKind::Link);
    assert!(
        !c.get_ok("/ISAPI/System/Network/interfaces")
            .await
            .contains("<Wireless>")
    );

    let (p, ph) = first(&fleet, DeviceKind::ControlPanel, |_| true);
    let mut c = Client::new(&p);
    let b: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/SecurityCP/status/batteries?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(b["BatteryList"][0]["Battery"]["percent"], 100);
    ph.set_fault(Fault::LowBattery { level: 7 })
        .expect("applies");
    let b: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/SecurityCP/status/batteries?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(b["BatteryList"][0]["Battery"]["percent"], 7);
    let comm: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/SecurityCP/status/communication?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(comm["CommuniStatus"]["wired"], "normal");
    ph.set_fault(Fault::Link(LinkType::Cellular))
        .expect("applies");
    let host: Value = serde_json::from_str(
        &c.req(
            Method::POST,
            "/ISAPI/SecurityCP/status/host?format=json",
            Some("{}"),
        )
        .await
        .text,
    )
    .expect("json");
    let comm = &host["AlarmHostStatus"]["CommuniStatus"];
    assert_eq!(comm["wired"], "break");
    assert_eq!(comm["mobile"], "normal");
    assert_eq!(host["AlarmHostStatus"]["HostStatus"]["faultNum"], 1);
    ph.clear_fault(FaultKind::LowBattery);
    ph.clear_fault(FaultKind::Link);
    let b: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/SecurityCP/status/batteries?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(b["BatteryList"][0]["Battery"]["percent"], 100);
}

#[tokio::test]
async fn offline_refuses_or_goes_silent_and_slow_delays() {
    let fleet = start(&[(DeviceKind::Ipc, 1)]).await;
    let (d, h) = first(&fleet, DeviceKind::Ipc, |_| true);
    let mut c = Client::new(&d);
    c.get_ok("/ISAPI/System/deviceInfo").await;

    h.set_fault(Fault::Offline(OfflineMode::Refused))
        .expect("applies");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = tokio::net::TcpStream::connect(d.address).await;
    assert!(err.is_err(), "port should be closed");
    let r = http_client()
        .get(format!("http://{}/ISAPI/System/deviceInfo", d.address))
        .send()
        .await;
    assert!(r.is_err());
    h.clear_fault(FaultKind::Offline);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if tokio::net::TcpStream::connect(d.address).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "port did not come back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Client::new(&d).get_ok("/ISAPI/System/deviceInfo").await;

    h.set_fault(Fault::Offline(OfflineMode::NoAnswer))
        .expect("applies");
    let quick = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let r = quick
        .get(format!("http://{}/ISAPI/System/deviceInfo", d.address))
        .send()
        .await;
    assert!(r.expect_err("no answer").is_timeout());
    h.clear_fault(FaultKind::Offline);
    Client::new(&d).get_ok("/ISAPI/System/deviceInfo").await;

    // A dropped link (`link: disconnected`) is no answer as well.
    h.set_fault(Fault::Link(LinkType::Disconnected))
        .expect("applies");
    let r = quick
        .get(format!("http://{}/ISAPI/System/deviceInfo", d.address))
        .send()
        .await;
    assert!(r.is_err());
    h.clear_fault(FaultKind::Link);

    h.set_fault(Fault::Slow { ms: 300 }).expect("applies");
    let t = Instant::now();
    Client::new(&d).get_ok("/ISAPI/System/deviceInfo").await;
    assert!(
        t.elapsed() >= Duration::from_millis(600),
        "two round trips of 300 ms"
    );
    h.clear_fault(FaultKind::Slow);
    let t = Instant::now();
    Client::new(&d).get_ok("/ISAPI/System/deviceInfo").await;
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn reboot_takes_the_device_away_briefly_and_restarts_uptime() {
    let fleet = start(&[(DeviceKind::Nvr, 1)]).await;
    let (d, _) = first(&fleet, DeviceKind::Nvr, |_| true);
    let mut c = Client::new(&d);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let up: u64 = tag(&c.get_ok("/ISAPI/System/status").await, "deviceUpTime")
        .expect("uptime")
        .parse()
        .expect("num");
    assert!(up >= 1);
    let r = c.req(Method::PUT, "/ISAPI/System/reboot", None).await;
    assert_eq!(tag(&r.text, "statusString").as_deref(), Some("OK"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let quick = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    assert!(
        quick
            .get(format!("http://{}/ISAPI/System/status", d.address))
            .send()
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let up: u64 = tag(
        &Client::new(&d).get_ok("/ISAPI/System/status").await,
        "deviceUpTime",
    )
    .expect("uptime")
    .parse()
    .expect("num");
    assert_eq!(up, 0);
}

// ---------------------------------------------------------------------------------------
// Alert stream.

/// Reads the multipart stream until `want` parts were collected or the time is up.
async fn read_parts(resp: &mut reqwest::Response, want: usize, limit: Duration) -> Vec<String> {
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let parts: Vec<String> = buf
            .split("\r\n\r\n")
            .skip(1)
            .map(|p| {
                p.split("\r\n--")
                    .next()
                    .unwrap_or("")
                    .trim_end()
                    .to_string()
            })
            .filter(|p| p.ends_with("</EventNotificationAlert>") || p.ends_with('}'))
            .collect();
        if parts.len() >= want {
            return parts;
        }
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => buf.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return parts,
        }
    }
}

#[tokio::test]
async fn alert_stream_delivers_events_heartbeats_and_fault_events() {
    let fleet = start(&[(DeviceKind::Ipc, 1), (DeviceKind::Nvr, 2)]).await;
    let (d, h) = first(&fleet, DeviceKind::Ipc, |_| true);
    let mut c = Client::new(&d);
    let mut resp = c
        .open(Method::GET, "/ISAPI/Event/notification/alertStream", None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(ct, "multipart/mixed; boundary=boundary");
    // Wait for the stream to be subscribed before emitting.
    let deadline = Instant::now() + Duration::from_secs(2);
    while h.stream_count() == 0 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.emit("motion".parse().expect("kind"), None, None), Ok(1));
    let parts = read_parts(&mut resp, 2, Duration::from_secs(3)).await;
    assert!(parts.len() >= 2, "{parts:?}");
    assert_eq!(tag(&parts[0], "eventType").as_deref(), Some("VMD"));
    assert_eq!(tag(&parts[0], "eventState").as_deref(), Some("active"));
    assert_eq!(tag(&parts[0], "channelID").as_deref(), Some("1"));
    assert_eq!(
        tag(&parts[0], "macAddress"),
        Some(h.identity().mac_string())
    );
    // Heartbeat: videoloss inactive with activePostCount 0.
    assert_eq!(tag(&parts[1], "eventType").as_deref(), Some("videoloss"));
    assert_eq!(tag(&parts[1], "eventState").as_deref(), Some("inactive"));
    assert_eq!(tag(&parts[1], "activePostCount").as_deref(), Some("0"));
    // Each element on its own line (line-based parsers such as pyHik depend on it).
    assert!(parts[0].lines().count() > 10);

    // Faults that real devices announce: hdd_error -> diskerror.
    h.set_fault(Fault::HddError).expect("camera has an SD card");
    let parts = read_parts(&mut resp, 1, Duration::from_secs(3)).await;
    assert!(
        parts
            .iter()
            .any(|p| tag(p, "eventType").as_deref() == Some("diskerror")),
        "{parts:?}"
    );

    // Going offline ends the stream.
    h.set_fault(Fault::Offline(OfflineMode::Refused))
        .expect("applies");
    let end = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(Some(_)) = resp.chunk().await {}
    })
    .await;
    assert!(
        end.is_ok(),
        "stream should end when the device goes offline"
    );
    h.clear_fault(FaultKind::Offline);

    // NVR channel numbering: dynChannelID = channel; with the older-firmware quirk on, NVRs
    // of older firmware send psia parts with channelID = 32 + channel.
    let mut quirky = spec(&[(DeviceKind::Nvr, 6)], 5);
    quirky.options.nvr_psia_quirk = true;
    let quirky = Fleet::start(quirky).await.expect("fleet");
    let mut psia_seen = false;
    let nvrs = fleet.handles().iter().chain(quirky.handles());
    for nvr in nvrs.filter(|h| h.identity().kind == DeviceKind::Nvr) {
        let mut c = Client::new(&nvr.info());
        let mut resp = c
            .open(Method::GET, "/ISAPI/Event/notification/alertStream", None)
            .await;
        while nvr.stream_count() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        nvr.set_fault(Fault::ChannelOffline { channel: 2 })
            .expect("applies");
        let parts = read_parts(&mut resp, 1, Duration::from_secs(3)).await;
        let p = &parts[0];
        assert_eq!(tag(p, "eventType").as_deref(), Some("videoloss"));
        assert_eq!(tag(p, "eventState").as_deref(), Some("active"));
        if p.contains("urn:psialliance-org") {
            psia_seen = true;
            assert_eq!(tag(p, "channelID").as_deref(), Some("34"));
        } else {
            assert!(p.contains("xmlns=\"http://www.hikvision.com/ver20/XMLSchema\""));
            assert_eq!(tag(p, "dynChannelID").as_deref(), Some("2"));
            assert_eq!(tag(p, "channelID").as_deref(), Some("2"));
        }
    }
    assert!(psia_seen, "the quirky fleet has an NVR of older firmware");
}

#[tokio::test]
async fn access_control_intercom_and_doorbell_events() {
    let fleet = start(&[(DeviceKind::AccessControl, 1), (DeviceKind::Doorbell, 1)]).await;
    let (d, h) = first(&fleet, DeviceKind::AccessControl, |_| true);
    let mut c = Client::new(&d);
    let mut resp = c
        .open(Method::GET, "/ISAPI/Event/notification/alertStream", None)
        .await;
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .contains("MIME_boundary")
    );
    while h.stream_count() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.emit("door_opened".parse().expect("kind"), None, None)
        .expect("applies");
    let parts = read_parts(&mut resp, 1, Duration::from_secs(3)).await;
    let ev: Value = serde_json::from_str(&parts[0]).expect("json part");
    assert_eq!(ev["eventType"], "AccessControllerEvent");
    assert_eq!(ev["AccessControllerEvent"]["majorEventType"], 5);
    assert_eq!(ev["AccessControllerEvent"]["subEventType"], 0x19);
    drop(resp);
    let ws: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/AccessControl/AcsWorkStatus?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(ws["AcsWorkStatus"]["magneticStatus"][0], 1);
    let r = c
        .req(
            Method::POST,
            "/ISAPI/AccessControl/AcsEvent?format=json",
            Some(r#"{"AcsEventCond":{"searchID":"1","searchResultPosition":0,"maxResults":30,"major":0,"minor":0}}"#),
        )
        .await;
    let found: Value = serde_json::from_str(&r.text).expect("json");
    assert_eq!(found["AcsEvent"]["totalMatches"], 1);
    assert_eq!(found["AcsEvent"]["InfoList"][0]["minor"], 0x19);
    assert!(
        h.emit("zone_alarm".parse().expect("kind"), None, None)
            .is_err()
    );

    let (b, bh) = first(&fleet, DeviceKind::Doorbell, |_| true);
    let mut c = Client::new(&b);
    let idle: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/VideoIntercom/callStatus?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(idle["CallStatus"]["status"], "idle");
    bh.emit("doorbell_pressed".parse().expect("kind"), None, None)
        .expect("applies");
    let ring: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/VideoIntercom/callStatus?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(ring["CallStatus"]["status"], "ring");
    let r = c
        .req(
            Method::PUT,
            "/ISAPI/VideoIntercom/callSignal?format=json",
            Some(r#"{"CallSignal":{"cmdType":"answer"}}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let on: Value = serde_json::from_str(
        &c.get_ok("/ISAPI/VideoIntercom/callStatus?format=json")
            .await,
    )
    .expect("json");
    assert_eq!(on["CallStatus"]["status"], "onCall");
}

#[tokio::test]
async fn ax_pro_session_login_zones_and_arming() {
    let fleet = start(&[(DeviceKind::ControlPanel, 1)]).await;
    let (d, h) = first(&fleet, DeviceKind::ControlPanel, |_| true);
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let base = format!("http://{}", d.address);
    let cap = http
        .get(format!(
            "{base}/ISAPI/Security/sessionLogin/capabilities?username=admin"
        ))
        .send()
        .await
        .expect("caps")
        .text()
        .await
        .expect("text");
    let (sid, challenge, salt) = (
        tag(&cap, "sessionID").expect("sid"),
        tag(&cap, "challenge").expect("challenge"),
        tag(&cap, "salt").expect("salt"),
    );
    let iterations: u32 = tag(&cap, "iterations").expect("it").parse().expect("num");
    assert_eq!(tag(&cap, "isIrreversible").as_deref(), Some("true"));
    // isapi.md §5.3, irreversible with sessionIDVersion 2.
    let mut p = sha256_hex(&format!("admin{salt}{}", d.password));
    p = sha256_hex(&format!("{p}{challenge}"));
    for _ in 2..iterations {
        p = sha256_hex(&p);
    }
    let login = format!(
        "<SessionLogin><userName>admin</userName><password>{p}</password><sessionID>{sid}</sessionID><isSessionIDValidLongTerm>false</isSessionIDValidLongTerm><sessionIDVersion>2</sessionIDVersion></SessionLogin>"
    );
    let r = http
        .post(format!(
            "{base}/ISAPI/Security/sessionLogin?timeStamp=1700000000"
        ))
        .body(login)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    assert!(cookie.starts_with("WebSession"));

    let zones = |http: reqwest::Client, cookie: String| {
        let url = format!("{base}/ISAPI/SecurityCP/status/zones?format=json");
        async move {
            let r = http
                .get(url)
                .header("Cookie", cookie)
                .send()
                .await
                .expect("zones");
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.expect("json")
        }
    };
    let z = zones(http.clone(), cookie.clone()).await;
    assert_eq!(z["ZoneList"].as_array().map(Vec::len), Some(8));
    assert_eq!(z["ZoneList"][3]["Zone"]["status"], "online");
    h.emit("zone_alarm".parse().expect("kind"), None, Some(3))
        .expect("applies");
    let z = zones(http.clone(), cookie.clone()).await;
    assert_eq!(z["ZoneList"][3]["Zone"]["alarm"], true);
    assert_eq!(z["ZoneList"][3]["Zone"]["status"], "trigger");
    assert!(
        h.emit("zone_alarm".parse().expect("kind"), None, Some(8))
            .is_err()
    );

    let r = http
        .put(format!(
            "{base}/ISAPI/SecurityCP/control/arm/1?ways=away&format=json"
        ))
        .header("Cookie", cookie.clone())
        .send()
        .await
        .expect("arm");
    assert_eq!(r.status(), StatusCode::OK);
    let subs: Value = http
        .get(format!(
            "{base}/ISAPI/SecurityCP/status/subSystems?format=json"
        ))
        .header("Cookie", cookie.clone())
        .send()
        .await
        .expect("subs")
        .json()
        .await
        .expect("json");
    assert_eq!(subs["SubSysList"][0]["SubSys"]["arming"], "away");

    // A wrong session password is refused; digest works on the panel too.
    let cap = http
        .get(format!(
            "{base}/ISAPI/Security/sessionLogin/capabilities?username=admin"
        ))
        .send()
        .await
        .expect("caps")
        .text()
        .await
        .expect("text");
    let bad = format!(
        "<SessionLogin><userName>admin</userName><password>{}</password><sessionID>{}</sessionID></SessionLogin>",
        "0".repeat(64),
        tag(&cap, "sessionID").expect("sid")
    );
    let r = http
        .post(format!("{base}/ISAPI/Security/sessionLogin"))
        .body(bad)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    Client::new(&d)
        .get_ok("/ISAPI/SecurityCP/status/exDevStatus?format=json")
        .await;
}

// ---------------------------------------------------------------------------------------
// Control API, seeds, fleet files, the binary.

#[tokio::test]
async fn control_api_lists_sets_clears_and_emits() {
    let fleet = start(&[(DeviceKind::Nvr, 1), (DeviceKind::Ipc, 1)]).await;
    let control = fleet
        .serve_control("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("control");
    let http = http_client();
    let base = format!("http://{control}");
    let list: Vec<Value> = http
        .get(format!("{base}/devices"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list.len(), 2);
    for (entry, d) in list.iter().zip(fleet.devices()) {
        assert_eq!(entry["serial"], d.serial.as_str());
        assert_eq!(entry["type"], d.kind.as_str());
        assert_eq!(entry["address"], d.address.to_string());
        for k in [
            "brand",
            "model",
            "username",
            "password",
            "verification_code",
        ] {
            assert!(entry[k].is_string(), "{k}");
        }
    }
    let (nvr, h) = first(&fleet, DeviceKind::Nvr, |_| true);
    let url = |p: &str| format!("{base}/devices/{}/{p}", nvr.serial);

    let r = http
        .put(url("faults/channel_offline"))
        .json(&json!({"channel": 2}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(h.faults(), vec![Fault::ChannelOffline { channel: 2 }]);
    let r = http
        .put(url("faults/hdd_full"))
        .send()
        .await
        .expect("put without body");
    assert_eq!(r.status(), StatusCode::OK);
    let one: Value = r.json().await.expect("json");
    assert_eq!(one["faults"].as_array().map(Vec::len), Some(2));
    let mut c = Client::new(&nvr);
    assert_eq!(
        tag(&c.get_ok("/ISAPI/ContentMgmt/Storage").await, "freeSpace").as_deref(),
        Some("0")
    );

    assert_eq!(
        http.delete(url("faults/hdd_full"))
            .send()
            .await
            .expect("del")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        http.delete(url("faults/channel_offline"))
            .send()
            .await
            .expect("del")
            .status(),
        StatusCode::OK
    );
    assert!(h.faults().is_empty());

    let r = http
        .put(url("faults/slow"))
        .json(&json!({"ms": 1}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(h.faults(), vec![Fault::Slow { ms: 1 }]);
    http.delete(url("faults/slow")).send().await.expect("del");

    // Errors: unknown device 404, unknown fault 400, bad params 400, not applicable 422.
    let s = |r: reqwest::Response| r.status();
    assert_eq!(
        s(http
            .put(format!("{base}/devices/NOPE/faults/hdd_full"))
            .send()
            .await
            .expect("r")),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s(http.put(url("faults/melted")).send().await.expect("r")),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s(http
            .put(url("faults/link"))
            .json(&json!({"type": "pigeon"}))
            .send()
            .await
            .expect("r")),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s(http
            .put(url("faults/low_battery"))
            .json(&json!({"level": 5}))
            .send()
            .await
            .expect("r")),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Events.
    let mut resp = c
        .open(Method::GET, "/ISAPI/Event/notification/alertStream", None)
        .await;
    while h.stream_count() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = http
        .post(url("events"))
        .json(&json!({"event_type": "line_crossing", "channel": 1}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["delivered_to_streams"], 1);
    let parts = read_parts(&mut resp, 1, Duration::from_secs(3)).await;
    assert_eq!(
        tag(&parts[0], "eventType").as_deref(),
        Some("linedetection")
    );
    assert_eq!(
        s(http
            .post(url("events"))
            .json(&json!({"event_type": "doorbell_pressed"}))
            .send()
            .await
            .expect("r")),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        s(http
            .post(url("events"))
            .json(&json!({"event_type": "motion", "channel": 77}))
            .send()
            .await
            .expect("r")),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        s(http
            .post(url("events"))
            .json(&json!({"event_type": "volcano"}))
            .send()
            .await
            .expect("r")),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn same_seed_same_fleet() {
    let mix = [
        (DeviceKind::Nvr, 2),
        (DeviceKind::Ipc, 3),
        (DeviceKind::Dvr, 1),
        (DeviceKind::ControlPanel, 1),
        (DeviceKind::AccessControl, 1),
        (DeviceKind::VideoIntercom, 1),
        (DeviceKind::Doorbell, 1),
        (DeviceKind::ThirdParty, 1),
    ];
    let strip = |v: Vec<DeviceInfo>| {
        v.into_iter()
            .map(|d| {
                (
                    d.serial,
                    d.kind,
                    d.brand,
                    d.model,
                    d.password,
                    d.verification_code,
                )
            })
            .collect::<Vec<_>>()
    };
    let a = Fleet::start(FleetSpec::from_mix(mix.to_vec(), 7))
        .await
        .expect("a");
    let b = Fleet::start(FleetSpec::from_mix(mix.to_vec(), 7))
        .await
        .expect("b");
    let c = Fleet::start(FleetSpec::from_mix(mix.to_vec(), 8))
        .await
        .expect("c");
    assert_eq!(a.len(), 11);
    assert_ne!(a.devices()[0].address, b.devices()[0].address);
    assert_eq!(strip(a.devices()), strip(b.devices()));
    assert_ne!(strip(a.devices()), strip(c.devices()));
    let tp = a
        .devices()
        .into_iter()
        .find(|d| d.kind == DeviceKind::ThirdParty)
        .expect("third party");
    assert_eq!(tp.brand, "Axis");
}

#[tokio::test]
async fn fleet_files_parse_and_start() {
    let dir = std::env::temp_dir().join(format!("devsim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let toml = dir.join("fleet.toml");
    std::fs::write(
        &toml,
        r#"
seed = 11
heartbeat_seconds = 2
[[sites]]
name = "Depot"
mix = { nvr = 1, ipc = 2 }
brands = { hilook = 1 }
[[sites]]
name = "Shop"
mix = { doorbell = 1, control_panel = 1 }
repeat = 2
password = "Demo12345"
"#,
    )
    .expect("write");
    let yaml = dir.join("fleet.yaml");
    std::fs::write(
        &yaml,
        "seed: 11\nheartbeat_seconds: 2\nsites:\n  - name: Depot\n    mix: {nvr: 1, ipc: 2}\n    brands: {hilook: 1}\n  - name: Shop\n    mix: {doorbell: 1, control_panel: 1}\n    repeat: 2\n    password: Demo12345\n",
    )
    .expect("write");
    let a = FleetSpec::from_file(&toml).expect("toml");
    let b = FleetSpec::from_file(&yaml).expect("yaml");
    assert_eq!(a, b);
    assert_eq!(a.device_count(), 7);
    assert_eq!(
        a.sites[1],
        SiteSpec {
            name: Some("Shop".into()),
            mix: vec![(DeviceKind::ControlPanel, 1), (DeviceKind::Doorbell, 1)],
            brands: vec![],
            repeat: 2,
            password: Some("Demo12345".into()),
            link: vec![],
        }
    );
    let fleet = Fleet::start(a).await.expect("fleet");
    let devices = fleet.devices();
    assert_eq!(devices.len(), 7);
    let depot: Vec<_> = devices
        .iter()
        .filter(|d| d.site.as_deref() == Some("Depot"))
        .collect();
    assert_eq!(depot.len(), 3);
    assert!(depot.iter().all(|d| d.brand == "HiLook"));
    assert!(depot.iter().any(|d| d.model.starts_with("NVR-")));
    assert_eq!(
        devices
            .iter()
            .filter(|d| d.site.as_deref() == Some("Shop-2"))
            .count(),
        2
    );
    assert!(
        devices
            .iter()
            .filter(|d| d.site.as_deref().is_some_and(|s| s.starts_with("Shop")))
            .all(|d| d.password == "Demo12345")
    );
    let shop = devices
        .iter()
        .find(|d| d.kind == DeviceKind::Doorbell)
        .expect("doorbell");
    Client::new(shop).get_ok("/ISAPI/System/deviceInfo").await;
    assert!(FleetSpec::from_file(&dir.join("missing.toml")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_binary_prints_the_device_list_and_serves_the_control_api() {
    use tokio::io::AsyncBufReadExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("probe port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_siteward-devsim"))
        .args([
            "--mix",
            "nvr=1,ipc=2,third_party=1",
            "--seed",
            "7",
            "--control",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("in time")
        .expect("read")
        .expect("a line");
    let list: Vec<DeviceInfo> = serde_json::from_str(&first).expect("device list JSON");
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|d| d.address.ip().is_loopback()));
    let raw: Vec<Value> = serde_json::from_str(&first).expect("json");
    let keys: Vec<&str> = raw[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "serial",
        "type",
        "brand",
        "model",
        "address",
        "username",
        "password",
        "verification_code",
    ] {
        assert!(keys.contains(&k), "{k} missing");
    }
    let control: Vec<Value> = http_client()
        .get(format!("http://127.0.0.1:{port}/devices"))
        .send()
        .await
        .expect("control")
        .json()
        .await
        .expect("json");
    assert_eq!(control.len(), 4);
    Client::new(&list[0])
        .get_ok("/ISAPI/System/deviceInfo")
        .await;
    child.kill().await.expect("kill");
}

// ---------------------------------------------------------------------------------------
// Third-party clients, unchanged: pyHik and hikvisionapi (Python) against the simulator.

/// A venv under the cargo target dir with the two client libraries (installed from PyPI on
/// first use). Panics with a clear message when python3 or the install is unavailable:
/// this test never skips silently.
async fn python_with_clients() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("devsim-compat-venv");
    let python = venv.join("bin").join("python");
    let has_libs = |python: std::path::PathBuf| async move {
        tokio::process::Command::new(python)
            .args(["-c", "import pyhik, hikvisionapi"])
            .output()
            .await
            .is_ok_and(|o| o.status.success())
    };
    if has_libs(python.clone()).await {
        return python;
    }
    let version = tokio::process::Command::new("python3")
        .arg("--version")
        .output()
        .await;
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "python3 is required for the pyHik/hikvisionapi compatibility test (install python3 and python3-venv)"
    );
    let out = tokio::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .await
        .expect("run python3 -m venv");
    assert!(
        out.status.success(),
        "python3 -m venv failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tokio::process::Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "pyhik==0.4.8",
            "hikvisionapi==0.3.2",
        ])
        .output()
        .await
        .expect("run pip");
    assert!(
        out.status.success(),
        "pip install pyhik hikvisionapi failed (PyPI needed once): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        has_libs(python.clone()).await,
        "pyhik/hikvisionapi not importable after install"
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyhik_and_hikvisionapi_work_unchanged() {
    let python = python_with_clients().await;
    let mut s = spec(&[(DeviceKind::Ipc, 1), (DeviceKind::Nvr, 2)], 3);
    s.options.heartbeat = Duration::from_secs(1);
    let fleet = Fleet::start(s).await.expect("fleet");
    let control = fleet
        .serve_control("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("control");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/compat.py");
    let list = serde_json::to_string(&fleet.devices()).expect("json");
    let run = tokio::process::Command::new(&python)
        .arg(script)
        .arg(list)
        .arg(control.to_string())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("compat script finished in time")
        .expect("run compat script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "third-party clients failed against the simulator:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 failed"));
    assert!(stdout.matches("ok   ").count() >= 15, "{stdout}");
}
