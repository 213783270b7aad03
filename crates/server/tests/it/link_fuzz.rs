//! The device link under hostile input: random text, malformed and oversized
//! frames, binary frames, frames out of order, answers to requests that were never
//! sent, and events for another device's serial. The server never crashes, closes
//! such connections with a reason, and no frame reaches another device's data: a
//! proven device keeps answering inspections and its stored events are unchanged.

use crate::support::{Db, TestServer};
use futures::{SinkExt as _, StreamExt as _};
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::json;
use siteward_devsim::{Fleet, FleetSpec};
use siteward_link::LinkKey;
use siteward_link::frame::{
    DeviceClaim, Frame, LinkEvent, LinkResponse, MAX_FRAME_BYTES, Register, SUBPROTOCOL,
};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> (Ws, String) {
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        SUBPROTOCOL.parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let nonce = match ws.next().await {
        Some(Ok(Message::Text(t))) => match Frame::decode(t.as_str()) {
            Ok(Frame::Hello(h)) => h.nonce,
            other => panic!("not a hello: {other:?}"),
        },
        other => panic!("no hello: {other:?}"),
    };
    (ws, nonce)
}

/// One hostile frame.
fn hostile(rng: &mut rand::rngs::StdRng, victim: &str, own: &str) -> Message {
    let text = |s: String| Message::text(s);
    match rng.random_range(0..10) {
        0 => text(
            (0..rng.random_range(0..200))
                .map(|_| char::from(rng.random_range(32u8..127)))
                .collect(),
        ),
        1 => Message::binary(vec![0u8; rng.random_range(1..64)]),
        2 => text(format!(
            r#"{{"type":"event","serial":"{victim}","epoch":"e","seq":{},"xml":"<EventNotificationAlert><eventType>fielddetection</eventType><eventState>active</eventState></EventNotificationAlert>"}}"#,
            rng.random_range(1..1000)
        )),
        3 => text(
            Frame::Response(LinkResponse {
                id: rng.random_range(0..50),
                status: Some(200),
                headers: vec![],
                body: siteward_link::frame::encode_body(b"<DeviceInfo/>"),
                error: None,
                detail: None,
            })
            .encode(),
        ),
        4 => text(r#"{"type":"register","nonce":"x","devices":[]}"#.into()),
        5 => text(format!(
            r#"{{"type":"ack","serial":"{victim}","epoch":"e","seq":5}}"#
        )),
        6 => text(r#"{"type":"event","serial":"","epoch":"e","seq":0,"xml":""}"#.into()),
        7 => text(format!(
            r#"{{"type":"hello","version":1,"nonce":"{own}","heartbeat_secs":0,"silence_limit_secs":0}}"#
        )),
        8 => text("[".repeat(rng.random_range(1..2000))),
        _ => text(format!(
            r#"{{"type":"response","id":{},"status":99999,"body":"!!not base64"}}"#,
            rng.random_range(0..u64::MAX)
        )),
    }
}

/// Many hostile connections and frames; the victim device stays intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_frames_never_crash_the_server_or_reach_another_device() {
    let s = TestServer::start(Db::Sqlite).await;
    let url = format!("{}/link/v1", s.url.replacen("http://", "ws://", 1));
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=2", 61).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    let devices = fleet.devices();
    let (victim, intruder) = (&devices[0], &devices[1]);
    for d in [victim, intruder] {
        let (status, body) = s
            .post(
                &format!("/api/v1/sites/{site}/devices"),
                &c.admin,
                json!({"via": "link", "serial": d.serial, "verification_code": d.verification_code}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let link = fleet
        .device(&victim.serial)
        .expect("victim")
        .connect_link(&url);
    let deadline = Instant::now() + Duration::from_secs(20);
    let victim_id = loop {
        let (_, list) = s
            .get(&format!("/api/v1/sites/{site}/devices"), &c.admin)
            .await;
        if let Some(id) = list["items"][0]["id"].as_str() {
            break id.to_owned();
        }
        assert!(Instant::now() < deadline, "victim not added: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let seq_before = s
        .app
        .link_counter(victim_id.parse().expect("id"))
        .await
        .expect("seq");

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut closed_with_reason = 0;
    for round in 0..40 {
        let (mut ws, nonce) = connect(&url).await;
        // Half the connections prove themselves as the other device first, so the
        // hostile frames come from a registered connection too.
        if round % 2 == 0 {
            let key = LinkKey::derive(&intruder.verification_code, &intruder.serial);
            let register = Frame::Register(Register {
                agent: "fuzz".into(),
                nonce: "ab".repeat(32),
                devices: vec![DeviceClaim {
                    serial: intruder.serial.clone(),
                    proof: key.device_proof(&nonce, &intruder.serial),
                    epoch: "fuzz".into(),
                    device_type: None,
                }],
            });
            let _ = ws.send(Message::text(register.encode())).await;
            // Events for the victim's serial from this connection.
            let forged = Frame::Event(LinkEvent {
                serial: victim.serial.clone(),
                epoch: "forged".into(),
                seq: 1,
                xml: "<EventNotificationAlert><eventType>fielddetection</eventType></EventNotificationAlert>".into(),
            });
            let _ = ws.send(Message::text(forged.encode())).await;
        }
        for _ in 0..rng.random_range(1..12) {
            if ws
                .send(hostile(&mut rng, &victim.serial, &nonce))
                .await
                .is_err()
            {
                break;
            }
        }
        if round % 10 == 0 {
            // Larger than any frame may be.
            let _ = ws
                .send(Message::text("x".repeat(MAX_FRAME_BYTES + 10)))
                .await;
        }
        // Read until the server closes (or a short while passes).
        let until = tokio::time::Instant::now() + Duration::from_millis(500);
        while let Ok(Some(msg)) = tokio::time::timeout_at(until, ws.next()).await {
            match msg {
                Ok(Message::Close(Some(frame))) => {
                    assert!(!frame.reason.is_empty(), "a close says why");
                    closed_with_reason += 1;
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    assert!(
        closed_with_reason > 10,
        "malformed frames close their connection"
    );

    // The server answers, the victim is still its own, and nothing was stored for it.
    let res = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .expect("healthz");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(link.status().borrow().accepted.contains(&victim.serial));
    let done = crate::health::inspect(&s, &c.admin, "device", Some(&victim_id)).await;
    assert_eq!(done["failures"], json!(0), "{done}");
    let seq_after = s
        .app
        .link_counter(victim_id.parse().expect("id"))
        .await
        .expect("seq");
    assert_eq!(
        seq_before, seq_after,
        "no forged event was stored for the victim"
    );
    link.stop();
    s.finish().await;
}

/// Registers one device over a fresh connection; returns how the server closed it
/// (code), or `None` if it stayed open.
async fn register_once(url: &str, serial: &str, code: &str) -> Option<u16> {
    let (mut ws, nonce) = connect(url).await;
    let key = LinkKey::derive(code, serial);
    let register = Frame::Register(Register {
        agent: "throttle".into(),
        nonce: "cd".repeat(32),
        devices: vec![DeviceClaim {
            serial: serial.to_owned(),
            proof: key.device_proof(&nonce, serial),
            epoch: "t".into(),
            device_type: None,
        }],
    });
    ws.send(Message::text(register.encode())).await.ok()?;
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Some(msg)) = tokio::time::timeout_at(until, ws.next()).await {
        if let Ok(Message::Close(Some(frame))) = msg {
            return Some(u16::from(frame.code));
        }
    }
    None
}

/// Wrong proofs close the connection (4401); after five from one address the next
/// registration is refused (4429) for a while, even with the right proof.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_proofs_are_refused_then_throttled() {
    let s = TestServer::start(Db::Sqlite).await;
    let url = format!("{}/link/v1", s.url.replacen("http://", "ws://", 1));
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 62).expect("mix"))
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
    for _ in 0..5 {
        assert_eq!(
            register_once(&url, &cam.serial, "WRONGCODE").await,
            Some(siteward_link::frame::close::REJECTED)
        );
    }
    assert_eq!(
        register_once(&url, &cam.serial, &cam.verification_code).await,
        Some(siteward_link::frame::close::THROTTLED),
        "throttled, even with the right code"
    );
    let (_, pending) = s
        .get(&format!("/api/v1/sites/{site}/devices/pending"), &c.admin)
        .await;
    assert_eq!(
        pending[0]["state"], "pending",
        "nothing was added meanwhile"
    );
    s.finish().await;
}
