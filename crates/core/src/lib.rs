//! Siteward's domain, free of I/O and frameworks.
//!
//! Everything here is plain data and pure functions: the identifiers, roles and
//! regions, the field rules, the Site ID and authentication-code formats, and the one
//! authorization [`policy`] that decides every "may this person do this to this
//! thing" question. Time is passed in as Unix milliseconds, randomness as bytes, so
//! every rule is testable as a table.

pub mod auth_code;
pub mod compat;
pub mod health;
pub mod ids;
pub mod notify;
pub mod policy;
pub mod role;
pub mod site_code;
pub mod validate;

pub use compat::DeviceType;
pub use ids::{CompanyId, DeviceId, SiteId, UserId};
pub use role::{Region, Role, SiteState, UserKind};

/// Milliseconds since the Unix epoch, UTC. The unit of every stored time.
pub type Millis = i64;
