//! Health monitoring end to end: inspections over real HTTP against
//! simulated devices, faults and recovery, filters, live events, restarts.

use crate::on_both;
use crate::support::{Db, TestServer};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use siteward_devsim::{DeviceInfo, Fault, FaultKind, Fleet, FleetSpec, OfflineMode};
use std::time::{Duration, Instant};

on_both!(
    inspections_find_faults_and_recovery,
    health_input_is_checked
);

/// Adds every device of the fleet to one site; returns (site id, device ids by serial).
async fn site_with(
    s: &TestServer,
    token: &str,
    fleet: &Fleet,
) -> (String, Vec<(DeviceInfo, String)>) {
    let site = s.site(token, "Depot").await;
    let mut out = Vec::new();
    for d in fleet.devices() {
        let (status, body) = s
            .post(
                &format!("/api/v1/sites/{site}/devices"),
                token,
                json!({"via": "ip", "host": d.address.ip().to_string(), "port": d.address.port(), "username": d.username, "password": d.password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        out.push((d, body["id"].as_str().expect("id").to_owned()));
    }
    (site, out)
}

/// Runs a manual inspection and waits for it to finish; returns its final state.
pub async fn inspect(s: &TestServer, token: &str, scope: &str, id: Option<&str>) -> Value {
    let (status, started) = s
        .post(
            "/api/v1/inspections",
            token,
            json!({"scope": scope, "id": id}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let path = format!(
        "/api/v1/inspections/{}",
        started["id"].as_str().expect("id")
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, state) = s.get(&path, token).await;
        if state["state"] == "done" {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "inspection did not finish: {state}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn inspections_find_faults_and_recovery(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("nvr=1,ipc=1,control_panel=1", 5).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let (site, devices) = site_with(&s, &c.admin, &fleet).await;
    let id_of = |t: &str| {
        devices
            .iter()
            .find(|(d, _)| serde_json::to_value(d).is_ok_and(|v| v["type"] == t))
            .map(|(d, id)| (d.clone(), id.clone()))
            .unwrap_or_else(|| panic!("no {t}"))
    };
    let (nvr, nvr_id) = id_of("nvr");
    let (cam, cam_id) = id_of("ipc");

    let done = inspect(&s, &c.admin, "site", Some(&site)).await;
    assert_eq!(
        (
            done["done"].as_i64(),
            done["total"].as_i64(),
            done["failures"].as_i64()
        ),
        (Some(3), Some(3), Some(0)),
        "{done}"
    );
    let (_, list) = s.get("/api/v1/health", &c.admin).await;
    for item in list["items"].as_array().expect("items") {
        assert_eq!(item["level"], "normal", "a healthy fleet is normal: {item}");
        assert!(
            item["last_inspected_at"].as_str().is_some(),
            "R-25: last inspected time shown"
        );
    }

    // A disk error on the NVR and the camera going offline.
    fleet
        .device(&nvr.serial)
        .expect("nvr")
        .set_fault(Fault::HddError)
        .expect("fault");
    fleet
        .device(&cam.serial)
        .expect("cam")
        .set_fault(Fault::Offline(OfflineMode::Refused))
        .expect("fault");
    inspect(&s, &c.admin, "all", None).await;
    let (_, health) = s
        .get(&format!("/api/v1/devices/{nvr_id}/health"), &c.admin)
        .await;
    assert_eq!(health["level"], "abnormal", "{health}");
    assert!(
        health["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["code"].as_str().is_some_and(|c| c.starts_with("hdd."))),
        "{health}"
    );
    assert!(
        !health["storage"].as_array().expect("storage").is_empty(),
        "storage is shown: {health}"
    );
    let (_, cam_health) = s
        .get(&format!("/api/v1/devices/{cam_id}/health"), &c.admin)
        .await;
    assert_eq!(cam_health["level"], "offline", "{cam_health}");

    // Worst first, and the filters find the abnormal devices.
    let (_, list) = s.get("/api/v1/health", &c.admin).await;
    let levels: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["level"].as_str())
        .collect();
    assert_eq!(levels, ["offline", "abnormal", "normal"], "{list}");
    let (_, offline) = s.get("/api/v1/health?level=offline", &c.admin).await;
    assert_eq!(offline["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(offline["items"][0]["device_id"], cam_id.as_str());
    let (_, nvrs) = s.get("/api/v1/health?type=nvr", &c.admin).await;
    assert_eq!(nvrs["items"][0]["device_id"], nvr_id.as_str());
    let needle = &nvr.serial[nvr.serial.len() - 6..];
    let (_, found) = s
        .get(
            &format!("/api/v1/health?q={}", needle.to_lowercase()),
            &c.admin,
        )
        .await;
    assert_eq!(
        found["items"].as_array().map(Vec::len),
        Some(1),
        "search by serial: {found}"
    );
    let (_, summary) = s.get("/api/v1/health/sites", &c.admin).await;
    assert_eq!(summary[0]["worst"], "offline");
    assert_eq!(summary[0]["total"], 3);

    // Recovery, kept as history.
    fleet
        .device(&nvr.serial)
        .expect("nvr")
        .clear_fault(FaultKind::HddError);
    fleet
        .device(&cam.serial)
        .expect("cam")
        .clear_fault(FaultKind::Offline);
    inspect(&s, &c.admin, "all", None).await;
    let (_, health) = s
        .get(&format!("/api/v1/devices/{nvr_id}/health"), &c.admin)
        .await;
    assert_eq!(health["level"], "normal", "{health}");
    let history: Vec<&str> = health["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["level"].as_str())
        .collect();
    assert_eq!(
        history,
        ["normal", "abnormal", "normal"],
        "every change is kept, newest first: {health}"
    );

    // The schedule survives a restart: nothing is re-inspected at once.
    let before = s
        .app
        .store()
        .read()
        .await
        .expect("conn")
        .health(nvr_id.parse().expect("id"))
        .await
        .expect("q")
        .expect("record");
    let s = s.restart().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = s
        .app
        .store()
        .read()
        .await
        .expect("conn")
        .health(nvr_id.parse().expect("id"))
        .await
        .expect("q")
        .expect("record");
    assert_eq!(
        before.last_inspected_at, after.last_inspected_at,
        "no inspection storm after a restart"
    );
    assert!(
        after.next_due_at > s.clock.now(),
        "next due from the stored schedule"
    );
    let (_, health) = s
        .get(&format!("/api/v1/devices/{nvr_id}/health"), &c.admin)
        .await;
    assert_eq!(
        health["history"].as_array().map(Vec::len),
        Some(3),
        "no lost history"
    );
    drop(fleet);
    s.finish().await;
}

async fn health_input_is_checked(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let other = s.company("Other", "olga@other.example").await;
    let theirs = s.site(&other.admin, "Theirs").await;
    for (body, status) in [
        (json!({"scope": "galaxy"}), StatusCode::BAD_REQUEST),
        (json!({"scope": "site"}), StatusCode::BAD_REQUEST),
        (json!({"scope": "all", "id": "x"}), StatusCode::BAD_REQUEST),
        (
            json!({"scope": "site", "id": theirs}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"scope": "device", "id": "nope"}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, res) = s.post("/api/v1/inspections", &c.admin, body.clone()).await;
        assert_eq!(got, status, "{body}: {res}");
    }
    let (status, _) = s.get("/api/v1/inspections/unknown", &c.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for q in ["level=bad", "type=fridge", "site_id=nope"] {
        let (status, body) = s.get(&format!("/api/v1/health?{q}"), &c.admin).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
    }
    let (_, done) = {
        let (status, started) = s
            .post("/api/v1/inspections", &c.admin, json!({"scope": "all"}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        (status, started)
    };
    assert_eq!(
        (done["state"].as_str(), done["total"].as_i64()),
        (Some("done"), Some(0)),
        "nothing to inspect is done at once"
    );
    let (status, _) = s
        .get(
            &format!("/api/v1/inspections/{}", done["id"].as_str().expect("id")),
            &other.admin,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another company's inspection is invisible"
    );
    s.finish().await;
}

/// A change reaches a subscriber of `GET /api/v1/events` live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_arrive_live() {
    let s = TestServer::start(Db::Sqlite).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 9).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let (_, devices) = site_with(&s, &c.admin, &fleet).await;
    let (cam, cam_id) = devices[0].clone();
    inspect(&s, &c.admin, "all", None).await;
    let res = s
        .http
        .get(format!("{}/api/v1/events", s.url))
        .bearer_auth(&c.admin)
        .send()
        .await
        .expect("events");
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.bytes_stream();
    let rival = s.company("Rival", "rita@rival.example").await;
    s.site(&rival.admin, "Elsewhere").await;
    fleet
        .device(&cam.serial)
        .expect("cam")
        .set_fault(Fault::Offline(OfflineMode::Refused))
        .expect("fault");
    let started = Instant::now();
    let (status, _) = s
        .post(
            "/api/v1/inspections",
            &c.admin,
            json!({"scope": "device", "id": cam_id}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mut seen = String::new();
    while !seen.contains("event: health_changed") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("an event within 10 s");
        seen.push_str(&String::from_utf8_lossy(
            &chunk.expect("stream open").expect("bytes"),
        ));
    }
    assert!(
        seen.contains(&cam_id) && seen.contains("\"level\":\"offline\""),
        "{seen}"
    );
    println!(
        "live: offline seen by a subscriber {} ms after asking",
        started.elapsed().as_millis()
    );
    drop(body);
    drop(fleet);
    s.finish().await;
}

/// Between inspections, a fault the device announces on its alert stream shows
/// within seconds, without anyone asking and long before the next round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_fault_shows_within_seconds() {
    let s = TestServer::start(Db::Sqlite).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("nvr=1", 5).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let (_, devices) = site_with(&s, &c.admin, &fleet).await;
    let (nvr, nvr_id) = devices[0].clone();
    let handle = fleet.device(&nvr.serial).expect("nvr");
    // The first inspection runs at once; the next would be ten minutes later.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, h) = s
            .get(&format!("/api/v1/devices/{nvr_id}/health"), &c.admin)
            .await;
        if h["level"] == "normal" && handle.stream_count() > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "first inspection and alert stream: {h}, streams {}",
            handle.stream_count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    handle.set_fault(Fault::HddError).expect("fault");
    loop {
        let (_, h) = s
            .get(&format!("/api/v1/devices/{nvr_id}/health"), &c.admin)
            .await;
        if h["level"] == "abnormal" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the streamed disk error did not show within 5 s: {h}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    println!(
        "streamed fault to status change: {} ms",
        started.elapsed().as_millis()
    );
    drop(fleet);
    s.finish().await;
}
