//! Benchmark: health monitoring of a large simulated fleet on this machine, the
//! simulator sharing the same cores. Prints figures; asserts nothing about speed.
//!
//! `cargo bench -p siteward --bench health` (knobs: `BENCH_DEVICES`, default 10000;
//! `BENCH_CONCURRENCY`, default 64). It reports devices inspected per second, CPU
//! seconds per inspection, server memory, how fast the Health API answers with the
//! whole fleet in it, and the delay from a fault the device streams to the status
//! change.

use siteward_app::{
    AddDevice, Clock, InspectionRequest, LoginInput, RegistrationAdmin, RegistrationCompany,
    RegistrationInput, SiteInput,
};
use siteward_devsim::{Fault, Fleet, FleetSpec};
use siteward_server::config::Settings;
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: u32 = env_or("BENCH_DEVICES", 10_000);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 64);
    println!(
        "siteward health benchmark: {n} devices, {} cores, inspection concurrency {concurrency}",
        std::thread::available_parallelism().map_or(1, |c| c.get())
    );

    // Simulator listeners, their accepted sockets and the server's alert streams:
    // three descriptors per device in this one process. Root may raise the limit.
    let want = u64::from(n) * 4 + 1024;
    if rlimit::setrlimit(rlimit::Resource::NOFILE, want, want).is_err() {
        let _ = rlimit::increase_nofile_limit(want);
    }
    println!(
        "open files limit: {:?}",
        rlimit::getrlimit(rlimit::Resource::NOFILE)
    );
    // Each simulator process serves at most 5,000 devices: a device needs two sockets
    // there, and a process here may hold 20,000.
    let mix_of = |n: u32| {
        let per = (n / 10).max(1);
        format!(
            "ipc={},nvr={per},dvr={per},control_panel={per},access_control={per},video_intercom={per},doorbell={per}",
            n - 6 * per
        )
    };
    let sim_bin = std::env::current_exe()?
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("siteward-devsim"))
        .filter(|b| b.exists());
    let mut children = Vec::new();
    let mut fleet = None;
    let mut devices: Vec<serde_json::Value> = Vec::new();
    match sim_bin {
        Some(bin) => {
            let parts = n.div_ceil(5000);
            for k in 0..parts {
                let count = n / parts + u32::from(k < n % parts);
                // Below the ephemeral range, so no simulated device takes it first.
                let port = 21000 + (std::process::id() % 1000) as u16 * 4 + k as u16;
                let file = std::env::temp_dir()
                    .join(format!("siteward-bench-{}-{k}.json", std::process::id()));
                let child = std::process::Command::new(&bin)
                    .args([
                        "--mix",
                        &mix_of(count),
                        "--seed",
                        &(99 + u64::from(k)).to_string(),
                        "--control",
                        &format!("127.0.0.1:{port}"),
                        "--devices-json",
                    ])
                    .arg(&file)
                    .stdout(std::process::Stdio::null())
                    .spawn()?;
                children.push((child, port, file));
            }
            println!("simulator: {} separate processes", children.len());
            for (_, port, file) in &children {
                let t = Instant::now();
                let list = loop {
                    if let Ok(text) = std::fs::read_to_string(file)
                        && let Ok(v) = serde_json::from_str::<Vec<serde_json::Value>>(&text)
                    {
                        break v;
                    }
                    anyhow::ensure!(
                        t.elapsed() < Duration::from_secs(120),
                        "a simulator did not start"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                };
                devices.extend(list.into_iter().map(|mut d| {
                    d["control_port"] = serde_json::json!(port);
                    d
                }));
            }
        }
        None => {
            println!(
                "simulator: in this process (build it with `cargo build --release -p siteward-devsim` to run it apart)"
            );
            let f = Fleet::start(FleetSpec::parse_mix(&mix_of(n.min(5000)), 99)?).await?;
            devices = f
                .devices()
                .iter()
                .filter_map(|d| serde_json::to_value(d).ok())
                .collect();
            fleet = Some(f);
        }
    }
    let dir = tempfile::tempdir()?;
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    let app = {
        let store = siteward_server::open_store(&settings).await?;
        let key = siteward_server::master_key(&settings)?;
        siteward_app::App::new(
            store,
            key,
            Clock::system(),
            siteward_app::AppConfig {
                inspection_concurrency: concurrency,
                ..siteward_app::AppConfig::default()
            },
        )
    };
    let code = app
        .issue_auth_codes_unchecked("EU", 1, None)
        .await?
        .remove(0)
        .code;
    app.register_company(RegistrationInput {
        auth_code: code,
        company: RegistrationCompany {
            name: "Bench Security".into(),
            region: Some("EU".into()),
            ..Default::default()
        },
        admin: RegistrationAdmin {
            name: "Bench Admin".into(),
            email: "bench@bench.example".into(),
            password: "Fleet-runner-42".into(),
        },
    })
    .await?;
    let (token, admin) = app
        .login(
            LoginInput {
                email: "bench@bench.example".into(),
                password: "Fleet-runner-42".into(),
                app_version: None,
            },
            None,
        )
        .await?;
    let mut sites = Vec::new();
    for i in 0..(n / 100).max(1) {
        let site = app
            .create_site(
                &admin,
                SiteInput {
                    name: format!("Site {i:03}"),
                    address: None,
                    time_zone: "UTC".into(),
                    manager_id: None,
                },
            )
            .await?;
        sites.push(site.id.parse()?);
    }

    // Add every device the way installers do: over ISAPI, with digest auth.
    let t0 = Instant::now();
    let added = futures::stream::iter(devices.iter().enumerate())
        .map(|(i, d)| {
            let app = app.clone();
            let admin = admin.clone();
            let site = sites[i % sites.len()];
            async move {
                let addr: std::net::SocketAddr = d["address"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or_else(|| ([127, 0, 0, 1], 0).into());
                app.add_device(
                    &admin,
                    site,
                    AddDevice::Ip {
                        host: addr.ip().to_string(),
                        port: Some(addr.port()),
                        https: false,
                        accept_invalid_certs: false,
                        username: d["username"].as_str().unwrap_or_default().to_owned(),
                        password: d["password"].as_str().unwrap_or_default().to_owned(),
                        name: None,
                    },
                )
                .await
                .is_ok()
            }
        })
        .buffer_unordered(concurrency)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    println!(
        "add: {added} devices added over ISAPI in {:.1} s ({:.0} devices/s)",
        t0.elapsed().as_secs_f64(),
        added as f64 / t0.elapsed().as_secs_f64()
    );

    // Inspect the whole fleet.
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let started = app
        .start_inspection(
            &admin,
            InspectionRequest {
                scope: "all".into(),
                id: None,
            },
        )
        .await?;
    loop {
        let p = app.inspection(&admin, &started.id).await?;
        if p.state == "done" {
            let secs = t0.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu0;
            println!(
                "inspect: {} devices in {secs:.1} s = {:.0} devices/s ({} not answering); {:.1} ms CPU per inspection (this process); server RSS {:.0} MiB",
                p.done,
                p.done as f64 / secs,
                p.failures,
                cpu * 1000.0 / p.done.max(1) as f64,
                rss_mib()
            );
            if p.failures > 0 {
                let offline = app
                    .health_list(
                        &admin,
                        &siteward_app::HealthQuery {
                            level: Some("offline".into()),
                            ..Default::default()
                        },
                        None,
                        3,
                    )
                    .await?;
                for item in offline.items {
                    println!(
                        "  not answering, e.g. {} ({}): {:?}",
                        item.name,
                        item.device_type,
                        item.reasons.first().map(|r| r.text.clone())
                    );
                }
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The Health page's data with the whole fleet in it, over HTTP.
    let running = siteward_server::start(&settings, app.clone()).await?;
    let http = reqwest::Client::new();
    for (what, path) in [
        (
            "health list (first 200, worst first)",
            "/api/v1/health?limit=200",
        ),
        ("per-site summary", "/api/v1/health/sites"),
        ("locate by serial", "/api/v1/health?q=zz9"),
    ] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let res = http
                .get(format!("{}{path}", running.url()))
                .bearer_auth(&token)
                .send()
                .await?;
            let _ = res.bytes().await?;
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("http: {what}: {best:.0} ms (best of 5)");
    }

    // A fault the device streams, to the status change.
    let nvr = devices.iter().find(|d| d["type"] == "nvr").cloned();
    if let Some(nvr) = nvr {
        let serial = nvr["serial"].as_str().unwrap_or_default().to_owned();
        // Give the listeners time to open every alert stream.
        tokio::time::sleep(Duration::from_secs(20)).await;
        let page = app
            .health_list(
                &admin,
                &siteward_app::HealthQuery {
                    q: Some(serial.clone()),
                    ..Default::default()
                },
                None,
                1,
            )
            .await?;
        if let Some(item) = page.items.first() {
            let id = item.device_id.clone();
            let t = Instant::now();
            match &fleet {
                Some(f) => f
                    .device(&serial)
                    .expect("the nvr")
                    .set_fault(Fault::HddError)?,
                None => {
                    let port = nvr["control_port"].as_u64().unwrap_or_default();
                    http.put(format!(
                        "http://127.0.0.1:{port}/devices/{serial}/faults/hdd_error"
                    ))
                    .send()
                    .await?
                    .error_for_status()?;
                }
            }
            loop {
                let h = app.device_health(&admin, id.parse()?).await?;
                if h.level == "abnormal" {
                    println!(
                        "stream: fault streamed by the device to status change in {} ms ({} devices listened to)",
                        t.elapsed().as_millis(),
                        added
                    );
                    break;
                }
                if t.elapsed() > Duration::from_secs(30) {
                    println!("stream: no status change within 30 s");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    // The portal's Health page as a browser gets it (last: entering the page also
    // asks for fresh status of every device, which sets the scheduler to work).
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let res = http
            .get(format!("{}/portal/health", running.url()))
            .header("cookie", format!("sw_session={token}"))
            .send()
            .await?;
        let ok = res.status().is_success();
        let bytes = res.bytes().await?.len();
        anyhow::ensure!(ok && bytes > 0, "the Health page did not open");
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("http: portal Health page (whole HTML, {n} devices): {best:.0} ms (best of 5)");
    println!("server RSS at the end: {:.0} MiB", rss_mib());
    running.stop().await?;
    for (mut c, _, file) in children {
        let _ = c.kill();
        let _ = c.wait();
        let _ = std::fs::remove_file(file);
    }
    Ok(())
}

use futures::StreamExt;
