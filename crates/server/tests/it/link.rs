//! The device link end to end over real WebSockets (R-14, R-19): simulated devices
//! with the cloud client built in connect out to the server, are added by serial
//! number and verification code (before or after they connect), are inspected
//! through the link exactly like devices reached by IP, push their events up it
//! (stored once, acknowledged, resent after a dropped connection), and show offline
//! when their link goes. A burst of events, cut by a dropped connection, is stored
//! in batches with none lost and none doubled.

use crate::health::inspect;
use crate::on_both;
use crate::support::{Db, PASSWORD, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use siteward_devsim::{EventKind, Fault, Fleet, FleetSpec};
use siteward_link::LinkKey;
use siteward_link::agent::{
    Agent, AgentConfig, AgentDevice, AgentHandle, RelayAnswer, RelayRequest,
};
use std::time::{Duration, Instant};

on_both!(
    devices_added_by_serial_are_inspected_through_their_link,
    wrong_codes_are_refused_and_a_second_connection_replaces_the_first,
    link_events_are_stored_once_and_resent_after_a_drop,
    a_burst_of_link_events_is_stored_once_each
);

fn link_url(s: &TestServer) -> String {
    format!("{}/link/v1", s.url.replacen("http://", "ws://", 1))
}

/// Waits until `check` holds, or fails with `what` after 20 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn connected(agent: &AgentHandle, serial: &str) {
    let mut status = agent.status();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if status.borrow().accepted.iter().any(|s| s == serial) {
            return;
        }
        let changed = tokio::time::timeout_at(deadline, status.changed()).await;
        assert!(
            matches!(changed, Ok(Ok(()))),
            "{serial} was not accepted: {:?}",
            *status.borrow()
        );
    }
}

async fn add_by_serial(
    s: &TestServer,
    token: &str,
    site: &str,
    serial: &str,
    code: &str,
) -> (StatusCode, Value) {
    s.post(
        &format!("/api/v1/sites/{site}/devices"),
        token,
        json!({"via": "link", "serial": serial, "verification_code": code}),
    )
    .await
}

async fn site_devices(s: &TestServer, token: &str, site: &str) -> Vec<Value> {
    let (status, list) = s.get(&format!("/api/v1/sites/{site}/devices"), token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().cloned().unwrap_or_default()
}

/// R-14, R-15, R-19: one device is added while it is not connected (it waits, and
/// is added when it connects and proves the code); the other connects first and is
/// added at once. Both are inspected through the link, a fault shows, and a device
/// whose link goes is offline.
async fn devices_added_by_serial_are_inspected_through_their_link(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("nvr=1,ipc=1", 31).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    let info = fleet.devices();
    let nvr = info.iter().find(|d| d.kind.as_str() == "nvr").expect("nvr");
    let cam = info.iter().find(|d| d.kind.as_str() == "ipc").expect("ipc");

    // Not connected yet: accepted, waiting, listed as pending.
    let (status, pending) =
        add_by_serial(&s, &c.admin, &site, &nvr.serial, &nvr.verification_code).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    assert_eq!(pending["state"], "pending");
    let (_, waiting) = s
        .get(&format!("/api/v1/sites/{site}/devices/pending"), &c.admin)
        .await;
    assert_eq!(waiting[0]["serial"], json!(nvr.serial), "{waiting}");
    let (status, again) =
        add_by_serial(&s, &c.admin, &site, &nvr.serial, &nvr.verification_code).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("device.pending"))
    );

    // It connects: proven, read over the link, added.
    let nvr_link = fleet
        .device(&nvr.serial)
        .expect("nvr")
        .connect_link(&link_url(&s));
    connected(&nvr_link, &nvr.serial).await;
    eventually("the NVR is added once it connects", || async {
        let (_, p) = s
            .get(&format!("/api/v1/sites/{site}/devices/pending"), &c.admin)
            .await;
        assert_ne!(p[0]["state"], "refused", "{p}");
        p == json!([])
    })
    .await;
    let devices = site_devices(&s, &c.admin, &site).await;
    assert!(
        devices[0]["serial"]
            .as_str()
            .is_some_and(|x| x.contains(&nvr.serial)),
        "{devices:?}"
    );

    // Connected first, added after: at once.
    let cam_link = fleet
        .device(&cam.serial)
        .expect("cam")
        .connect_link(&link_url(&s));
    let mut status = cam_link.status();
    eventually("the camera waits for its code", || {
        let waiting = status.borrow_and_update().waiting.contains(&cam.serial);
        async move { waiting }
    })
    .await;
    let (status, added) = add_by_serial(
        &s,
        &c.admin,
        &site,
        &cam.serial,
        &cam.verification_code.to_lowercase(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(
        (&added["connection"], &added["type"], &added["model"]),
        (&json!("link"), &json!("ipc"), &json!(cam.model)),
        "{added}"
    );
    let (_, waiting) = s
        .get(&format!("/api/v1/sites/{site}/devices/pending"), &c.admin)
        .await;
    assert_eq!(waiting, json!([]), "nothing waits any more");

    // Inspected through the link like any device (first by the scheduler, as soon
    // as they are added); a fault shows.
    eventually("both devices have had their first inspection", || async {
        let (_, h) = s
            .get(&format!("/api/v1/health?site_id={site}"), &c.admin)
            .await;
        h["items"]
            .as_array()
            .is_some_and(|l| l.len() == 2 && l.iter().all(|d| d["level"] == "normal"))
    })
    .await;
    fleet
        .device(&nvr.serial)
        .expect("nvr")
        .set_fault(Fault::HddError)
        .expect("fault");
    let done = inspect(&s, &c.admin, "site", Some(&site)).await;
    let (_, health) = s
        .get(&format!("/api/v1/health?site_id={site}"), &c.admin)
        .await;
    assert_eq!(done["failures"], json!(0), "{done} {health}");
    let (_, health) = s
        .get(&format!("/api/v1/health?site_id={site}"), &c.admin)
        .await;
    let level_of = |serial: &str| {
        health["items"]
            .as_array()
            .and_then(|l| {
                l.iter()
                    .find(|d| d["serial"].as_str().is_some_and(|x| x.contains(serial)))
            })
            .map(|d| d["level"].clone())
    };
    let nvr_id = health["items"]
        .as_array()
        .and_then(|l| {
            l.iter().find(|d| {
                d["serial"]
                    .as_str()
                    .is_some_and(|x| x.contains(&nvr.serial))
            })
        })
        .map(|d| d["device_id"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let (_, detail) = s
        .get(&format!("/api/v1/devices/{nvr_id}/health"), &c.admin)
        .await;
    assert_eq!(level_of(&nvr.serial), Some(json!("abnormal")), "{detail}");
    assert_eq!(level_of(&cam.serial), Some(json!("normal")), "{health}");

    // The camera's link goes: it is offline.
    cam_link.stop();
    let cam_id = added["id"].as_str().expect("id").to_owned();
    eventually("the camera shows offline once its link is gone", || async {
        let (_, h) = s
            .get(&format!("/api/v1/devices/{cam_id}/health"), &c.admin)
            .await;
        h["level"] == "offline"
    })
    .await;
    nvr_link.stop();
    s.finish().await;
}

/// A relay for agents that only prove themselves.
struct Silent;

impl siteward_link::agent::Relay for Silent {
    fn request(
        &self,
        _: &str,
        _: RelayRequest,
    ) -> futures::future::BoxFuture<'static, RelayAnswer> {
        Box::pin(async {
            RelayAnswer::Failed {
                error: "unreachable",
                detail: "test agent".into(),
            }
        })
    }
}

fn agent_for(s: &TestServer, serial: &str, code: &str) -> AgentHandle {
    let mut config = AgentConfig::new(
        link_url(s),
        "test",
        vec![AgentDevice {
            serial: serial.to_owned(),
            key: LinkKey::derive(code, serial),
            device_type: None,
        }],
    );
    config.backoff = siteward_link::backoff::Backoff::new(
        Duration::from_millis(100),
        Duration::from_millis(400),
    );
    let (agent, handle) = Agent::new(config, Silent);
    tokio::spawn(agent.run());
    handle
}

/// The code never crosses the wire, and a wrong one gets nowhere: a device that
/// proves the wrong code is rejected (and the live link is not disturbed); an
/// installer typing the wrong code for a connected device is told so. A second
/// connection that proves itself replaces the first.
async fn wrong_codes_are_refused_and_a_second_connection_replaces_the_first(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 32).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    let cam = fleet.devices().remove(0);
    let first = fleet
        .device(&cam.serial)
        .expect("cam")
        .connect_link(&link_url(&s));
    let mut status = first.status();
    eventually("the camera waits", || {
        let w = status.borrow_and_update().waiting.contains(&cam.serial);
        async move { w }
    })
    .await;

    // The installer mistypes the code: refused, nothing added.
    let (status, body) = add_by_serial(&s, &c.admin, &site, &cam.serial, "ZZZZZZ").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("device.wrong_code")),
        "{body}"
    );
    assert!(site_devices(&s, &c.admin, &site).await.is_empty());
    let (status, added) =
        add_by_serial(&s, &c.admin, &site, &cam.serial, &cam.verification_code).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    connected(&first, &cam.serial).await;

    // An impostor with the wrong code is rejected; the real link stays.
    let impostor = agent_for(&s, &cam.serial, "WRONG1");
    let mut st = impostor.status();
    eventually("the impostor is turned away", || {
        let e = st.borrow_and_update().last_error.clone();
        async move { e.is_some_and(|e| e.contains("closed by the server")) }
    })
    .await;
    assert!(impostor.status().borrow().accepted.is_empty());
    impostor.stop();
    assert!(first.status().borrow().accepted.contains(&cam.serial));

    // A second, proven connection takes over; requests go to it.
    let second = fleet
        .device(&cam.serial)
        .expect("cam")
        .connect_link(&link_url(&s));
    connected(&second, &cam.serial).await;
    let mut old = first.status();
    eventually("the first connection is replaced", || {
        let gone = !old.borrow_and_update().accepted.contains(&cam.serial);
        async move { gone }
    })
    .await;
    first.stop();
    let done = inspect(&s, &c.admin, "site", Some(&site)).await;
    assert_eq!(done["failures"], json!(0), "{done}");
    second.stop();
    s.finish().await;
}

/// Hands `site` over to a new end user with `email`; returns the owner's token.
async fn hand_over(s: &TestServer, admin: &str, site: &str, email: &str) -> String {
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/end-users",
            None,
            Some(json!({"email": email, "password": PASSWORD, "name": "Olga",
                        "region": "EU", "app_version": "5.0"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let owner = s.login(email, PASSWORD).await;
    let (status, inv) = s
        .post(
            &format!("/api/v1/sites/{site}/invitation"),
            admin,
            json!({"end_user_email": email}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let (status, body) = s
        .post(
            &format!(
                "/api/v1/invitations/{}/accept",
                inv["id"].as_str().expect("id")
            ),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    owner
}

/// R-36 over the link: alarms raised while the link is down are kept by the device
/// and resent when it is back; each is stored once and acknowledged, none is lost.
async fn link_events_are_stored_once_and_resent_after_a_drop(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 33).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Home").await;
    let cam = fleet.devices().remove(0);
    let (status, body) =
        add_by_serial(&s, &c.admin, &site, &cam.serial, &cam.verification_code).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let link = fleet
        .device(&cam.serial)
        .expect("cam")
        .connect_link(&link_url(&s));
    connected(&link, &cam.serial).await;
    eventually("the camera is added", || async {
        !site_devices(&s, &c.admin, &site).await.is_empty()
    })
    .await;

    // Handed over, so its alarms are the owner's.
    let owner = hand_over(&s, &c.admin, &site, "olga@home.example").await;
    let alarms = || async {
        let (_, list) = s.get("/api/v1/me/alarms", &owner).await;
        list["items"].as_array().map_or(0, Vec::len)
    };

    let device = fleet.device(&cam.serial).expect("cam");
    device
        .emit(EventKind::Intrusion, Some(1), None)
        .expect("event");
    eventually("the first alarm is stored and acknowledged", || async {
        alarms().await == 1 && link.unacknowledged(&cam.serial) == 0
    })
    .await;

    // The link drops; three alarms happen meanwhile; they arrive after it is back.
    let mut st = link.status();
    let before = st.borrow_and_update().connections;
    link.drop_connection();
    // Seen down, or already back on a newer connection (the back-off's first try
    // may come before this looks): either way the connection was dropped.
    eventually("the link is down", || {
        let now = st.borrow_and_update();
        let dropped = !now.connected || now.connections > before;
        async move { dropped }
    })
    .await;
    for _ in 0..3 {
        device
            .emit(EventKind::Intrusion, Some(1), None)
            .expect("event");
    }
    connected(&link, &cam.serial).await;
    eventually("the three alarms arrive, each once", || async {
        alarms().await == 4 && link.unacknowledged(&cam.serial) == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(alarms().await, 4, "nothing doubled");
    link.stop();
    s.finish().await;
}

/// An intrusion alarm as a camera writes it.
const INTRUSION: &str = r#"<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.168.1.64</ipAddress><portNo>80</portNo><protocol>HTTP</protocol>
<channelID>1</channelID><dateTime>2026-01-31T13:53:05+01:00</dateTime>
<activePostCount>1</activePostCount><eventType>fielddetection</eventType>
<eventState>active</eventState><eventDescription>fielddetection alarm</eventDescription>
</EventNotificationAlert>"#;

/// Batched intake: 2,000 alarms pushed at once by one linked device, its link
/// dropped halfway (events still waiting to be stored on the server, others in
/// flight), are all stored once: each acknowledged, none lost, none doubled.
async fn a_burst_of_link_events_is_stored_once_each(db: Db) {
    const BURST: u64 = 2_000;
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 34).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Home").await;
    let cam = fleet.devices().remove(0);
    let (status, body) =
        add_by_serial(&s, &c.admin, &site, &cam.serial, &cam.verification_code).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let link = fleet
        .device(&cam.serial)
        .expect("cam")
        .connect_link(&link_url(&s));
    connected(&link, &cam.serial).await;
    eventually("the camera is added", || async {
        !site_devices(&s, &c.admin, &site).await.is_empty()
    })
    .await;
    let owner = hand_over(&s, &c.admin, &site, "olga@home.example").await;
    let stored = || async {
        let (status, list) = s.get("/api/v1/me/alarms?limit=1", &owner).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list["unacknowledged"].as_u64().unwrap_or(0)
    };

    for _ in 0..BURST / 2 {
        link.push_event(&cam.serial, INTRUSION).expect("served");
    }
    link.drop_connection();
    for _ in 0..BURST / 2 {
        link.push_event(&cam.serial, INTRUSION).expect("served");
    }
    eventually("every event is acknowledged", || async {
        link.unacknowledged(&cam.serial) == 0
    })
    .await;
    assert_eq!(link.acked_seq(&cam.serial), Some(BURST));
    assert_eq!(stored().await, BURST, "each event stored once");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stored().await, BURST, "nothing doubled later");
    assert!(
        link.status().borrow().connections >= 2,
        "the link was dropped and came back"
    );
    link.stop();
    s.finish().await;
}
