//! Persistence for Siteward: one code path over embedded SQLite and PostgreSQL.
//!
//! The backend is chosen at run time from the database URL (`sqlite:` or
//! `postgres://`). Every query is written once, in the SQL both databases share
//! (`$n` placeholders, text ids, millisecond integer times), and run through the
//! `on_conn!` dispatch over the two concrete drivers — no `Any` driver, so each side
//! keeps its real types. Two migration folders hold the same schema in each dialect;
//! a test compares them so they cannot drift.
//!
//! All work goes through a [`Handle`]: [`Store::read`] for a plain pooled connection,
//! [`Store::begin`] for a transaction. On SQLite, transactions come from a pool of one
//! connection and start with `BEGIN IMMEDIATE`, so writers queue instead of failing
//! with "database is locked".

/// Runs `$body` with `$c` bound to the concrete connection of a [`Handle`]; the body
/// is written once and compiled for each backend.
macro_rules! on_conn {
    ($handle:expr, |$c:ident| $body:expr) => {
        match $handle.conn() {
            crate::db::Conn::Sqlite($c) => $body,
            crate::db::Conn::Postgres($c) => $body,
        }
    };
}

mod alarms;
mod db;
mod end_users;
mod handover;
mod health;
mod link;
pub mod model;
mod notify;
mod repo;

pub use alarms::{AlarmSite, StoredAlarm};
pub use db::{Backend, Handle, Store, StoreError};
pub use end_users::{OwnedDevice, OwnedSite};
pub use link::{LinkIntake, PendingLink};
pub use model::*;
pub use notify::{Delivery, DeviceAlert, Notification, Webhook};
pub use repo::Page;

/// The result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
