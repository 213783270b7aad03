//! ISAPI through the device link for every device type:
//! added by serial number and verification code, each type is inspected through
//! its link with the same result as over IP — normal and fully read — and a fault
//! of each kind shows the same way.

use crate::health::inspect;
use crate::on_both;
use crate::support::{Db, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use siteward_devsim::{Fault, Fleet, FleetSpec};
use std::time::{Duration, Instant};

on_both!(
    every_device_type_is_inspected_through_its_link,
    an_incompatible_device_is_refused_when_it_connects
);

async fn every_device_type_is_inspected_through_its_link(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(
        FleetSpec::parse_mix(
            "nvr=1,dvr=1,ipc=1,control_panel=1,access_control=1,video_intercom=1,doorbell=1",
            71,
        )
        .expect("mix"),
    )
    .await
    .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Everything").await;
    let url = format!("{}/link/v1", s.url.replacen("http://", "ws://", 1));
    let mut links = Vec::new();
    for d in fleet.devices() {
        let (status, body) = s
            .post(
                &format!("/api/v1/sites/{site}/devices"),
                &c.admin,
                json!({"via": "link", "serial": d.serial, "verification_code": d.verification_code}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{} {body}", d.kind.as_str());
        links.push(fleet.device(&d.serial).expect("device").connect_link(&url));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        let (_, h) = s
            .get(&format!("/api/v1/health?site_id={site}"), &c.admin)
            .await;
        let items = h["items"].as_array().cloned().unwrap_or_default();
        if items.len() == 7 && items.iter().all(|d| d["level"] != "unknown") {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "not all added and inspected: {h}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for d in &health {
        assert_eq!(d["level"], "normal", "{d}");
    }
    let detail = |t: &str| {
        let id = health
            .iter()
            .find(|d| d["type"] == t)
            .and_then(|d| d["device_id"].as_str())
            .expect("device of type")
            .to_owned();
        let s = &s;
        let token = c.admin.clone();
        async move {
            let (_, v) = s.get(&format!("/api/v1/devices/{id}/health"), &token).await;
            v
        }
    };
    // Read in full, as over IP.
    let nvr: Value = detail("nvr").await;
    assert!(
        nvr["storage"].as_array().is_some_and(|d| !d.is_empty()),
        "{nvr}"
    );
    assert!(
        nvr["channels"].as_array().is_some_and(|c| !c.is_empty()),
        "{nvr}"
    );
    let panel: Value = detail("control_panel").await;
    assert!(panel["panel"]["battery_pct"].is_number(), "{panel}");
    assert!(
        panel["panel"]["zones"]
            .as_array()
            .is_some_and(|z| !z.is_empty()),
        "{panel}"
    );

    // Faults show through the link.
    let serial_of = |t: &str| {
        fleet
            .devices()
            .into_iter()
            .find(|d| d.kind.as_str() == t)
            .expect("device")
            .serial
    };
    for (t, fault) in [
        ("nvr", Fault::HddError),
        ("control_panel", Fault::LowBattery { level: 9 }),
        ("doorbell", Fault::SdMissing),
    ] {
        fleet
            .device(&serial_of(t))
            .expect("device")
            .set_fault(fault)
            .expect("fault");
    }
    let done = inspect(&s, &c.admin, "site", Some(&site)).await;
    assert_eq!(done["failures"], json!(0), "{done}");
    for t in ["nvr", "control_panel", "doorbell"] {
        let v = detail(t).await;
        assert_ne!(v["level"], "normal", "{t}: {v}");
        assert!(
            v["reasons"].as_array().is_some_and(|r| !r.is_empty()),
            "{v}"
        );
    }
    for l in &links {
        l.stop();
    }
    s.finish().await;
}

/// R-15 over the link: compatibility is checked from the device's own information
/// as soon as it connects; a device off the list is refused with the reason and is
/// not added.
async fn an_incompatible_device_is_refused_when_it_connects(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("third_party=1", 72).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Shop").await;
    let other = fleet.devices().remove(0);
    let (status, body) = s
        .post(
            &format!("/api/v1/sites/{site}/devices"),
            &c.admin,
            json!({"via": "link", "serial": other.serial, "verification_code": other.verification_code}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let link = fleet
        .device(&other.serial)
        .expect("device")
        .connect_link(&format!(
            "{}/link/v1",
            s.url.replacen("http://", "ws://", 1)
        ));
    let deadline = Instant::now() + Duration::from_secs(20);
    let refused = loop {
        let (_, pending) = s
            .get(&format!("/api/v1/sites/{site}/devices/pending"), &c.admin)
            .await;
        if pending[0]["state"] == "refused" {
            break pending[0].clone();
        }
        assert!(Instant::now() < deadline, "not refused: {pending}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reason = refused["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("Siteward manages only"), "{refused}");
    let (_, devices) = s
        .get(&format!("/api/v1/sites/{site}/devices"), &c.admin)
        .await;
    assert_eq!(devices["items"], json!([]), "nothing added");
    link.stop();
    s.finish().await;
}
