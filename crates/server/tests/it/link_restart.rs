//! The device link across a server restart and a silent connection (R-14, R-19,
//! alarms raised while the server is down are kept by the device and stored
//! once after it is back; a link that goes silent without closing is dropped
//! within the configured limit, and its device is looked at again.

use crate::on_both;
use crate::support::{Db, PASSWORD, TestServer};
use futures::{SinkExt as _, StreamExt as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use siteward_devsim::{EventKind, Fleet, FleetSpec};
use siteward_link::LinkKey;
use siteward_link::agent::AgentHandle;
use siteward_link::frame::{DeviceClaim, Frame, Outcome, Register};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

on_both!(alarms_raised_while_the_server_is_down_arrive_once);

fn link_url(s: &TestServer) -> String {
    format!("{}/link/v1", s.url.replacen("http://", "ws://", 1))
}

async fn wait_for<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn accepted(link: &AgentHandle, serial: &str) -> bool {
    link.status().borrow().accepted.iter().any(|s| s == serial)
}

/// A linked camera of a handed-over site, connected: (fleet, link, serial, owner token).
async fn handed_over_linked_camera(s: &TestServer) -> (Fleet, AgentHandle, String, String) {
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 41).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Home").await;
    let cam = fleet.devices().remove(0);
    let (status, body) = s
        .post(
            &format!("/api/v1/sites/{site}/devices"),
            &c.admin,
            json!({"via": "link", "serial": cam.serial, "verification_code": cam.verification_code}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let link = fleet
        .device(&cam.serial)
        .expect("cam")
        .connect_link(&link_url(s));
    wait_for("the camera is added", Duration::from_secs(20), || async {
        let (_, p) = s
            .get(&format!("/api/v1/sites/{site}/devices/pending"), &c.admin)
            .await;
        p == json!([]) && accepted(&link, &cam.serial)
    })
    .await;
    let owner = s.end_user("olga@home.example").await;
    s.hand_over(&c.admin, &site, &owner, "olga@home.example", Value::Null)
        .await;
    (fleet, link, cam.serial, owner)
}

async fn alarm_count(s: &TestServer, owner: &str) -> usize {
    let (_, list) = s.get("/api/v1/me/alarms", owner).await;
    list["items"].as_array().map_or(0, Vec::len)
}

/// the server stops; the camera's link closes (1001) and it keeps the three
/// alarms raised meanwhile; the server starts again on the same address; the camera
/// reconnects with back-off and the alarms are stored — once each — and the one
/// stored before the restart is not stored again.
async fn alarms_raised_while_the_server_is_down_arrive_once(db: Db) {
    let s = TestServer::start(db).await;
    let (fleet, link, serial, owner) = handed_over_linked_camera(&s).await;
    let cam = fleet.device(&serial).expect("cam");
    cam.emit(EventKind::Intrusion, Some(1), None)
        .expect("event");
    wait_for("the first alarm", Duration::from_secs(20), || async {
        alarm_count(&s, &owner).await == 1 && link.unacknowledged(&serial) == 0
    })
    .await;

    let url = s.url.clone();
    let stopped = s.restart_in_place();
    // The link closes while the server stops; alarms go on happening.
    let s = {
        let mut status = link.status();
        let s = stopped.await;
        assert_eq!(s.url, url, "same address");
        let _ = tokio::time::timeout(Duration::from_secs(5), status.changed()).await;
        s
    };
    // The counter of stored events, kept in memory and written in the
    // background, was written when the server stopped: the device resumes after
    // its first event.
    let device = s
        .app
        .store()
        .read()
        .await
        .expect("read")
        .device_by_link_serial(&serial)
        .await
        .expect("device")
        .expect("the camera is a device");
    let (epoch, seq) = s
        .app
        .link_counter(device.id)
        .await
        .expect("counter")
        .expect("the camera has a counter");
    assert!(epoch.is_some(), "the counter names the device's epoch");
    assert_eq!(seq, 1, "the first event is counted as stored");
    for _ in 0..3 {
        cam.emit(EventKind::Intrusion, Some(1), None)
            .expect("event");
    }
    let owner = {
        let _ = owner;
        s.login("olga@home.example", PASSWORD).await
    };
    wait_for(
        "the camera is back and its alarms are stored",
        Duration::from_secs(40),
        || async {
            accepted(&link, &serial)
                && link.unacknowledged(&serial) == 0
                && alarm_count(&s, &owner).await == 4
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(alarm_count(&s, &owner).await, 4, "none doubled, none lost");
    link.stop();
    s.finish().await;
}

/// A device link that goes silent — the TCP connection stays open, but nothing
/// comes, not even an answer to the server's pings — is dropped when the silence
/// limit (10 s here) runs out: not before, and not a heartbeat later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_link_is_dropped_within_the_limit() {
    let s = TestServer::start_tuned(Db::Sqlite, |st| st.link_silence_secs = 10).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 42).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    let cam = fleet.devices().remove(0);
    let (status, body) = s
        .post(
            &format!("/api/v1/sites/{site}/devices"),
            &c.admin,
            json!({"via": "link", "serial": cam.serial, "verification_code": cam.verification_code}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // The real device connects and is added, then goes away.
    let link = fleet
        .device(&cam.serial)
        .expect("cam")
        .connect_link(&link_url(&s));
    wait_for("the camera is added", Duration::from_secs(20), || async {
        let (_, p) = s
            .get(&format!("/api/v1/sites/{site}/devices/pending"), &c.admin)
            .await;
        p == json!([]) && accepted(&link, &cam.serial)
    })
    .await;
    link.stop();
    wait_for("the link is gone", Duration::from_secs(10), || async {
        !s.app.links().is_connected(&cam.serial)
    })
    .await;

    // A connection proves itself, then says nothing more and reads nothing.
    let mut request = link_url(&s).into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        siteward_link::frame::SUBPROTOCOL.parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let hello = match ws.next().await {
        Some(Ok(Message::Text(t))) => Frame::decode(t.as_str()).expect("hello"),
        other => panic!("no hello: {other:?}"),
    };
    let Frame::Hello(hello) = hello else {
        panic!("not a hello: {hello:?}")
    };
    assert_eq!(hello.silence_limit_secs, 10);
    let key = LinkKey::derive(&cam.verification_code, &cam.serial);
    let register = Frame::Register(Register {
        agent: "silent test".into(),
        nonce: "00".repeat(32),
        devices: vec![DeviceClaim {
            serial: cam.serial.clone(),
            proof: key.device_proof(&hello.nonce, &cam.serial),
            epoch: "silent".into(),
            device_type: None,
        }],
    });
    ws.send(Message::text(register.encode()))
        .await
        .expect("send");
    let registered = loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                if let Ok(Frame::Registered(r)) = Frame::decode(t.as_str()) {
                    break r;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("no answer: {other:?}"),
        }
    };
    assert_eq!(registered.devices[0].state, Outcome::Accepted);
    assert!(s.app.links().is_connected(&cam.serial));
    let silent_since = Instant::now();
    // Not reading: no pongs go back.
    wait_for(
        "the silent link is dropped",
        Duration::from_secs(25),
        || async { !s.app.links().is_connected(&cam.serial) },
    )
    .await;
    let took = silent_since.elapsed();
    assert!(
        took >= Duration::from_secs(9),
        "dropped before the limit: {took:?}"
    );
    // The limit is a deadline, not a check at the next heartbeat (3.3 s apart
    // here); the margin is for the polling above and a loaded machine.
    assert!(
        took < Duration::from_millis(11_500),
        "dropped well after the limit: {took:?}"
    );
    drop(ws);
    s.finish().await;
}
