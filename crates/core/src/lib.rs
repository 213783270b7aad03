//! Siteward's domain, free of I/O and frameworks.
//!
//! Everything here is plain data and pure functions: the identifiers, roles and
//! regions, the field rules, the Site ID and authentication-code formats, and the one
//! authorization [`policy`] that decides every "may this person do this to this
//! thing" question. Time is passed in as Unix milliseconds, randomness as bytes, so
//! every rule is testable as a table.

/// Implements `ALL`, `as_str`, `label`, `Display` and `FromStr` for a field-less
/// enum whose serde names are the `as_str` names.
macro_rules! named_enum {
    ($name:ident { $($variant:ident => $s:literal, $label:literal;)+ }) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($s),+].len()] = [$($name::$variant),+];

            /// The stable name used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s,)+
                }
            }

            /// The name people read.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::role::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $name::ALL
                    .into_iter()
                    .find(|v| v.as_str() == t)
                    .ok_or_else(|| crate::role::UnknownValue(s.to_owned()))
            }
        }
    };
}

pub mod alarm;
pub mod auth_code;
pub mod compat;
pub mod handover;
pub mod health;
pub mod ids;
pub mod notify;
pub mod policy;
pub mod role;
pub mod site_code;
pub mod validate;

pub use compat::DeviceType;
pub use ids::{
    AlarmId, AuthorizationId, ClaimId, CompanyId, DeviceId, InvitationId, SiteId, UserId,
};
pub use role::{Region, Role, SiteState, UserKind};

/// Milliseconds since the Unix epoch, UTC. The unit of every stored time.
pub type Millis = i64;
