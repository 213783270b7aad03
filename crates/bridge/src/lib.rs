//! The on-site bridge (issue #6): a small program on a box in the customer's
//! network that links the Hikvision-family devices beside it to Siteward without
//! opening a port. It connects out over the device link (`docs/link-protocol.md`),
//! registers every device it serves with that device's own serial number and
//! verification code, answers the server's ISAPI requests by asking the devices
//! over the LAN (signed in with the account configured for each), and turns their
//! alert streams into link events, kept on disk until the server has stored them.
//!
//! - [`config`]: the TOML configuration and its checks.
//! - [`lan`]: the LAN devices and the relay.
//! - [`parts`]: the alert stream, split into the documents it carries.
//! - [`sadp`]: finding devices on the LAN (SADP probe).

pub mod config;
mod events;
pub mod lan;
pub mod parts;
pub mod sadp;

pub use config::{Config, ConfigError};

use siteward_link::LinkKey;
use siteward_link::agent::{Agent, AgentConfig, AgentDevice, AgentHandle};
use siteward_link::spool::SpoolError;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The agent name the server logs.
pub const AGENT: &str = concat!("siteward-bridge/", env!("CARGO_PKG_VERSION"));

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The spool directory cannot be used.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// A device's address cannot be used.
    #[error("device {serial}: {source}")]
    Device {
        /// The device.
        serial: String,
        /// What the HTTP client said.
        source: siteward_isapi::Error,
    },
}

/// A running bridge.
#[derive(Debug)]
pub struct BridgeHandle {
    agent: AgentHandle,
    agent_task: JoinHandle<()>,
    streams: Vec<JoinHandle<()>>,
    open_streams: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
}

/// Starts the bridge: the link agent and one alert-stream follower per device.
/// Must be called inside a tokio runtime.
pub fn start(config: Config) -> Result<BridgeHandle, BridgeError> {
    let devices = config
        .devices
        .iter()
        .map(|d| {
            lan::LanDevice::new(d)
                .map(Arc::new)
                .map_err(|source| BridgeError::Device {
                    serial: d.serial.clone(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut agent_config = AgentConfig::new(
        config.url.clone(),
        AGENT,
        config
            .devices
            .iter()
            .map(|d| AgentDevice {
                serial: d.serial.clone(),
                key: LinkKey::derive(&d.verification_code, &d.serial),
                device_type: d.device_type.clone(),
            })
            .collect(),
    );
    agent_config.backoff = config.backoff.clone();
    agent_config.spool_dir = Some(config.spool_dir.clone());
    let (agent, handle) = Agent::try_new(agent_config, lan::LanRelay::new(devices.clone()))?;
    let agent_task = tokio::spawn(agent.run());
    let (stop, stop_rx) = watch::channel(false);
    let open_streams = Arc::new(AtomicUsize::new(0));
    let streams = devices
        .into_iter()
        .map(|d| {
            tokio::spawn(events::follow(
                d,
                handle.clone(),
                config.stream_backoff.clone(),
                Arc::clone(&open_streams),
                stop_rx.clone(),
            ))
        })
        .collect();
    tracing::info!(url = %config.url, devices = config.devices.len(), spool = %config.spool_dir.display(), "bridge started");
    Ok(BridgeHandle {
        agent: handle,
        agent_task,
        streams,
        open_streams,
        stop,
    })
}

impl BridgeHandle {
    /// The link agent: its status, and the events waiting for the server.
    pub fn agent(&self) -> &AgentHandle {
        &self.agent
    }

    /// How many devices' alert streams are open now.
    pub fn open_streams(&self) -> usize {
        self.open_streams.load(Ordering::Acquire)
    }

    /// Stops following the devices, closes the link, and releases the spool
    /// (events not yet stored stay in it for the next start).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for s in self.streams {
            let _ = s.await;
        }
        self.agent.stop();
        let _ = self.agent_task.await;
    }
}
