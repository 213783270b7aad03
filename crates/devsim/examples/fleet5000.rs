//! Starts 5,000 simulated devices in one process and prints how long the start took and the
//! process RSS (from /proc/self/status). Run with
//! `cargo run --release -p siteward-devsim --example fleet5000`.

use std::time::Instant;

use siteward_devsim::{DeviceKind, Fleet, FleetSpec};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mix = vec![
        (DeviceKind::Ipc, 2_500),
        (DeviceKind::Nvr, 800),
        (DeviceKind::Dvr, 300),
        (DeviceKind::ControlPanel, 400),
        (DeviceKind::AccessControl, 300),
        (DeviceKind::VideoIntercom, 300),
        (DeviceKind::Doorbell, 399),
        (DeviceKind::ThirdParty, 1),
    ];
    let spec = FleetSpec::from_mix(mix, 7);
    let before = rss_kib();
    let t = Instant::now();
    let fleet = Fleet::start(spec).await?;
    let started = t.elapsed();
    let after = rss_kib();
    println!(
        "started {} devices in {:.2?}; RSS {} MiB (before {} MiB)",
        fleet.len(),
        started,
        after / 1024,
        before / 1024
    );
    // Every listener accepts a connection.
    let t = Instant::now();
    let mut ok = 0usize;
    for d in fleet.devices() {
        if tokio::net::TcpStream::connect(d.address).await.is_ok() {
            ok += 1;
        }
    }
    println!(
        "{ok}/{} listeners accepted a connection in {:.2?}; RSS {} MiB",
        fleet.len(),
        t.elapsed(),
        rss_kib() / 1024
    );
    Ok(())
}
