//! Benchmark: how many ISAPI requests per second the client (crate `isapi`, digest
//! auth over real HTTP) and the simulator sustain together on this machine, and the
//! simulator's memory per device for a fleet of 5,000.
//!
//! `cargo bench -p siteward-devsim --bench isapi` — prints figures; asserts nothing
//! about speed. Knobs: `BENCH_DEVICES` (default 5000), `BENCH_SECONDS` (default 5),
//! `BENCH_CONCURRENCY` (default 64).

use futures::StreamExt;
use siteward_devsim::{Fleet, FleetSpec};
use siteward_isapi::{Client, Credentials, HttpConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of this process, in KiB.
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

/// CPU seconds (user + system) this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/self/stat; 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main]
async fn main() {
    let devices: u32 = env_or("BENCH_DEVICES", 5000);
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 64);
    println!(
        "siteward ISAPI benchmark: {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // Memory per simulated device.
    let before = rss_kib();
    let started = Instant::now();
    let per_kind = (devices / 7).max(1);
    let mix = format!(
        "ipc={},nvr={},dvr={},control_panel={},access_control={},video_intercom={},doorbell={}",
        devices - 6 * per_kind,
        per_kind,
        per_kind,
        per_kind,
        per_kind,
        per_kind,
        per_kind
    );
    let fleet = Fleet::start(FleetSpec::parse_mix(&mix, 42).expect("mix"))
        .await
        .expect("fleet");
    let start_ms = started.elapsed().as_millis();
    let after = rss_kib();
    let n = fleet.len() as u64;
    println!("fleet: {n} devices started in {start_ms} ms");
    println!(
        "simulator memory: {:.1} MiB for {n} devices = {:.1} KiB per device (RSS {} → {} KiB)",
        (after.saturating_sub(before)) as f64 / 1024.0,
        after.saturating_sub(before) as f64 / n.max(1) as f64,
        before,
        after
    );

    // Throughput: device information over digest auth, across many devices at once.
    let targets: Vec<Client> = fleet
        .devices()
        .into_iter()
        .filter(|d| !d.brand.eq_ignore_ascii_case("axis"))
        .take(concurrency * 4)
        .map(|d| {
            Client::http(
                HttpConfig::new(format!("http://{}", d.address)),
                Credentials::new(&d.username, &d.password),
            )
            .expect("client")
        })
        .collect();
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let cpu_before = cpu_seconds();
    let t0 = Instant::now();
    futures::stream::iter(0..concurrency)
        .for_each_concurrent(concurrency, |worker| {
            let clients = targets.clone();
            let done = done.clone();
            let failed = failed.clone();
            async move {
                let mut i = worker;
                while Instant::now() < deadline {
                    let client = &clients[i % clients.len()];
                    match client.device_info().await {
                        Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                    i += concurrency;
                }
            }
        })
        .await;
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let ok = done.load(Ordering::Relaxed);
    println!(
        "throughput: {ok} GET /ISAPI/System/deviceInfo in {elapsed:.1} s = {:.0} requests/s \
         ({} clients, {concurrency} in flight, {} failed), client and simulator in one process",
        ok as f64 / elapsed,
        targets.len(),
        failed.load(Ordering::Relaxed)
    );
    println!(
        "cpu: {cpu:.2} s for {ok} requests = {:.0} µs of CPU per request (client + simulator)",
        cpu * 1e6 / ok.max(1) as f64
    );
}
