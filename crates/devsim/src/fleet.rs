//! A running fleet: every device bound to its own loopback port on the current tokio
//! runtime, looked up by serial, with the control API router and orderly shutdown.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::control;
use crate::device::{Device, DeviceHandle, DeviceInfo};
use crate::identity;
use crate::listener;
use crate::spec::FleetSpec;

/// The devices of a fleet, shared with the control API.
#[derive(Debug)]
pub(crate) struct FleetInner {
    pub devices: Vec<DeviceHandle>,
    pub index: HashMap<String, usize>,
}

impl FleetInner {
    pub(crate) fn get(&self, serial: &str) -> Option<&DeviceHandle> {
        self.index.get(serial).map(|&i| &self.devices[i])
    }
}

/// A running simulated fleet. Dropping it stops every device.
#[derive(Debug)]
pub struct Fleet {
    inner: Arc<FleetInner>,
    spec: FleetSpec,
    shutdown: watch::Sender<bool>,
}

/// Raises the soft open-files limit to the hard limit when the fleet needs more descriptors
/// than allowed (a listener per device plus connections). Returns the limit in force.
pub fn ensure_fd_limit(devices: u64) -> u64 {
    let need = devices * 2 + 256;
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, _)) if soft >= need => soft,
        _ => match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => {
                if limit < need {
                    tracing::warn!(
                        limit,
                        need,
                        "open-files limit is low for this fleet; raise the hard limit (ulimit -Hn)"
                    );
                }
                limit
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot raise the open-files limit");
                0
            }
        },
    }
}

impl Fleet {
    /// Generates the fleet's identities from the spec and starts every device on
    /// `127.0.0.1:<port chosen by the OS>`. Must run inside a tokio runtime.
    pub async fn start(spec: FleetSpec) -> std::io::Result<Fleet> {
        ensure_fd_limit(spec.device_count());
        let options = Arc::new(spec.options.clone());
        let (shutdown, rx) = watch::channel(false);
        let ids = identity::generate(&spec);
        let mut devices = Vec::with_capacity(ids.len());
        let mut index = HashMap::with_capacity(ids.len());
        for id in ids {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            let addr = listener.local_addr()?;
            let dev = Arc::new(Device::new(id, addr, Arc::clone(&options)));
            index.insert(dev.id.serial.clone(), devices.len());
            tokio::spawn(listener::run(Arc::clone(&dev), listener, rx.clone()));
            devices.push(DeviceHandle(dev));
        }
        Ok(Fleet {
            inner: Arc::new(FleetInner { devices, index }),
            spec,
            shutdown,
        })
    }

    /// The device list (serial, type, brand, model, address, credentials, verification code).
    pub fn devices(&self) -> Vec<DeviceInfo> {
        self.inner.devices.iter().map(DeviceHandle::info).collect()
    }

    /// The device with this serial.
    pub fn device(&self, serial: &str) -> Option<DeviceHandle> {
        self.inner.get(serial).cloned()
    }

    /// All device handles, in generation order.
    pub fn handles(&self) -> &[DeviceHandle] {
        &self.inner.devices
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.inner.devices.len()
    }

    /// Whether the fleet has no device.
    pub fn is_empty(&self) -> bool {
        self.inner.devices.is_empty()
    }

    /// The spec the fleet was started from.
    pub fn spec(&self) -> &FleetSpec {
        &self.spec
    }

    /// Connects every device in link mode (fleet files: `link = { ipc = 1 }`) to
    /// Siteward's device link at `url`; they stay connected until the returned
    /// handles are stopped.
    pub fn connect_links(&self, url: &str) -> Vec<siteward_link::agent::AgentHandle> {
        self.inner
            .devices
            .iter()
            .filter(|d| d.identity().link)
            .map(|d| d.connect_link(url))
            .collect()
    }

    /// The HTTP control API (`GET /devices`, faults, events) as an axum router.
    pub fn control_router(&self) -> axum::Router {
        control::router(Arc::clone(&self.inner))
    }

    /// Serves the control API on `addr` until the fleet is dropped; returns the bound address.
    pub async fn serve_control(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let router = self.control_router();
        let mut rx = self.shutdown.subscribe();
        tokio::spawn(async move {
            let stop = async move {
                let _ = rx.changed().await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::error!(error = %e, "control API stopped");
            }
        });
        Ok(bound)
    }

    /// Stops every device now (same as dropping the fleet).
    pub fn shutdown(self) {}
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
