//! Benchmark: the device link at scale on this machine (issue #6). Prints figures;
//! asserts nothing about speed.
//!
//! `cargo bench -p siteward --bench link` (knobs: `BENCH_LINKS`, default 18000;
//! `BENCH_RATE`, steady event rates per second to run one after the other, default
//! `10000,5000`; `BENCH_SECS` each, default 20; `BENCH_BURST`, default 50000;
//! `BENCH_RAMP` new links per second, default 1500; `BENCH_PER_SITE` devices per
//! site, default 100; `BENCH_SQLITE_SYNC`, the server database's `synchronous`
//! setting, `full` (the default, as the server's) or `normal`; `BENCH_SERVER_WRAP`,
//! a profiler command to run the server under). `RUST_LOG=siteward_app::link=debug`
//! shows each stored batch (the server process logs to stderr).
//!
//! Two processes. The server runs in a child process — this same binary started
//! again with `SITEWARD_LINK_BENCH_ROLE=server` — on SQLite, started as `siteward`
//! starts it; this process runs the simulated devices, one
//! `siteward_link::agent::Agent` per device with a trivial relay, spread over the
//! source addresses 127.0.0.1 to 127.0.0.200 (one address runs out of ports near
//! 28,000). Apart because a process may hold 20,000 open files here and a link is
//! a socket at both ends; because the server's memory is then measured alone; and
//! because a restart is then a real one.
//!
//! Phases: links held (with heartbeats) and the server's memory per link; events
//! at a steady rate, acknowledged after a durable batched commit, with the time
//! from `push_event` to the device seeing its acknowledgement; a burst absorbed and
//! counted in the database; the server restarted and every link back, with the
//! reconnections per second; the time to notice a dropped device (socket closed,
//! and silent with the socket open) with `link_silence_secs` = 10.

use futures::StreamExt as _;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use siteward_app::{
    AcceptInput, AddDevice, AuthorizationInput, Clock, EndUserSignUp, HealthQuery, InvitationInput,
    LoginInput, Principal, RegistrationAdmin, RegistrationCompany, RegistrationInput, SiteInput,
};
use siteward_link::LinkKey;
use siteward_link::agent::{
    Agent, AgentConfig, AgentDevice, AgentHandle, Relay, RelayAnswer, RelayRequest,
};
use siteward_link::frame::{DeviceClaim, Frame, LinkResponse, Register, SUBPROTOCOL};
use siteward_server::config::Settings;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

const ROLE: &str = "SITEWARD_LINK_BENCH_ROLE";
const ADMIN: (&str, &str) = ("bench@bench.example", "Fleet-runner-42");
const OWNER: (&str, &str) = ("olga@home.example", "Alarm-keeper-77");
/// Source addresses the devices connect from: 127.0.0.1 to 127.0.0.200.
const SOURCES: usize = 200;
/// An intrusion alarm as a camera writes it: every event is stored as an alarm.
const INTRUSION: &str = r#"<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.168.1.64</ipAddress><portNo>80</portNo><protocol>HTTP</protocol>
<channelID>1</channelID><dateTime>2026-01-31T13:53:05+01:00</dateTime>
<activePostCount>1</activePostCount><eventType>fielddetection</eventType>
<eventState>active</eventState><eventDescription>fielddetection alarm</eventDescription>
</EventNotificationAlert>"#;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server database's `synchronous` setting (`BENCH_SQLITE_SYNC`).
fn sqlite_sync() -> String {
    std::env::var("BENCH_SQLITE_SYNC").unwrap_or_else(|_| "full".into())
}

fn serial_of(i: usize) -> String {
    format!("SWB{i:07}")
}

fn code_of(i: usize) -> String {
    format!(
        "K{:08}",
        (i as u64).wrapping_mul(2_654_435_761) % 100_000_000
    )
}

/// A `Field:  123 kB` line of a `/proc` file, in KiB.
fn kib_of(path: &str, field: &str) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

fn rss_kib(pid: &str) -> f64 {
    kib_of(&format!("/proc/{pid}/status"), "VmRSS:")
}

fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn unix_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn raise_fd_limit() -> u64 {
    if let Ok((_, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard);
    }
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(soft, _)| soft)
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if std::env::var(ROLE).as_deref() == Ok("server") {
        runtime.block_on(server_main())
    } else {
        runtime.block_on(bench_main())
    }
}

// ---------------------------------------------------------------------------
// The server process.

/// Answers one line on stdout.
fn reply(v: &Value) {
    println!("{v}");
}

async fn server_main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("error,siteward_app::link=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    raise_fd_limit();
    let mut settings = Settings {
        listen: std::env::var("BENCH_LISTEN")?,
        data_dir: PathBuf::from(std::env::var("BENCH_DATA")?),
        link_silence_secs: env_or("BENCH_SILENCE", 60),
        ..Settings::default()
    };
    settings.database_url = Some(format!(
        "{}?synchronous={}",
        settings.database_url(),
        sqlite_sync()
    ));
    let setup: usize = env_or("BENCH_SETUP", 0);
    let per_site: usize = env_or("BENCH_PER_SITE", 100).max(1);
    let t = Instant::now();
    let app = siteward_server::build_app(&settings, Clock::system()).await?;
    if setup > 0 {
        set_up(&app, setup, per_site).await?;
    }
    let (_, admin) = app
        .login(
            LoginInput {
                email: ADMIN.0.into(),
                password: ADMIN.1.into(),
                app_version: None,
            },
            None,
        )
        .await?;
    let running = siteward_server::start(&settings, app.clone()).await?;
    reply(
        &json!({"ready": true, "setup_s": t.elapsed().as_secs_f64(), "rss_kib": rss_kib("self")}),
    );

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("links"), _) => reply(&json!({"links": app.links().connected_count()})),
            (Some("watch"), Some(serial)) => {
                let connected = app.links().is_connected(serial);
                reply(&json!({"watching": serial, "connected": connected}));
                let (gone_at, offline_at) = watch(&app, &admin, serial).await;
                reply(&json!({"gone_at": gone_at, "offline_at": offline_at}));
            }
            _ => break,
        }
    }
    running.stop().await?;
    Ok(())
}

/// A company, sites of `per_site` devices handed over to one owner (so device
/// events become the owner's alarms; the installer keeps health monitoring), and
/// `n` devices added by serial number and verification code, waiting to connect.
async fn set_up(app: &siteward_app::App, n: usize, per_site: usize) -> anyhow::Result<()> {
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
            email: ADMIN.0.into(),
            password: ADMIN.1.into(),
        },
    })
    .await?;
    let (_, admin) = app
        .login(
            LoginInput {
                email: ADMIN.0.into(),
                password: ADMIN.1.into(),
                app_version: None,
            },
            None,
        )
        .await?;
    app.sign_up_end_user(
        EndUserSignUp {
            email: OWNER.0.into(),
            password: OWNER.1.into(),
            name: "Olga Owner".into(),
            region: "EU".into(),
            app_version: "5.0".into(),
        },
        None,
    )
    .await?;
    let (_, owner) = app
        .login(
            LoginInput {
                email: OWNER.0.into(),
                password: OWNER.1.into(),
                app_version: Some("5.0".into()),
            },
            None,
        )
        .await?;
    let mut sites = Vec::new();
    for s in 0..n.div_ceil(per_site) {
        let site = app
            .create_site(
                &admin,
                SiteInput {
                    name: format!("Site {s:04}"),
                    address: None,
                    time_zone: "UTC".into(),
                    manager_id: None,
                },
            )
            .await?;
        sites.push(site.id.parse()?);
    }
    let failed = futures::stream::iter(0..n)
        .map(|i| {
            let site = sites[i / per_site];
            let admin = admin.clone();
            async move {
                app.add_device(
                    &admin,
                    site,
                    AddDevice::Link {
                        serial: serial_of(i),
                        verification_code: code_of(i),
                        name: None,
                    },
                )
                .await
                .err()
            }
        })
        .buffer_unordered(16)
        .filter_map(std::future::ready)
        .collect::<Vec<_>>()
        .await;
    anyhow::ensure!(
        failed.is_empty(),
        "{} devices not added, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    for site in sites {
        hand_over(app, &admin, &owner, site).await?;
    }
    Ok(())
}

async fn hand_over(
    app: &siteward_app::App,
    admin: &Principal,
    owner: &Principal,
    site: siteward_core::SiteId,
) -> anyhow::Result<()> {
    let inv = app
        .invite_owner(
            admin,
            site,
            InvitationInput {
                end_user_email: OWNER.0.into(),
                authorization: Some(AuthorizationInput {
                    permissions: vec!["site_info".into(), "health_monitoring".into()],
                    device_ids: None,
                    duration_hours: None,
                    remark: None,
                }),
            },
        )
        .await?;
    app.accept_invitation(owner, inv.id.parse()?, AcceptInput::default())
        .await?;
    Ok(())
}

/// When (Unix µs) `serial` was no longer served by a connection, and when its
/// status showed offline (within two minutes).
async fn watch(app: &siteward_app::App, admin: &Principal, serial: &str) -> (i64, i64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while app.links().is_connected(serial) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let gone_at = unix_micros();
    let id = app
        .health_list(
            admin,
            &HealthQuery {
                q: Some(serial.to_owned()),
                ..Default::default()
            },
            None,
            1,
        )
        .await
        .ok()
        .and_then(|p| p.items.first().and_then(|i| i.device_id.parse().ok()));
    let Some(id) = id else {
        return (gone_at, 0);
    };
    while Instant::now() < deadline {
        if app
            .device_health(admin, id)
            .await
            .is_ok_and(|h| h.level == "offline")
        {
            return (gone_at, unix_micros());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (gone_at, 0)
}

// ---------------------------------------------------------------------------
// The devices' process.

/// The server process, spoken to over its stdin and stdout.
struct Server {
    child: Child,
    pid: String,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Server {
    async fn start(
        data: &Path,
        port: u16,
        silence: u32,
        setup: usize,
    ) -> anyhow::Result<(Self, Value)> {
        // `BENCH_SERVER_WRAP`, e.g. `heaptrack -o /tmp/server`, runs the server
        // under a profiler (the memory figures are then the profiler's process).
        let wrap = std::env::var("BENCH_SERVER_WRAP").unwrap_or_default();
        let mut words = wrap.split_whitespace();
        let mut command = match words.next() {
            Some(program) => {
                let mut c = tokio::process::Command::new(program);
                c.args(words).arg(std::env::current_exe()?);
                c
            }
            None => tokio::process::Command::new(std::env::current_exe()?),
        };
        let mut child = command
            .env(ROLE, "server")
            .env("BENCH_DATA", data)
            .env("BENCH_LISTEN", format!("127.0.0.1:{port}"))
            .env("BENCH_SILENCE", silence.to_string())
            .env("BENCH_SETUP", setup.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().map(|p| p.to_string()).unwrap_or_default();
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut server = Self {
            child,
            pid,
            stdin,
            lines: BufReader::new(stdout).lines(),
        };
        let ready = server.next().await?;
        Ok((server, ready))
    }

    async fn next(&mut self) -> anyhow::Result<Value> {
        loop {
            let line = self
                .lines
                .next_line()
                .await?
                .ok_or_else(|| anyhow::anyhow!("the server process ended"))?;
            // A profiler the server runs under may write its own lines.
            if line.starts_with('{') {
                return Ok(serde_json::from_str(&line)?);
            }
            eprintln!("server: {line}");
        }
    }

    async fn ask(&mut self, command: &str) -> anyhow::Result<Value> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        self.next().await
    }

    fn rss_kib(&self) -> f64 {
        rss_kib(&self.pid)
    }

    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.pid)
    }

    /// Stops it as an operator would, and waits until it is gone.
    async fn stop(mut self) -> anyhow::Result<()> {
        self.stdin.write_all(b"quit\n").await?;
        self.stdin.flush().await?;
        match tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}

/// Answers `deviceInfo` as a camera; everything else is not supported.
struct BenchRelay;

impl Relay for BenchRelay {
    fn request(&self, serial: &str, r: RelayRequest) -> BoxFuture<'static, RelayAnswer> {
        let answer = answer_for(serial, &r.path);
        Box::pin(async move { answer })
    }
}

fn answer_for(serial: &str, path: &str) -> RelayAnswer {
    if path.starts_with("/ISAPI/System/deviceInfo") {
        RelayAnswer::Http {
            status: 200,
            headers: vec![("content-type".into(), "application/xml".into())],
            body: device_info(serial).into_bytes(),
        }
    } else {
        RelayAnswer::Http {
            status: 404,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

fn device_info(serial: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<deviceName>Bench camera</deviceName><model>DS-2CD2386G2-IU</model>
<serialNumber>DS-2CD2386G2-IU20240101AA{serial}</serialNumber>
<firmwareVersion>V5.7.18</firmwareVersion><deviceType>IPCamera</deviceType>
</DeviceInfo>"#
    )
}

fn source_of(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % SOURCES) as u8))
}

fn start_agent(url: &str, i: usize) -> AgentHandle {
    let serial = serial_of(i);
    let mut config = AgentConfig::new(
        url,
        "siteward-link-bench",
        vec![AgentDevice {
            key: LinkKey::derive(&code_of(i), &serial),
            serial,
            device_type: Some("ipc".into()),
        }],
    );
    config.local_addr = Some(source_of(i));
    let (agent, handle) = Agent::new(config, BenchRelay);
    tokio::spawn(agent.run());
    handle
}

struct Devices {
    handles: Vec<AgentHandle>,
    serials: Vec<String>,
}

impl Devices {
    fn connected(&self) -> usize {
        self.handles
            .iter()
            .filter(|h| h.status().borrow().connected)
            .count()
    }

    fn connections(&self) -> u64 {
        self.handles
            .iter()
            .map(|h| h.status().borrow().connections)
            .sum()
    }

    fn acked(&self) -> u64 {
        self.handles
            .iter()
            .zip(&self.serials)
            .map(|(h, s)| h.acked_seq(s).unwrap_or(0))
            .sum()
    }
}

/// What a run of events showed.
struct Run {
    pushed: u64,
    acked: u64,
    /// From the first push to the last acknowledgement.
    secs: f64,
    /// Milliseconds from `push_event` to the device seeing the acknowledgement.
    latencies: Vec<f64>,
    /// The slowest acknowledgement of the events pushed in each second, in ms.
    worst: Vec<f64>,
}

impl Run {
    fn pct(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }
}

/// Pushes `total` events, at `rate` per second (infinite: all at once), to the
/// devices in turn from `*next`, and waits (at most `patience` after the last
/// push) until each is acknowledged.
async fn run_events(
    devices: &Devices,
    next: &mut usize,
    total: u64,
    rate: f64,
    patience: Duration,
) -> Run {
    let n = devices.handles.len();
    let mut outstanding: HashMap<usize, VecDeque<(u64, Instant)>> = HashMap::new();
    let mut latencies = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut worst: Vec<f64> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let start = Instant::now();
    let mut pushed = 0u64;
    let mut last_push = start;
    let mut last_ack = start;
    let mut last_check = start;
    loop {
        tick.tick().await;
        let due = if rate.is_infinite() {
            total
        } else {
            ((rate * start.elapsed().as_secs_f64()) as u64).min(total)
        };
        while pushed < due {
            let d = *next % n;
            *next += 1;
            if let Some(seq) = devices.handles[d].push_event(&devices.serials[d], INTRUSION) {
                outstanding
                    .entry(d)
                    .or_default()
                    .push_back((seq, Instant::now()));
            }
            pushed += 1;
            last_push = Instant::now();
        }
        // Looking at every device with events in flight costs; with many, look
        // less often (the figures are coarser then, and large anyway).
        let every = Duration::from_millis(1 + outstanding.len() as u64 / 2000);
        if last_check.elapsed() < every {
            continue;
        }
        let now = Instant::now();
        last_check = now;
        outstanding.retain(|d, q| {
            let acked = devices.handles[*d]
                .acked_seq(&devices.serials[*d])
                .unwrap_or(0);
            while let Some((_, t)) = q.front().copied().filter(|(s, _)| *s <= acked) {
                q.pop_front();
                let ms = now.duration_since(t).as_secs_f64() * 1000.0;
                latencies.push(ms);
                let sec = t.duration_since(start).as_secs() as usize;
                if worst.len() <= sec {
                    worst.resize(sec + 1, 0.0);
                }
                worst[sec] = f64::max(worst[sec], ms);
                last_ack = now;
            }
            !q.is_empty()
        });
        if pushed == total && (outstanding.is_empty() || last_push.elapsed() > patience) {
            break;
        }
    }
    latencies.sort_by(f64::total_cmp);
    Run {
        pushed,
        acked: latencies.len() as u64,
        secs: last_ack.duration_since(start).as_secs_f64(),
        latencies,
        worst,
    }
}

/// What the database holds: alarms, and the sum of the devices' stored link seqs.
async fn stored(db: &Path) -> anyhow::Result<(i64, i64)> {
    use sqlx::ConnectOptions as _;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await?;
    let alarms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alarms")
        .fetch_one(&mut conn)
        .await?;
    let seqs: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(link_seq), 0) FROM devices")
        .fetch_one(&mut conn)
        .await?;
    Ok((alarms, seqs))
}

/// Devices not inspected since `since` (Unix ms).
async fn not_inspected_since(db: &Path, since: i64) -> i64 {
    use sqlx::ConnectOptions as _;
    let Ok(mut conn) = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
    else {
        return i64::MAX;
    };
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM device_health WHERE last_inspected_at IS NULL OR last_inspected_at < $1",
    )
    .bind(since)
    .fetch_one(&mut conn)
    .await
    .unwrap_or(i64::MAX)
}

/// Waits until every device was inspected since `since` (Unix ms), at most `cap`.
async fn inspected(db: &Path, since: i64, cap: Duration) -> bool {
    let t = Instant::now();
    while not_inspected_since(db, since).await > 0 {
        if t.elapsed() > cap {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    true
}

async fn device_count(db: &Path) -> i64 {
    use sqlx::ConnectOptions as _;
    let Ok(mut conn) = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
    else {
        return 0;
    };
    sqlx::query_scalar("SELECT COUNT(*) FROM devices")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0)
}

/// A free port below the ephemeral range, so no device's socket takes it while
/// the server restarts.
fn pick_port() -> anyhow::Result<u16> {
    let base = 22000 + (std::process::id() % 500) as u16 * 8;
    (base..base + 400)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .ok_or_else(|| anyhow::anyhow!("no free port near {base}"))
}

async fn bench_main() -> anyhow::Result<()> {
    let n: usize = env_or("BENCH_LINKS", 18_000).max(2);
    let rates_text = std::env::var("BENCH_RATE").unwrap_or_else(|_| "10000,5000".into());
    let rates: Vec<f64> = rates_text
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .filter(|r: &f64| *r > 0.0)
        .collect();
    let secs: f64 = env_or("BENCH_SECS", 20.0);
    let burst: u64 = env_or("BENCH_BURST", 50_000);
    let ramp: f64 = env_or("BENCH_RAMP", 1_500.0_f64).max(10.0);
    let per_site: usize = env_or("BENCH_PER_SITE", 100);
    let mem_gib = kib_of("/proc/meminfo", "MemTotal:") / 1024.0 / 1024.0;
    println!("siteward link benchmark (issue #6): prints figures, asserts nothing about speed");
    let sync = sqlite_sync();
    println!(
        "command: BENCH_LINKS={n} BENCH_RATE={rates_text} BENCH_SECS={secs} BENCH_BURST={burst} BENCH_RAMP={ramp} BENCH_PER_SITE={per_site} BENCH_SQLITE_SYNC={sync} cargo bench -p siteward --bench link"
    );
    let fds = raise_fd_limit();
    println!(
        "machine: {} cores, {mem_gib:.1} GiB RAM, open files per process {fds}, ephemeral ports {}",
        std::thread::available_parallelism().map_or(1, |c| c.get()),
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
    );
    println!(
        "layout: server in its own process on SQLite (WAL, synchronous={sync}: {}); {n} devices in this process, one agent each, from {} source addresses 127.0.0.1-127.0.0.{}; both processes share the cores",
        if sync == "full" {
            "every commit flushed to disk before its events are acknowledged"
        } else {
            "commits flushed at checkpoints only"
        },
        SOURCES.min(n),
        SOURCES.min(n)
    );
    if (fds as usize) < n + 500 {
        println!(
            "warning: {fds} open files is not enough for {n} links in one process; expect failures"
        );
    }

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("siteward.db");
    let port = pick_port()?;
    let url = format!("ws://127.0.0.1:{port}/link/v1");
    let silent = n; // one more device, for the silent-link test
    let (mut server, ready) = Server::start(dir.path(), port, 60, n + 1).await?;
    let base_rss = server.rss_kib();
    println!(
        "setup: company, {} sites handed over to an owner, {} devices added by serial (waiting) in {:.1} s; server RSS {:.0} MiB before any link",
        (n + 1).div_ceil(per_site.max(1)),
        n + 1,
        ready["setup_s"].as_f64().unwrap_or(0.0),
        base_rss / 1024.0
    );

    // --- Links held, with heartbeats.
    let client_rss0 = rss_kib("self");
    let t0 = Instant::now();
    let cpu0 = server.cpu_seconds();
    let mut handles = Vec::with_capacity(n);
    let step = (ramp / 10.0).ceil() as usize;
    for i in 0..n {
        handles.push(start_agent(&url, i));
        if (i + 1) % step == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let devices = Devices {
        serials: (0..n).map(serial_of).collect(),
        handles,
    };
    let mut last_report = Instant::now();
    loop {
        let c = devices.connected();
        if c == n || t0.elapsed() > Duration::from_secs(600) {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(15) {
            println!(
                "  … {c} of {n} links registered after {:.0} s",
                t0.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connect_s = t0.elapsed().as_secs_f64();
    println!(
        "connect: {} of {n} links registered in {connect_s:.1} s ({:.0}/s; ramp {ramp:.0}/s); server RSS {:.0} MiB",
        devices.connected(),
        devices.connected() as f64 / connect_s,
        server.rss_kib() / 1024.0
    );
    while device_count(&db).await < n as i64 && t0.elapsed() < Duration::from_secs(900) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "added: {} devices read over their links (deviceInfo) and stored after {:.1} s; server RSS {:.0} MiB",
        device_count(&db).await,
        t0.elapsed().as_secs_f64(),
        server.rss_kib() / 1024.0
    );
    // Quiet: the first inspections (through the links) are done.
    let first = inspected(&db, 0, Duration::from_secs(1200)).await;
    let setup_cpu = server.cpu_seconds() - cpu0;
    println!(
        "inspected: {} first inspections (through the links) after {:.1} s; server CPU for connecting, adding and inspecting: {:.1} s ({:.2} ms per device); server RSS {:.0} MiB",
        if first { "all" } else { "NOT all" },
        t0.elapsed().as_secs_f64(),
        setup_cpu,
        setup_cpu * 1000.0 / n as f64,
        server.rss_kib() / 1024.0
    );
    let hold = Instant::now();
    let cpu_hold0 = server.cpu_seconds();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let idle_cpu = (server.cpu_seconds() - cpu_hold0) / hold.elapsed().as_secs_f64();
    let links = server.ask("links").await?["links"].as_u64().unwrap_or(0);
    let rss = server.rss_kib();
    let client_rss = rss_kib("self");
    println!(
        "held: {links} links on the server ({} agents registered, {} reconnects) for 30 s with heartbeats every 20 s both ways; server CPU while idle {:.1}% of a core",
        devices.connected(),
        devices.connections().saturating_sub(n as u64),
        idle_cpu * 100.0
    );
    println!(
        "memory: server RSS {:.0} MiB = {:.0} MiB before links + {:.0} MiB for {n} links = {:.1} KiB per link (server process alone: sockets, sessions, the hub, cached clients, SQLite's cache of the larger database); devices' process {:.1} KiB per link",
        rss / 1024.0,
        base_rss / 1024.0,
        (rss - base_rss) / 1024.0,
        (rss - base_rss) / n as f64,
        (client_rss - client_rss0) / n as f64
    );

    // --- Events at steady rates: the target first, then lower ones.
    let mut next = 0usize;
    let mut pushed = 0u64;
    for rate in &rates {
        let rate = *rate;
        let warm = run_events(
            &devices,
            &mut next,
            (rate * 3.0) as u64,
            rate,
            Duration::from_secs(120),
        )
        .await;
        let (cpu_ev0, devices_cpu0) = (server.cpu_seconds(), cpu_seconds("self"));
        let steady = run_events(
            &devices,
            &mut next,
            (rate * secs) as u64,
            rate,
            Duration::from_secs(120),
        )
        .await;
        let ev_cpu = server.cpu_seconds() - cpu_ev0;
        let devices_cpu = cpu_seconds("self") - devices_cpu0;
        pushed += warm.pushed + steady.pushed;
        println!(
            "events at {rate:.0}/s: {} pushed over {secs:.0} s (after 3 s of warm-up) to {n} devices, {} acknowledged in {:.1} s = {:.0} events/s; push → ack p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms; server CPU {:.0}% of a core ({:.0} µs per event), devices' process {:.0}% ({:.0} µs per event)",
            steady.pushed,
            steady.acked,
            steady.secs,
            steady.acked as f64 / steady.secs.max(1e-9),
            steady.pct(0.5),
            steady.pct(0.99),
            steady.pct(0.999),
            steady.pct(1.0),
            ev_cpu * 100.0 / steady.secs.max(1e-9),
            ev_cpu * 1e6 / steady.acked.max(1) as f64,
            devices_cpu * 100.0 / steady.secs.max(1e-9),
            devices_cpu * 1e6 / steady.acked.max(1) as f64
        );
        println!(
            "  {} of {} over 25 ms; the slowest acknowledgement per second of pushing (ms): {}",
            steady.latencies.iter().filter(|l| **l > 25.0).count(),
            steady.acked,
            steady
                .worst
                .iter()
                .map(|w| format!("{w:.0}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }

    // --- A burst.
    let cpu_b0 = server.cpu_seconds();
    let b = run_events(
        &devices,
        &mut next,
        burst,
        f64::INFINITY,
        Duration::from_secs(120),
    )
    .await;
    let b_cpu = server.cpu_seconds() - cpu_b0;
    let pushed = pushed + b.pushed;
    println!(
        "burst: {} events pushed at once, {} acknowledged in {:.1} s = {:.0} events/s (p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms to ack); server CPU {:.0} µs per event",
        b.pushed,
        b.acked,
        b.secs,
        b.acked as f64 / b.secs.max(1e-9),
        b.pct(0.5),
        b.pct(0.99),
        b.pct(1.0),
        b_cpu * 1e6 / b.acked.max(1) as f64
    );
    // --- Restart: every link comes back, spread by the back-off.
    let before = devices.connections();
    let t_stop = Instant::now();
    let restarted_ms = unix_micros() / 1000;
    server.stop().await?;
    let stopped_s = t_stop.elapsed().as_secs_f64();
    // Alarms are committed before they are acknowledged; the devices' counters
    // are written in the background and on the way out: both are checked with
    // the server stopped.
    let (alarms, seqs) = stored(&db).await?;
    println!(
        "stored: {pushed} events pushed in all, {} acknowledged to the devices; the database holds {alarms} alarms and link seqs summing to {seqs}: {}",
        devices.acked(),
        if alarms == pushed as i64 && seqs == pushed as i64 {
            "none lost, none doubled".to_owned()
        } else {
            format!(
                "MISMATCH ({} lost or doubled)",
                pushed as i64 - alarms.min(seqs)
            )
        }
    );

    // Down for the stop and the start (not the count above).
    let t_start = Instant::now();
    let (mut server, _) = Server::start(dir.path(), port, 10, 0).await?;
    let down_s = stopped_s + t_start.elapsed().as_secs_f64();
    let t_up = Instant::now();
    let mut samples: Vec<(f64, u64)> = vec![(0.0, 0)];
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let back = devices.connections() - before;
        samples.push((t_up.elapsed().as_secs_f64(), back));
        if (back as usize >= n && devices.connected() == n)
            || t_up.elapsed() > Duration::from_secs(600)
        {
            break;
        }
    }
    let all_back = t_up.elapsed().as_secs_f64();
    let mut best = 0u64;
    for (i, (t, c)) in samples.iter().enumerate() {
        let window_start = samples[..=i]
            .iter()
            .rev()
            .find(|(s, _)| t - s >= 1.0)
            .map_or(0, |(_, c0)| *c0);
        best = best.max(c - window_start);
    }
    let per_second: Vec<String> = (0..all_back.ceil() as usize)
        .map(|s| {
            let at = |sec: f64| {
                samples
                    .iter()
                    .rev()
                    .find(|(t, _)| *t <= sec)
                    .map_or(0, |(_, c)| *c)
            };
            (at(s as f64 + 1.0) - at(s as f64)).to_string()
        })
        .collect();
    let links = server.ask("links").await?["links"].as_u64().unwrap_or(0);
    println!(
        "restart: server stopped in {stopped_s:.1} s and listening again {down_s:.1} s after the stop; all {n} links back {all_back:.1} s later ({} on the server), at most {best} registrations in any 1 s (the back-off spreads them: full jitter over 1, 2, 4 … s)",
        links
    );
    println!(
        "  registrations per second after the restart: {}",
        per_second.join(" ")
    );
    // Each returning device is inspected again; the drop tests start after that.
    let again = inspected(&db, restarted_ms, Duration::from_secs(900)).await;
    println!(
        "  every returning device is looked at again: {} inspected {:.0} s after the restart",
        if again { "all" } else { "NOT all" },
        t_up.elapsed().as_secs_f64()
    );

    // --- A dropped device: socket closed, then silent with the socket open.
    let victim = &devices.handles[0];
    let watching = server.ask(&format!("watch {}", devices.serials[0])).await?;
    let t_drop = unix_micros();
    victim.drop_connection();
    let mut st = victim.status();
    let _ = tokio::time::timeout(Duration::from_secs(5), st.wait_for(|s| !s.connected)).await;
    victim.stop();
    let seen = server.next().await?;
    println!(
        "drop (socket closed, no close frame): gone from the hub in {:.0} ms, status offline in {} (link_silence_secs 10; it was connected: {})",
        (seen["gone_at"].as_i64().unwrap_or(0) - t_drop) as f64 / 1000.0,
        after_s(&seen["offline_at"], t_drop),
        watching["connected"]
    );
    match silent_device(&url, silent).await {
        Ok(link) => {
            let watching = server.ask(&format!("watch {}", serial_of(silent))).await?;
            let t_quiet = link.quiet_at;
            let seen = server.next().await?;
            println!(
                "drop (silent, socket open): gone from the hub {:.1} s after its last frame, status offline in {} (limit 10 s, it was connected: {})",
                (seen["gone_at"].as_i64().unwrap_or(0) - t_quiet) as f64 / 1e6,
                after_s(&seen["offline_at"], t_quiet),
                watching["connected"]
            );
            link.release().await;
        }
        Err(e) => println!("drop (silent): could not set up the silent device: {e}"),
    }

    for h in &devices.handles {
        h.stop();
    }
    server.stop().await?;
    Ok(())
}

fn after_s(at: &Value, since: i64) -> String {
    match at.as_i64().filter(|a| *a > 0) {
        Some(a) if a - since < 1_000_000 => format!("{:.0} ms", (a - since) as f64 / 1e3),
        Some(a) => format!("{:.1} s", (a - since) as f64 / 1e6),
        None => "— (not within two minutes)".into(),
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A device on a hand-made link that answers until the server has added and
/// inspected it, then sends and reads nothing, keeping its socket open, as a
/// device behind a dead network path would.
struct SilentLink {
    ws: Ws,
    /// Unix µs of its last frame.
    quiet_at: i64,
}

impl SilentLink {
    async fn release(mut self) {
        let _ = self.ws.close(None).await;
    }
}

async fn silent_device(url: &str, i: usize) -> anyhow::Result<SilentLink> {
    use futures::SinkExt as _;
    let serial = serial_of(i);
    let key = LinkKey::derive(&code_of(i), &serial);
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", SUBPROTOCOL.parse()?);
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((Ipv4Addr::new(127, 0, 0, 250), 0).into())?;
    let stream = socket
        .connect(
            url.trim_start_matches("ws://")
                .split('/')
                .next()
                .unwrap_or_default()
                .parse()?,
        )
        .await?;
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream).await?;
    let hello = match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => match Frame::decode(t.as_str())? {
            Frame::Hello(h) => h,
            other => anyhow::bail!("expected hello, got {other:?}"),
        },
        other => anyhow::bail!("no hello: {other:?}"),
    };
    let nonce = siteward_link::proof::nonce_from([7u8; 32]);
    ws.send(Message::text(
        Frame::Register(Register {
            agent: "siteward-link-bench/silent".into(),
            nonce,
            devices: vec![DeviceClaim {
                proof: key.device_proof(&hello.nonce, &serial),
                serial: serial.clone(),
                epoch: "silent".into(),
                device_type: Some("ipc".into()),
            }],
        })
        .encode(),
    ))
    .await?;
    // Answers requests until none came for two seconds (added, then inspected).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last_request = Instant::now();
    // When this end last sent a frame (an answer, or the pong to a ping, which
    // goes out with the next read): the server's silence counts from there.
    let mut last_frame = unix_micros();
    while Instant::now() < deadline && last_request.elapsed() < Duration::from_secs(2) {
        let frame = match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => Frame::decode(t.as_str())?,
            Ok(Some(Ok(Message::Ping(_)))) => {
                last_frame = unix_micros();
                continue;
            }
            Ok(Some(Ok(_))) | Err(_) => continue,
            Ok(other) => anyhow::bail!("link ended: {other:?}"),
        };
        if let Frame::Request(r) = frame {
            last_request = Instant::now();
            let RelayAnswer::Http {
                status,
                headers,
                body,
            } = answer_for(&serial, &r.path)
            else {
                continue;
            };
            ws.send(Message::text(
                Frame::Response(LinkResponse {
                    id: r.id,
                    status: Some(status),
                    headers,
                    body: siteward_link::frame::encode_body(&body),
                    error: None,
                    detail: None,
                })
                .encode(),
            ))
            .await?;
            last_frame = unix_micros();
        }
    }
    ws.flush().await?;
    Ok(SilentLink {
        ws,
        quiet_at: last_frame,
    })
}
