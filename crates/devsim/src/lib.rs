//! Simulated Hikvision-family devices (cameras, NVRs, DVRs, AX Pro panels, access
//! controllers, intercoms, doorbells, plus one third-party camera) that serve real ISAPI over
//! HTTP with digest authentication, each on its own loopback port, with faults and events
//! injected at run time. Used by the product's tests, demos and benchmarks.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use siteward_devsim::{DeviceKind, Fault, Fleet, FleetSpec};
//! let fleet = Fleet::start(FleetSpec::from_mix(vec![(DeviceKind::Nvr, 1)], 7)).await?;
//! let nvr = &fleet.devices()[0];
//! fleet.device(&nvr.serial).expect("nvr").set_fault(Fault::HddFull).expect("applies");
//! # Ok(()) }
//! ```

mod alert_stream;
mod auth;
pub mod catalog;
mod control;
pub mod device;
mod digest;
mod documents;
pub mod events;
pub mod faults;
mod fleet;
pub mod identity;
mod isapi;
mod link_mode;
mod listener;
mod respond;
pub mod spec;

pub use device::{DeviceHandle, DeviceInfo};
pub use events::{EventError, EventKind};
pub use faults::{Fault, FaultError, FaultKind, LinkType, OfflineMode};
pub use fleet::{Fleet, ensure_fd_limit};
pub use identity::Identity;
pub use spec::{Brand, DeviceKind, FleetSpec, SimOptions, SiteSpec, SpecError};
