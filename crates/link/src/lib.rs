//! The device link (`docs/link-protocol.md`): devices — or an on-site bridge — open
//! a WebSocket to Siteward, prove they hold the verification code, answer ISAPI
//! requests sent down the link and push their events up it.
//!
//! This crate holds what both sides share: the frames ([`frame`]), the proof
//! ([`proof`]) and the reconnect back-off ([`backoff`]); with the `agent` feature,
//! the device side itself ([`agent`]) and its on-disk outbox ([`spool`]).

pub mod backoff;
pub mod frame;
pub mod proof;

#[cfg(feature = "agent")]
pub mod agent;
#[cfg(feature = "agent")]
pub mod spool;

pub use frame::{Frame, FrameError};
pub use proof::LinkKey;
