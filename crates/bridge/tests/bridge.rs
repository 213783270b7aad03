//! The bridge end to end, with real parts only: the Siteward server in-process on
//! SQLite, simulated devices on the "LAN" (real HTTP with digest auth), and the
//! bridge between them over a real WebSocket — as a library, and as the binary
//! run with a configuration file.

mod support;

use reqwest::StatusCode;
use serde_json::json;
use siteward_bridge::{BridgeHandle, Config};
use siteward_devsim::{DeviceInfo, EventKind, Fault, Fleet, FleetSpec};
use siteward_link::backoff::Backoff;
use std::path::Path;
use std::time::Duration;
use support::{TestServer, config_toml, eventually};

/// Starts the bridge for `devices`, with short back-offs so a test does not wait.
fn bridge(link_url: &str, spool: &Path, devices: &[DeviceInfo]) -> BridgeHandle {
    let mut config = Config::parse(&config_toml(link_url, spool, devices)).expect("config");
    config.backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
    config.stream_backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
    siteward_bridge::start(config).expect("bridge starts")
}

/// Waits until the server has told the bridge about every one of `serials`
/// (accepted, or waiting for an installer to add it).
async fn registered(b: &BridgeHandle, serials: &[&str]) {
    let status = b.agent().status();
    eventually("the bridge registers its devices", || {
        let s = status.borrow().clone();
        let all = serials
            .iter()
            .all(|x| s.accepted.iter().chain(&s.waiting).any(|y| y == x));
        async move { all }
    })
    .await;
}

async fn accepted(b: &BridgeHandle, serials: &[&str]) {
    let status = b.agent().status();
    eventually("the server accepts the bridge's devices", || {
        let s = status.borrow().clone();
        let all = serials.iter().all(|x| s.accepted.iter().any(|y| y == x));
        async move { all }
    })
    .await;
}

async fn streams_open(b: &BridgeHandle, n: usize) {
    eventually("the bridge follows every alert stream", || {
        let open = b.open_streams() == n;
        async move { open }
    })
    .await;
}

/// Issue #6: an NVR and two cameras on the customer's network, none with the cloud
/// client built in, are linked through one bridge; the installer adds each by its
/// own serial number and verification code; they are inspected through the bridge
/// (digest auth on the LAN with the bridge's credentials) and a fault shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_devices_are_added_by_serial_and_inspected_through_the_bridge() {
    let s = TestServer::start().await;
    let fleet = Fleet::start(FleetSpec::parse_mix("nvr=1,ipc=2", 61).expect("mix"))
        .await
        .expect("fleet");
    let devices = fleet.devices();
    let serials: Vec<&str> = devices.iter().map(|d| d.serial.as_str()).collect();
    let spool = tempfile::tempdir().expect("spool");
    let b = bridge(&s.link_url(), spool.path(), &devices);
    registered(&b, &serials).await;

    let admin = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&admin, "Depot").await;
    for d in &devices {
        let (status, added) = s
            .add_by_serial(&admin, &site, &d.serial, &d.verification_code)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {added}", d.serial);
        assert_eq!(
            (&added["connection"], &added["type"], &added["model"]),
            (&json!("link"), &json!(d.kind.as_str()), &json!(d.model)),
            "{added}"
        );
    }
    accepted(&b, &serials).await;
    eventually("every device has had its first inspection", || async {
        let (_, h) = s
            .get(&format!("/api/v1/health?site_id={site}"), &admin)
            .await;
        h["items"]
            .as_array()
            .is_some_and(|l| l.len() == 3 && l.iter().all(|d| d["level"] == "normal"))
    })
    .await;

    let nvr = devices
        .iter()
        .find(|d| d.kind.as_str() == "nvr")
        .expect("nvr");
    fleet
        .device(&nvr.serial)
        .expect("nvr")
        .set_fault(Fault::HddError)
        .expect("fault");
    let done = s.inspect(&admin, &site).await;
    assert_eq!(done["failures"], json!(0), "{done}");
    for d in &devices {
        let want = if d.serial == nvr.serial {
            "abnormal"
        } else {
            "normal"
        };
        assert_eq!(
            s.level_of(&admin, &site, &d.serial).await,
            Some(json!(want)),
            "{}",
            d.serial
        );
    }
    b.stop().await;
    s.finish().await;
}

/// Events raised while the platform is unreachable wait on disk; they survive a
/// restart of the bridge (same epoch, same seq) and reach the server once it is
/// back, each stored exactly once. Sending the same events again (a spool copied
/// from before they were acknowledged) stores nothing twice, and the next event
/// still counts on from the right seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_on_disk_through_an_outage_and_a_bridge_restart_and_arrive_once() {
    let mut s = TestServer::start().await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=2", 62).expect("mix"))
        .await
        .expect("fleet");
    let devices = fleet.devices();
    let (a, b_serial) = (devices[0].serial.clone(), devices[1].serial.clone());
    let serials = [a.as_str(), b_serial.as_str()];
    let spool = tempfile::tempdir().expect("spool");
    let link_url = s.link_url();
    let bridge1 = bridge(&link_url, spool.path(), &devices);

    let admin = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&admin, "Home").await;
    registered(&bridge1, &serials).await;
    for d in &devices {
        let (status, added) = s
            .add_by_serial(&admin, &site, &d.serial, &d.verification_code)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
    }
    accepted(&bridge1, &serials).await;
    let owner = s.hand_over(&admin, &site, "olga@home.example").await;
    streams_open(&bridge1, 2).await;
    let cam_a = fleet.device(&a).expect("a");
    let cam_b = fleet.device(&b_serial).expect("b");

    // Connected: an alarm goes through at once.
    cam_a
        .emit(EventKind::Intrusion, Some(1), None)
        .expect("event");
    eventually("the first alarm is stored and acknowledged", || async {
        s.alarms(&owner).await == 1 && bridge1.agent().unacknowledged(&a) == 0
    })
    .await;
    let epoch_a = bridge1.agent().epoch(&a).expect("epoch");

    // The platform goes away; five alarms happen meanwhile and wait on disk.
    s.stop().await;
    let status = bridge1.agent().status();
    eventually("the link is down", || {
        let down = !status.borrow().connected;
        async move { down }
    })
    .await;
    for _ in 0..3 {
        cam_a
            .emit(EventKind::Intrusion, Some(1), None)
            .expect("event");
    }
    for _ in 0..2 {
        cam_b
            .emit(EventKind::Intrusion, Some(1), None)
            .expect("event");
    }
    eventually("the events wait in the bridge", || async {
        bridge1.agent().unacknowledged(&a) == 3 && bridge1.agent().unacknowledged(&b_serial) == 2
    })
    .await;
    let journal = |serial: &str| {
        let name = siteward_link::spool::file_name(serial);
        std::fs::read_to_string(spool.path().join(format!("{name}.jsonl"))).unwrap_or_default()
    };
    assert_eq!(kept_on_disk(&journal(&a)), [2, 3, 4], "{}", journal(&a));
    assert_eq!(kept_on_disk(&journal(&b_serial)), [1, 2]);
    assert!(journal(&a).contains(&epoch_a), "the epoch is kept on disk");

    // The bridge restarts while the platform is still away: the events are read
    // back with their epoch and seq.
    bridge1.stop().await;
    let saved = tempfile::tempdir().expect("copy");
    copy_dir(spool.path(), saved.path());
    let bridge2 = bridge(&link_url, spool.path(), &devices);
    assert_eq!(bridge2.agent().unacknowledged(&a), 3);
    assert_eq!(bridge2.agent().unacknowledged(&b_serial), 2);
    assert_eq!(bridge2.agent().epoch(&a).as_deref(), Some(epoch_a.as_str()));
    assert_eq!(bridge2.agent().next_seq(&a), Some(5));

    // The platform is back: each event arrives once.
    let s = s.start_again().await;
    accepted(&bridge2, &serials).await;
    eventually("the five alarms arrive", || async {
        s.alarms(&owner).await == 6
            && bridge2.agent().unacknowledged(&a) == 0
            && bridge2.agent().unacknowledged(&b_serial) == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.alarms(&owner).await, 6, "nothing doubled");
    assert_eq!(
        kept_on_disk(&journal(&a)),
        [0u64; 0],
        "acknowledged events are dropped from the journal: {}",
        journal(&a)
    );

    // The spool as it was before the events were stored: the server tells the
    // bridge it has them, and nothing is stored twice.
    bridge2.stop().await;
    for f in std::fs::read_dir(spool.path()).expect("spool") {
        let f = f.expect("entry").path();
        if f.extension().is_some_and(|e| e == "jsonl") {
            std::fs::remove_file(&f).expect("remove");
        }
    }
    copy_dir(saved.path(), spool.path());
    let bridge3 = bridge(&link_url, spool.path(), &devices);
    assert_eq!(bridge3.agent().unacknowledged(&a), 3);
    accepted(&bridge3, &serials).await;
    streams_open(&bridge3, 2).await;
    eventually("the kept events are known to be stored", || async {
        bridge3.agent().unacknowledged(&a) == 0 && bridge3.agent().unacknowledged(&b_serial) == 0
    })
    .await;
    assert_eq!(s.alarms(&owner).await, 6, "a resent event is stored once");

    // The counter goes on: the next event is new to the server.
    cam_b
        .emit(EventKind::Intrusion, Some(1), None)
        .expect("event");
    eventually("the next alarm is stored", || async {
        s.alarms(&owner).await == 7 && bridge3.agent().unacknowledged(&b_serial) == 0
    })
    .await;
    bridge3.stop().await;
    s.finish().await;
}

/// The seqs a journal still keeps: its events after the last `drop`.
fn kept_on_disk(journal: &str) -> Vec<u64> {
    let mut kept = Vec::new();
    for line in journal.lines() {
        let Ok(r) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        match (r["t"].as_str(), r["seq"].as_u64(), r["upto"].as_u64()) {
            (Some("event"), Some(seq), _) => kept.push(seq),
            (Some("drop"), _, Some(upto)) => kept.retain(|s| *s > upto),
            _ => {}
        }
    }
    kept
}

fn copy_dir(from: &Path, to: &Path) {
    for f in std::fs::read_dir(from).expect("dir") {
        let f = f.expect("entry").path();
        if f.extension().is_some_and(|e| e == "jsonl") {
            let name = f.file_name().expect("name");
            std::fs::copy(&f, to.join(name)).expect("copy");
        }
    }
}

/// The binary, as an installer runs it: `--check` accepts a good file and names
/// what is wrong in a bad one; run with the file, it links the device, which the
/// installer then adds and Siteward inspects through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_from_a_configuration_file() {
    let s = TestServer::start().await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 63).expect("mix"))
        .await
        .expect("fleet");
    let devices = fleet.devices();
    let cam = &devices[0];
    let dir = tempfile::tempdir().expect("dir");
    let spool = dir.path().join("spool");
    let file = dir.path().join("bridge.toml");
    std::fs::write(&file, config_toml(&s.link_url(), &spool, &devices)).expect("write");
    let exe = env!("CARGO_BIN_EXE_siteward-bridge");

    let check = tokio::process::Command::new(exe)
        .arg("--config")
        .arg(&file)
        .arg("--check")
        .output()
        .await
        .expect("run --check");
    assert!(check.status.success(), "{check:?}");
    assert!(String::from_utf8_lossy(&check.stdout).contains("ok (1 device(s)"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        config_toml(&s.link_url(), &spool, &devices).replace(&cam.verification_code, "12"),
    )
    .expect("write");
    let refused = tokio::process::Command::new(exe)
        .arg("--config")
        .arg(&bad)
        .output()
        .await
        .expect("run bad");
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("devices[0].verification_code"), "{err}");

    let mut child = tokio::process::Command::new(exe)
        .arg("--config")
        .arg(&file)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the bridge");
    let admin = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&admin, "Depot").await;
    // Added while the bridge connects: at once, or as soon as it has.
    let (status, body) = s
        .add_by_serial(&admin, &site, &cam.serial, &cam.verification_code)
        .await;
    assert!(
        status == StatusCode::CREATED || status == StatusCode::ACCEPTED,
        "{status} {body}"
    );
    eventually("the camera is added through the bridge", || async {
        s.site_devices(&admin, &site).await.len() == 1
    })
    .await;
    let done = s.inspect(&admin, &site).await;
    assert_eq!(done["failures"], json!(0), "{done}");
    assert_eq!(
        s.level_of(&admin, &site, &cam.serial).await,
        Some(json!("normal"))
    );
    assert!(
        spool
            .join(format!(
                "{}.jsonl",
                siteward_link::spool::file_name(&cam.serial)
            ))
            .exists(),
        "the spool is kept on disk"
    );
    assert!(child.try_wait().expect("status").is_none(), "still running");
    child.kill().await.expect("stop the bridge");
    s.finish().await;
}

/// The bridge's account on a LAN device is wrong: Siteward hears the device's
/// refusal, and the bridge does not try the refused password again (its alert
/// stream keeps being retried), so the device never locks the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_lan_credentials_are_reported_and_not_retried() {
    let s = TestServer::start().await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 64).expect("mix"))
        .await
        .expect("fleet");
    let mut devices = fleet.devices();
    devices[0].password = "not-the-password".into();
    let cam = devices[0].clone();
    let device = fleet.device(&cam.serial).expect("cam");
    device
        .set_fault(Fault::Lockout {
            attempts: Some(3),
            duration: Some(Duration::from_secs(600)),
        })
        .expect("lockout policy");
    let spool = tempfile::tempdir().expect("spool");
    let b = bridge(&s.link_url(), spool.path(), &devices);
    registered(&b, &[cam.serial.as_str()]).await;
    let admin = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&admin, "Depot").await;
    // Siteward reads the device through the bridge when it is added: refused.
    let (status, body) = s
        .add_by_serial(&admin, &site, &cam.serial, &cam.verification_code)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("device.bad_answer")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("credentials rejected")),
        "{body}"
    );
    // Asked again, the device is still connected and waiting: the same clear
    // answer, not "waiting to connect".
    let (status, again) = s
        .add_by_serial(&admin, &site, &cam.serial, &cam.verification_code)
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{again}");
    // Meanwhile the alert stream is retried every half second or so, without
    // trying the refused password again: three wrong ones would lock it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!device.is_locked(), "the bridge must not lock the account");
    assert_eq!(b.open_streams(), 0);
    b.stop().await;
    s.finish().await;
}

/// A real server is reached over `wss://`: the bridge's build has TLS for the
/// link (the handshake is attempted, not refused as "not compiled in").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_speaks_tls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // Accepts and hangs up: not a TLS server.
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            drop(sock);
        }
    });
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 65).expect("mix"))
        .await
        .expect("fleet");
    let spool = tempfile::tempdir().expect("spool");
    let b = bridge(
        &format!("wss://127.0.0.1:{port}/link/v1"),
        spool.path(),
        &fleet.devices(),
    );
    let status = b.agent().status();
    eventually("the first connection fails", || {
        let e = status.borrow().last_error.clone();
        async move { e.is_some() }
    })
    .await;
    let error = status.borrow().last_error.clone().unwrap_or_default();
    assert!(
        !error.to_ascii_lowercase().contains("not compiled"),
        "{error}"
    );
    b.stop().await;
}
