//! `siteward-devsim`: starts a simulated fleet, prints its device list (first line of stdout
//! or `--devices-json FILE`) and serves the control API until interrupted.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use siteward_devsim::{Fleet, FleetSpec};

const DEFAULT_MIX: &str =
    "nvr=2,ipc=3,dvr=1,control_panel=1,access_control=1,video_intercom=1,doorbell=1,third_party=1";

/// Simulated Hikvision-family devices speaking ISAPI with digest auth.
#[derive(Debug, Parser)]
#[command(name = "siteward-devsim", version)]
struct Args {
    /// Device counts per type, e.g. `nvr=2,ipc=3,doorbell=1`.
    #[arg(long, conflicts_with = "fleet")]
    mix: Option<String>,
    /// A TOML or YAML fleet description (sites, mixes, brands, seed).
    #[arg(long)]
    fleet: Option<PathBuf>,
    /// Seed for serials, models, passwords and verification codes (overrides the file's).
    #[arg(long)]
    seed: Option<u64>,
    /// Address of the control API.
    #[arg(long, default_value = "127.0.0.1:9900")]
    control: SocketAddr,
    /// Write the device list to this file instead of the first line of stdout.
    #[arg(long)]
    devices_json: Option<PathBuf>,
    /// Alert-stream heartbeat interval in seconds (overrides the file's).
    #[arg(long)]
    heartbeat_secs: Option<f64>,
    /// Siteward's device link (`ws://host:port/link/v1`): devices in link mode (fleet
    /// files: `link = { ipc = 1 }`) connect out to it.
    #[arg(long)]
    link_url: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,siteward_devsim=info".into()),
        )
        .init();
    let args = Args::parse();
    let mut spec = match &args.fleet {
        Some(path) => FleetSpec::from_file(path)?,
        None => FleetSpec::parse_mix(args.mix.as_deref().unwrap_or(DEFAULT_MIX), 1)?,
    };
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    if let Some(h) = args.heartbeat_secs {
        spec.options.heartbeat = Duration::from_secs_f64(h.max(0.01));
    }
    let fleet = Fleet::start(spec).await.context("starting the fleet")?;
    let control = fleet
        .serve_control(args.control)
        .await
        .with_context(|| format!("binding the control API on {}", args.control))?;
    let list = serde_json::to_string(&fleet.devices())?;
    match &args.devices_json {
        Some(path) => std::fs::write(path, format!("{list}\n"))
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{list}")?;
            out.flush()?;
        }
    }
    let links = match &args.link_url {
        Some(url) => fleet.connect_links(url),
        None => Vec::new(),
    };
    tracing::info!(devices = fleet.len(), links = links.len(), %control, "fleet running; Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    for l in &links {
        l.stop();
    }
    drop(fleet);
    Ok(())
}
