//! The Siteward server: configuration, start-up and the wiring of the parts.
//!
//! `main.rs` is the command line; this library is what it and the integration tests
//! share, so the tests start exactly the server people run.

pub mod config;
pub mod demo;

/// The allocator of every program built on the server (the binary, its tests and
/// benchmarks): thousands of connections allocate and free small buffers all the
/// time, which the system allocator answers with more CPU and fragmented memory.
/// Built without the default `mimalloc` feature, programs use the system
/// allocator, which heap profilers such as heaptrack can follow.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use axum::serve::ListenerExt as _;
use config::Settings;
use siteward_app::{App, AppConfig, Clock, MasterKey, SmtpConfig};
use siteward_store::Store;
use std::net::SocketAddr;
use std::path::Path;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A server that is listening.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The application behind it.
    pub app: App,
    /// The HTTP server task.
    pub task: JoinHandle<std::io::Result<()>>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// The base URL, such as `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (for at most five seconds:
    /// live event streams never finish by themselves), and closes the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        // Device links are long-lived: close them so the shutdown does not wait.
        self.app.stop_links();
        match tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.task).await {
            Ok(joined) => joined.context("server task")??,
            Err(_) => {
                tracing::info!("open connections cut after the shutdown grace period");
                self.task.abort();
            }
        }
        // Counters of stored link events are written in the background; write
        // what is left so the devices resume exactly where they were.
        if let Err(e) = self.app.flush_link_counters().await {
            tracing::warn!(error = %e, "writing the link event counters failed");
        }
        self.app.store().close().await;
        Ok(())
    }
}

/// Reads the master key from the settings or the data directory, creating one on
/// first start.
pub fn master_key(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(k) = &settings.master_key {
        return MasterKey::from_base64(k).context("master_key");
    }
    let path = settings.data_dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return MasterKey::from_base64(&text).with_context(|| format!("{}", path.display()));
    }
    let key = MasterKey::generate();
    write_private(&path, &key.to_base64())?;
    tracing::warn!(
        path = %path.display(),
        "generated a new master key: it encrypts every device secret; back this file up \
         (without it, stored device credentials cannot be read)"
    );
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Opens (and migrates) the database the settings name.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    let url = settings.database_url();
    Store::open(&url)
        .await
        .with_context(|| format!("opening database {}", config::redact_url(&url)))
}

/// Builds the application from the settings.
pub async fn build_app(settings: &Settings, clock: Clock) -> anyhow::Result<App> {
    let store = open_store(settings).await?;
    let key = master_key(settings)?;
    let config = AppConfig {
        inspection_interval_ms: i64::try_from(settings.inspection_interval_secs.max(10))
            .unwrap_or(600)
            * 1000,
        notify_hold_ms: i64::try_from(settings.notify_hold_secs)
            .unwrap_or(60)
            .saturating_mul(1000),
        renotify_ms: i64::try_from(settings.renotify_secs)
            .unwrap_or(0)
            .saturating_mul(1000),
        smtp: settings.smtp_url.as_ref().map(|url| SmtpConfig {
            url: url.clone(),
            from: settings.smtp_from.clone(),
        }),
        handover: siteward_core::handover::HandoverSettings {
            minimum_app_version: settings.min_app_version,
            invitation_ttl_ms: i64::from(settings.invitation_valid_hours.max(1))
                * siteward_core::handover::HOUR_MS,
        },
        public_url: settings.public_url.clone(),
        link_silence_ms: i64::from(settings.link_silence_secs.max(10)) * 1000,
        ..AppConfig::default()
    };
    if let Some(smtp) = &config.smtp {
        siteward_app::smtp_transport(smtp)
            .map_err(|e| anyhow::anyhow!("{e} ({})", config::redact_url(&smtp.url)))?;
    }
    Ok(App::new(store, key, clock, config))
}

/// Starts serving `app` on `settings.listen` (port 0 picks a free port).
pub async fn start(settings: &Settings, app: App) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let router = siteward_web::router(
        app.clone(),
        siteward_web::WebConfig {
            public_url: settings
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}")),
        },
    );
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        // Responses and device-link frames go out at once: Nagle's algorithm
        // would hold a small frame back until the previous one is answered.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        });
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })
        .await
    });
    spawn_housekeeping(app.clone(), tx.subscribe());
    tokio::spawn(app.clone().run_scheduler(tx.subscribe()));
    tokio::spawn(app.clone().run_notifier(tx.subscribe()));
    tokio::spawn(app.clone().run_listeners(tx.subscribe()));
    Ok(Running {
        addr,
        app,
        task,
        shutdown: tx,
    })
}

/// How often SQLite's write-ahead log is copied into the database (nothing
/// happens on PostgreSQL). Often, so that little is left to copy when a commit
/// reaches SQLite's automatic checkpoint and finishes the copy itself: at 10,000
/// link events/s, p99 60–65 ms against 80–89 ms checkpointing every second.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Periodic upkeep: forget expired sessions; checkpoint SQLite's write-ahead log.
fn spawn_housekeeping(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut checkpoint = tokio::time::interval(CHECKPOINT_EVERY);
        checkpoint.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = checkpoint.tick() => {
                    if let Err(e) = app.store().checkpoint().await {
                        tracing::warn!(error = %e, "checkpointing the database failed");
                    }
                }
                _ = tick.tick() => {
                    match app.purge_expired_sessions().await {
                        Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "session clean-up failed"),
                    }
                }
                _ = stop.changed() => break,
            }
        }
    });
}
