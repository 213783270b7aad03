//! Alarms end to end (R-36): events of a handed-over site's devices that are alarms
//! reach the owner live and stay in the owner's list, across a restart, until
//! acknowledged; the same event is kept once; before hand-over nobody's alarm is
//! kept; installers neither read nor acknowledge them.

use crate::on_both;
use crate::support::{Db, PASSWORD, TestServer};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use siteward_devsim::{EventKind, Fleet, FleetSpec};
use std::time::{Duration, Instant};

on_both!(
    alarms_reach_the_owner_and_survive_a_restart,
    the_owner_hears_of_device_health_live
);

/// Adds a simulated device to a site over IP; returns its id.
async fn add(s: &TestServer, token: &str, site: &str, fleet: &Fleet, serial: &str) -> String {
    let d = fleet
        .devices()
        .into_iter()
        .find(|d| d.serial == serial)
        .expect("device");
    let (status, body) = s
        .post(
            &format!("/api/v1/sites/{site}/devices"),
            token,
            json!({"via": "ip", "host": d.address.ip().to_string(), "port": d.address.port(),
                   "username": d.username, "password": d.password}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

/// Waits until the server listens to the device's alert stream.
async fn listened(fleet: &Fleet, serial: &str) {
    let deadline = Instant::now() + Duration::from_secs(40);
    while fleet.device(serial).expect("device").stream_count() == 0 {
        assert!(Instant::now() < deadline, "no alert stream to {serial}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn alarms(s: &TestServer, token: &str, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, list) = s.get("/api/v1/me/alarms", token).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        if list["items"].as_array().map_or(0, Vec::len) >= n {
            return list;
        }
        assert!(Instant::now() < deadline, "waiting for {n} alarms: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn alarms_reach_the_owner_and_survive_a_restart(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1,doorbell=1", 21).expect("mix"))
        .await
        .expect("fleet");
    let serial_of = |t: &str| {
        fleet
            .devices()
            .into_iter()
            .find(|d| serde_json::to_value(d).is_ok_and(|v| v["type"] == t))
            .expect("device of type")
            .serial
    };
    let (cam, bell) = (serial_of("ipc"), serial_of("doorbell"));
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Home").await;
    let cam_id = add(&s, &c.admin, &site, &fleet, &cam).await;
    add(&s, &c.admin, &site, &fleet, &bell).await;
    listened(&fleet, &cam).await;
    listened(&fleet, &bell).await;

    // Before hand-over an intrusion is nobody's alarm.
    fleet
        .device(&cam)
        .expect("cam")
        .emit(EventKind::Intrusion, Some(1), None)
        .expect("event");

    // Hand-over: the end user signs up, is invited and accepts.
    let owner = s.end_user("olga@home.example").await;
    s.hand_over(&c.admin, &site, &owner, "olga@home.example", Value::Null)
        .await;
    let (_, list) = s.get("/api/v1/me/alarms", &owner).await;
    assert_eq!(list["items"], json!([]), "nothing from before: {list}");

    // The doorbell rings: the owner's app hears it live, and the list keeps it.
    let res = s
        .http
        .get(format!("{}/api/v1/events", s.url))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("events");
    assert_eq!(res.status(), StatusCode::OK);
    let mut events = res.bytes_stream();
    fleet
        .device(&bell)
        .expect("bell")
        .emit(EventKind::DoorbellPressed, None, None)
        .expect("event");
    let mut seen = String::new();
    while !seen.contains("event: alarm") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an alarm within 10 s");
        seen.push_str(&String::from_utf8_lossy(
            &chunk.expect("stream open").expect("bytes"),
        ));
    }
    assert!(seen.contains("doorbell_pressed"), "{seen}");
    let list = alarms(&s, &owner, 1).await;
    assert_eq!(list["items"][0]["kind"], "doorbell_pressed", "{list}");
    assert_eq!(list["unacknowledged"], 1);

    // An intrusion on the camera, now the owner's too.
    fleet
        .device(&cam)
        .expect("cam")
        .emit(EventKind::Intrusion, Some(1), None)
        .expect("event");
    let list = alarms(&s, &owner, 2).await;
    assert_eq!(list["items"][0]["kind"], "intrusion", "{list}");
    assert_eq!(list["items"][0]["device_id"], cam_id.as_str());

    // The same event delivered twice is kept once.
    let xml = br#"<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>10.0.0.5</ipAddress><channelID>1</channelID><dateTime>2026-11-25T10:00:00+01:00</dateTime>
<activePostCount>1</activePostCount><eventType>linedetection</eventType><eventState>active</eventState>
<eventDescription>linedetection alarm</eventDescription></EventNotificationAlert>"#;
    let event = siteward_isapi::models::EventAlert::parse(xml).expect("event");
    let device = cam_id.parse().expect("device id");
    assert!(s.app.take_device_event(device, &event).await.expect("take"));
    assert!(!s.app.take_device_event(device, &event).await.expect("take"));
    let list = alarms(&s, &owner, 3).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3), "{list}");

    // Installers neither read the owner's alarms nor acknowledge them.
    let id = list["items"][0]["id"].as_str().expect("id").to_owned();
    let (status, _) = s.get("/api/v1/me/alarms", &c.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = s
        .post(
            &format!("/api/v1/alarms/{id}/acknowledge"),
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Nothing accepted is lost across a restart; the owner acknowledges.
    let s = s.restart().await;
    let owner = s.login("olga@home.example", PASSWORD).await;
    let list = alarms(&s, &owner, 3).await;
    assert_eq!(list["unacknowledged"], 3, "{list}");
    let (status, ack) = s
        .post(
            &format!("/api/v1/alarms/{id}/acknowledge"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert!(ack["acknowledged_at"].is_string(), "{ack}");
    let (status, again) = s
        .post(
            &format!("/api/v1/alarms/{id}/acknowledge"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        again["acknowledged_at"], ack["acknowledged_at"],
        "the first stays"
    );
    let (_, list) = s.get("/api/v1/me/alarms", &owner).await;
    assert_eq!(list["unacknowledged"], 2, "{list}");
    drop(fleet);
    s.finish().await;
}

/// The owner's app hears live when a device of their site changes health (its
/// online dot updates without a reload); another end user hears nothing of it.
async fn the_owner_hears_of_device_health_live(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 22).expect("mix"))
        .await
        .expect("fleet");
    let cam = fleet.devices().remove(0).serial;
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Home").await;
    add(&s, &c.admin, &site, &fleet, &cam).await;
    let tokens = [
        s.end_user("olga@home.example").await,
        s.end_user("nina@home.example").await,
    ];
    // Handed over; the company keeps health monitoring.
    s.hand_over(
        &c.admin,
        &site,
        &tokens[0],
        "olga@home.example",
        json!({"permissions": ["health_monitoring"], "duration_hours": null}),
    )
    .await;

    let open = |token: String| {
        let s = &s;
        async move {
            let res = s
                .http
                .get(format!("{}/api/v1/events", s.url))
                .bearer_auth(token)
                .send()
                .await
                .expect("events");
            assert_eq!(res.status(), StatusCode::OK);
            res.bytes_stream()
        }
    };
    let mut owner_events = open(tokens[0].clone()).await;
    let mut other_events = open(tokens[1].clone()).await;
    fleet
        .device(&cam)
        .expect("cam")
        .set_fault(siteward_devsim::Fault::Offline(
            siteward_devsim::OfflineMode::Refused,
        ))
        .expect("fault");
    crate::health::inspect(&s, &c.admin, "site", Some(&site)).await;
    let mut seen = String::new();
    while !seen.contains("event: health_changed") {
        let chunk = tokio::time::timeout(Duration::from_secs(15), owner_events.next())
            .await
            .expect("a health change within 15 s");
        seen.push_str(&String::from_utf8_lossy(
            &chunk.expect("stream open").expect("bytes"),
        ));
    }
    assert!(seen.contains("offline"), "{seen}");
    let other = tokio::time::timeout(Duration::from_millis(700), other_events.next()).await;
    let heard = match other {
        Ok(Some(Ok(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    };
    assert!(
        !heard.contains("health_changed"),
        "another end user heard: {heard}"
    );
    drop(fleet);
    s.finish().await;
}
