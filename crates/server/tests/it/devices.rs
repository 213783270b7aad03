//! Adding devices by IP over real HTTP with digest auth, against simulated devices of
//! every type.

use crate::on_both;
use crate::support::{Db, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use siteward_devsim::{DeviceInfo, Fault, Fleet, FleetSpec};

on_both!(
    devices_of_every_type_are_added_with_clear_errors,
    device_rights_follow_the_site
);

fn add_body(d: &DeviceInfo, password: &str) -> Value {
    json!({
        "via": "ip",
        "host": d.address.ip().to_string(),
        "port": d.address.port(),
        "username": d.username,
        "password": password,
    })
}

fn of_type<'a>(fleet: &'a [DeviceInfo], t: &str) -> &'a DeviceInfo {
    fleet
        .iter()
        .find(|d| {
            serde_json::to_value(d)
                .map(|v| v["type"] == t)
                .unwrap_or(false)
        })
        .unwrap_or_else(|| panic!("no {t} in the fleet"))
}

async fn devices_of_every_type_are_added_with_clear_errors(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(
        FleetSpec::parse_mix(
            "nvr=1,ipc=1,dvr=1,control_panel=1,access_control=1,video_intercom=1,doorbell=1,third_party=1",
            7,
        )
        .expect("mix"),
    )
    .await
    .expect("fleet");
    let devices = fleet.devices();
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    let path = format!("/api/v1/sites/{site}/devices");

    for t in [
        "nvr",
        "ipc",
        "dvr",
        "control_panel",
        "access_control",
        "video_intercom",
        "doorbell",
    ] {
        let d = of_type(&devices, t);
        let (status, body) = s.post(&path, &c.admin, add_body(d, &d.password)).await;
        assert_eq!(status, StatusCode::CREATED, "{t} {}: {body}", d.model);
        assert_eq!(body["type"], t, "{body}");
        assert_eq!(body["model"], d.model.as_str());
        assert_eq!(body["connection"], "ip");
        assert_eq!(body["online"], true);
        assert!(
            body["serial"]
                .as_str()
                .is_some_and(|s| s.contains(&d.serial)),
            "{body} vs {}",
            d.serial
        );
        assert!(body.get("password").is_none(), "R-18: never shown back");
    }
    let (_, list) = s.get(&path, &c.admin).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(7));

    // a third-party device is refused with a clear message.
    let other = of_type(&devices, "third_party");
    let (status, body) = s
        .post(&path, &c.admin, add_body(other, &other.password))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("device.incompatible")
        ),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("Hikvision, HiLook or EZVIZ"),
        "{body}"
    );

    // Already managed: by us, and by another company.
    let nvr = of_type(&devices, "nvr");
    let (status, body) = s.post(&path, &c.admin, add_body(nvr, &nvr.password)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("device.duplicate"))
    );
    let rival = s.company("Rival", "rita@rival.example").await;
    let rival_site = s.site(&rival.admin, "Rival depot").await;
    let (status, body) = s
        .post(
            &format!("/api/v1/sites/{rival_site}/devices"),
            &rival.admin,
            add_body(nvr, &nvr.password),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("device.managed_elsewhere")),
        "{body}"
    );

    // Unreachable: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let (status, body) = s.post(&path, &c.admin, json!({"via": "ip", "host": "127.0.0.1", "port": closed, "username": "admin", "password": "x"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("device.unreachable")),
        "{body}"
    );

    // Wrong password, with a warning before the device locks the account; then locked.
    let cam = of_type(&devices, "ipc");
    let (status, _) = s
        .delete(
            &format!("/api/v1/devices/{}", find_id(&list, &cam.model)),
            &c.admin,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    fleet
        .device(&cam.serial)
        .expect("camera")
        .set_fault(Fault::Lockout {
            attempts: Some(2),
            duration: None,
        })
        .expect("lockout fault");
    let (status, body) = s
        .post(&path, &c.admin, add_body(cam, "not-the-password"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("device.wrong_credentials")
        ),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap_or("").contains("locks"),
        "a warning before the lock: {body}"
    );
    let (status, _) = s
        .post(&path, &c.admin, add_body(cam, "not-the-password"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = s.post(&path, &c.admin, add_body(cam, &cam.password)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("device.locked")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap_or("").contains("unlocks"),
        "{body}"
    );

    // Bad input.
    for (bad, field) in [
        (
            json!({"via": "ip", "host": "http://cam/", "username": "admin", "password": "x"}),
            "host",
        ),
        (
            json!({"via": "ip", "host": "cam.example", "port": 0, "username": "admin", "password": "x"}),
            "port",
        ),
        (
            json!({"via": "ip", "host": "cam.example", "username": "", "password": "x"}),
            "username",
        ),
    ] {
        let (status, body) = s.post(&path, &c.admin, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    let (status, body) = s
        .post(&path, &c.admin, json!({"via": "carrier-pigeon"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // By serial number (the device link, R-14): a code that cannot be one is
    // refused by field; a plausible one waits for the device to connect.
    let (status, body) = s
        .post(
            &path,
            &c.admin,
            json!({"via": "link", "serial": "X", "verification_code": "12"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "verification_code", "{body}");
    let (status, body) = s
        .post(
            &path,
            &c.admin,
            json!({"via": "link", "serial": "X", "verification_code": "ABCDEF"}),
        )
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::ACCEPTED, Some("pending")),
        "{body}"
    );

    // the passwords are not readable in the database.
    let mut h = s.app.store().read().await.expect("conn");
    let stored = h
        .device_by_serial(body_serial(&s, &c.admin, &path, &nvr.model).await.as_str())
        .await
        .expect("query")
        .expect("device");
    assert!(stored.secret.starts_with("v1:") && !stored.secret.contains(&nvr.password));
    let opened = s
        .app
        .master_key()
        .open(&stored.secret, stored.id.to_string().as_bytes())
        .expect("opens with the key");
    assert_eq!(opened, nvr.password.as_bytes());
    drop(h);
    if db == Db::Sqlite {
        let dir = &s.settings.data_dir;
        for file in ["siteward.db", "siteward.db-wal"] {
            let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
            for d in &devices {
                let needle = d.password.as_bytes();
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{file} holds a device password in clear"
                );
            }
        }
    }
    drop(fleet);
    s.finish().await;
}

fn find_id(list: &Value, model: &str) -> String {
    list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|d| d["model"] == model))
        .and_then(|d| d["id"].as_str())
        .unwrap_or_else(|| panic!("{model} not in {list}"))
        .to_owned()
}

async fn body_serial(s: &TestServer, token: &str, path: &str, model: &str) -> String {
    let (_, list) = s.get(path, token).await;
    list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|d| d["model"] == model))
        .and_then(|d| d["serial"].as_str())
        .unwrap_or_else(|| panic!("{model} not in {list}"))
        .to_owned()
}

/// the Installer Admin and the site's Site Manager manage its devices; a
/// Site Manager sees only the devices of his sites.
async fn device_rights_follow_the_site(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=3", 11).expect("mix"))
        .await
        .expect("fleet");
    let devices = fleet.devices();
    let c = s.company("Acme", "ada@acme.example").await;
    let (_, it) = s
        .employee(&c.admin, "Ivan IT", "ivan@acme.example", "it_manager")
        .await;
    let (_, sue) = s
        .employee(&c.admin, "Sue Site", "sue@acme.example", "site_manager")
        .await;
    let sue_site = s.site(&sue, "Sue's shop").await;
    let hq = s.site(&c.admin, "HQ").await;

    let (status, body) = s
        .post(
            &format!("/api/v1/sites/{sue_site}/devices"),
            &it,
            add_body(&devices[0], &devices[0].password),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("policy.device_managers_only"))
    );
    let (status, mine) = s
        .post(
            &format!("/api/v1/sites/{sue_site}/devices"),
            &sue,
            add_body(&devices[0], &devices[0].password),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let (status, _) = s
        .post(
            &format!("/api/v1/sites/{hq}/devices"),
            &sue,
            add_body(&devices[1], &devices[1].password),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not her site");
    let (status, theirs) = s
        .post(
            &format!("/api/v1/sites/{hq}/devices"),
            &c.admin,
            add_body(&devices[1], &devices[1].password),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");

    let (_, all) = s.get("/api/v1/devices", &sue).await;
    let ids: Vec<&str> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [mine["id"].as_str().expect("id")],
        "a Site Manager sees only her sites' devices"
    );
    let (_, all) = s.get("/api/v1/devices", &it).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2));
    let theirs_path = format!("/api/v1/devices/{}", theirs["id"].as_str().expect("id"));
    assert_eq!(s.get(&theirs_path, &sue).await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&theirs_path, &sue).await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&theirs_path, &it).await.0, StatusCode::FORBIDDEN);
    let mine_path = format!("/api/v1/devices/{}", mine["id"].as_str().expect("id"));
    assert_eq!(s.delete(&mine_path, &sue).await.0, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&mine_path, &c.admin).await.0, StatusCode::NOT_FOUND);
    let (_, audit) = s
        .get(&format!("/api/v1/sites/{sue_site}/audit"), &sue)
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(&actions[..2], ["device.delete", "device.add"]);
    let other = s.company("Other", "olga@other.example").await;
    assert_eq!(
        s.get(&theirs_path, &other.admin).await.0,
        StatusCode::NOT_FOUND,
        "R-40"
    );
    drop(fleet);
    s.finish().await;
}
