//! Roles of installer employees, kinds of account, regions and site states.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The role of an installation company's employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Owns the company account; may do everything.
    InstallerAdmin,
    /// Manages employees and assigns sites.
    ItManager,
    /// Configures and monitors the devices of the sites assigned to him or her.
    SiteManager,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::InstallerAdmin, Role::ItManager, Role::SiteManager];

    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::InstallerAdmin => "installer_admin",
            Role::ItManager => "it_manager",
            Role::SiteManager => "site_manager",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Role::InstallerAdmin => "Installer Admin",
            Role::ItManager => "IT Manager",
            Role::SiteManager => "Site Manager",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// The kind of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    /// An employee of an installation company.
    Installer,
    /// A customer who owns sites after hand-over.
    EndUser,
    /// A platform operator (distributor side): issues authentication codes.
    Operator,
}

impl UserKind {
    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Installer => "installer",
            UserKind::EndUser => "end_user",
            UserKind::Operator => "operator",
        }
    }
}

impl FromStr for UserKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "installer" => Ok(UserKind::Installer),
            "end_user" => Ok(UserKind::EndUser),
            "operator" => Ok(UserKind::Operator),
            other => Err(UnknownValue(other.to_owned())),
        }
    }
}

/// The hand-over state of a site (the API field `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteState {
    /// Managed by the installer; no owner invited.
    Managed,
    /// An end user has been invited as Site Owner.
    OwnerInvited,
    /// The end user accepted: the site is handed over.
    HandedOver,
}

impl SiteState {
    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SiteState::Managed => "managed",
            SiteState::OwnerInvited => "owner_invited",
            SiteState::HandedOver => "handed_over",
        }
    }
}

impl FromStr for SiteState {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "managed" => Ok(SiteState::Managed),
            "owner_invited" => Ok(SiteState::OwnerInvited),
            "handed_over" => Ok(SiteState::HandedOver),
            other => Err(UnknownValue(other.to_owned())),
        }
    }
}

/// A value that names none of an enumeration's members.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

/// A region a distributor serves: two to eight upper-case letters or
/// digits, such as `EU`, `NA` or `APAC`. Companies, sites and end users live in one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    /// The region's code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Region {
    type Error = InvalidRegion;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Region> for String {
    fn from(r: Region) -> String {
        r.0
    }
}

impl FromStr for Region {
    type Err = InvalidRegion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_uppercase();
        let ok = (2..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Region(s))
        } else {
            Err(InvalidRegion)
        }
    }
}

/// A region code that is not two to eight letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a region is 2 to 8 letters or digits, such as EU or APAC")]
pub struct InvalidRegion;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn regions_are_normalised_and_checked() {
        assert_eq!("eu".parse::<Region>().map(|r| r.0), Ok("EU".to_owned()));
        assert_eq!(
            " apac ".parse::<Region>().map(|r| r.0),
            Ok("APAC".to_owned())
        );
        assert!("E".parse::<Region>().is_err());
        assert!("EU-WEST".parse::<Region>().is_err());
        assert!("TOOLONGREGION".parse::<Region>().is_err());
    }
}
