//! Adding a device by serial number and verification code in the portal:
//! the form with its CSRF token, the waiting list on the site page, a clear message
//! for bad input, and the device among the site's devices once it connects.

use crate::on_both;
use crate::support::{Db, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use siteward_devsim::{Fleet, FleetSpec};
use std::time::{Duration, Instant};

on_both!(the_portal_adds_devices_by_serial_number);

async fn the_portal_adds_devices_by_serial_number(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("doorbell=1", 51).expect("mix"))
        .await
        .expect("fleet");
    let bell = fleet.devices().remove(0);
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Villa").await;
    let cookie = format!("sw_session={}", c.admin);
    let csrf = s
        .app
        .authenticate(&c.admin)
        .await
        .expect("session")
        .csrf_token;
    let post = |fields: Vec<(&'static str, String)>| {
        let s = &s;
        let cookie = cookie.clone();
        let site = site.clone();
        async move {
            s.http
                .post(format!("{}/portal/sites/{site}/devices/link", s.url))
                .header("cookie", cookie)
                .form(&fields)
                .send()
                .await
                .expect("post")
        }
    };
    let page = || async {
        s.http
            .get(format!("{}/portal/sites/{site}", s.url))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("html")
    };
    assert!(
        page()
            .await
            .contains("Add a device by serial number and verification code")
    );

    // Without the form's token: refused, nothing waits.
    let res = post(vec![
        ("csrf", "forged".into()),
        ("serial", bell.serial.clone()),
        ("verification_code", bell.verification_code.clone()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, pending) = s
        .get(&format!("/api/v1/sites/{site}/devices/pending"), &c.admin)
        .await;
    assert_eq!(pending, json!([]));

    // A code that cannot be one: a message, nothing written.
    let res = post(vec![
        ("csrf", csrf.clone()),
        ("serial", bell.serial.clone()),
        ("verification_code", "12".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page().await;
    assert!(
        html.contains("verification_code"),
        "the message names the field"
    );
    assert!(!html.contains("Waiting to connect"));

    // The right form: waiting, shown on the site page.
    let res = post(vec![
        ("csrf", csrf.clone()),
        ("serial", bell.serial.clone()),
        ("verification_code", bell.verification_code.clone()),
        ("name", "Front door".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page().await;
    assert!(html.contains("Waiting to connect"), "{html}");
    assert!(html.contains(&bell.serial) && html.contains("Front door"));

    // It connects: it is a device of the site, named as asked.
    let link = fleet
        .device(&bell.serial)
        .expect("bell")
        .connect_link(&format!(
            "{}/link/v1",
            s.url.replacen("http://", "ws://", 1)
        ));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, list) = s
            .get(&format!("/api/v1/sites/{site}/devices"), &c.admin)
            .await;
        if list["items"][0]["name"] == "Front door" {
            assert_eq!(list["items"][0]["connection"], "link");
            break;
        }
        assert!(Instant::now() < deadline, "not added: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!page().await.contains("Waiting to connect"));
    link.stop();
    s.finish().await;
}
