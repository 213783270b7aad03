//! `siteward-bridge`: runs the on-site bridge from a configuration file until
//! stopped (Ctrl-C or SIGTERM), checks a configuration, prints an example one,
//! or lists the devices that answer a SADP probe on the LAN.

use clap::Parser;
use siteward_bridge::config::{Config, EXAMPLE};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The on-site bridge: links the devices on this network to Siteward.
#[derive(Debug, Parser)]
#[command(name = "siteward-bridge", version)]
struct Cli {
    /// The configuration file (TOML; see --example).
    #[arg(long, short, env = "SITEWARD_BRIDGE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Check the configuration and exit.
    #[arg(long, requires = "config")]
    check: bool,
    /// Print an example configuration and exit.
    #[arg(long, conflicts_with_all = ["config", "discover"])]
    example: bool,
    /// List the devices on this network that answer a SADP probe, and exit.
    #[arg(long, conflicts_with = "config")]
    discover: bool,
    /// How long --discover waits for answers, in seconds.
    #[arg(long, default_value_t = 3, value_name = "SECS", requires = "discover")]
    wait: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if cli.example {
        print!("{EXAMPLE}");
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("siteward-bridge: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if cli.discover {
        return runtime.block_on(discover(Duration::from_secs(cli.wait.clamp(1, 60))));
    }
    let Some(path) = cli.config else {
        eprintln!(
            "siteward-bridge: give the configuration with --config FILE (--example prints one)"
        );
        return ExitCode::from(2);
    };
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("siteward-bridge: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.check {
        println!(
            "{}: ok ({} device(s), link {})",
            path.display(),
            config.devices.len(),
            config.url
        );
        return ExitCode::SUCCESS;
    }
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    if config.url.starts_with("ws://") && !is_loopback(&config.url) {
        tracing::warn!(url = %config.url, "the link is not encrypted (ws://); use wss:// outside a test");
    }
    let bridge = match siteward_bridge::start(config) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("siteward-bridge: {e}");
            return ExitCode::FAILURE;
        }
    };
    stopped().await;
    tracing::info!("stopping");
    bridge.stop().await;
    ExitCode::SUCCESS
}

fn is_loopback(url: &str) -> bool {
    let host = url
        .split_once("://")
        .map_or(url, |(_, r)| r)
        .split('/')
        .next()
        .unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .filter(|(h, _)| !h.is_empty() && !h.ends_with(':'))
        .map_or(host, |(h, _)| h);
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Waits for Ctrl-C or, on Unix, SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn discover(wait: Duration) -> ExitCode {
    match siteward_bridge::sadp::discover(wait).await {
        Ok(found) if found.is_empty() => {
            println!(
                "no device answered within {} s (SADP needs the bridge on the devices' network segment)",
                wait.as_secs()
            );
            ExitCode::SUCCESS
        }
        Ok(found) => {
            for f in found {
                println!("{}", f.describe());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "siteward-bridge: SADP discovery failed: {e} (is UDP port 37020 in use, e.g. by the SADP tool?)"
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for url in [
            "ws://127.0.0.1:8080/link/v1",
            "ws://localhost/link/v1",
            "ws://[::1]:80/link/v1",
            "ws://[::1]/link/v1",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in ["ws://10.0.0.2/link/v1", "ws://sw.example:80/link/v1"] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
