//! What an installer may be authorized to do on a handed-over site (R-10), on which
//! devices, and for how long.

use super::HOUR_MS;
use crate::role::UnknownValue;
use crate::validate::FieldError;
use crate::{DeviceId, Millis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// One permission of a site authorization (R-10). After hand-over, every installer
/// operation on the site needs the permission that covers it, granted by the owner
/// and not expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Site information management: see and change the site's details, its device
    /// list and audit log, and add devices to it.
    SiteInfo,
    /// Remote configuration of the devices (R-27), firmware upgrades (R-17) and
    /// linkage rules (R-20).
    Configuration,
    /// Watching the cameras live.
    LiveView,
    /// Watching recordings.
    Playback,
    /// Health monitoring (R-23 to R-33): the health data of the site is shown, and
    /// collected at all, only while this permission is held.
    HealthMonitoring,
}

named_enum!(Permission {
    SiteInfo => "site_info", "Site information";
    Configuration => "configuration", "Configuration";
    LiveView => "live_view", "Live view";
    Playback => "playback", "Playback";
    HealthMonitoring => "health_monitoring", "Health monitoring";
});

impl Permission {
    /// What the permission lets the installer do, for the owner who decides.
    pub fn description(self) -> &'static str {
        match self {
            Permission::SiteInfo => {
                "See and change the site's details and device list, and add devices to it."
            }
            Permission::Configuration => {
                "Change the devices' settings, upgrade their firmware and set up linkage rules."
            }
            Permission::LiveView => "Watch the cameras live.",
            Permission::Playback => "Watch the cameras' recordings.",
            Permission::HealthMonitoring => {
                "Check the devices' health and be told when something is wrong."
            }
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of permissions. In JSON a list of names (`["live_view", "playback"]`, in
/// [`Permission::ALL`] order, duplicates ignored); in text, such as a database
/// column, the names joined by commas (`live_view,playback`; empty for none).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Permission>", into = "Vec<Permission>")]
pub struct PermissionSet(u8);

impl PermissionSet {
    /// No permission.
    pub const EMPTY: PermissionSet = PermissionSet(0);
    /// Every permission.
    pub const ALL: PermissionSet = PermissionSet(0b1_1111);

    /// The set of these permissions.
    pub fn of(permissions: &[Permission]) -> Self {
        permissions.iter().copied().collect()
    }

    /// Whether `p` is in the set.
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// The set with `p` added.
    pub fn with(self, p: Permission) -> Self {
        PermissionSet(self.0 | p.bit())
    }

    /// Adds `p`.
    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many permissions the set holds.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The permissions in [`Permission::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// Every permission in either set.
    pub fn union(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 | other.0)
    }

    /// The permissions in both sets.
    pub fn intersection(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 & other.0)
    }

    /// Whether every permission of `self` is in `other`.
    pub fn is_subset(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(p.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for PermissionSet {
    type Err = UnknownValue;
    /// Names joined by commas; blanks around names and empty items are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::parse::<Permission>)
            .collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<T: IntoIterator<Item = Permission>>(iter: T) -> Self {
        let mut set = PermissionSet::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

impl From<Vec<Permission>> for PermissionSet {
    fn from(v: Vec<Permission>) -> Self {
        v.into_iter().collect()
    }
}

impl From<PermissionSet> for Vec<Permission> {
    fn from(s: PermissionSet) -> Self {
        s.iter().collect()
    }
}

/// How long an authorization lasts once approved (R-10): 1, 2, 4, 8 or 24 hours,
/// or until it is cancelled or released. Ordered from shortest to permanent. In
/// JSON the API's `duration_hours`: a number of hours, or `null` for permanent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Option<i64>", into = "Option<i64>")]
pub enum GrantDuration {
    /// One hour.
    OneHour,
    /// Two hours.
    TwoHours,
    /// Four hours.
    FourHours,
    /// Eight hours.
    EightHours,
    /// A day.
    OneDay,
    /// Until the owner cancels it or the installer releases it.
    Permanent,
}

impl GrantDuration {
    /// Every duration offered, shortest first.
    pub const ALL: [GrantDuration; 6] = [
        GrantDuration::OneHour,
        GrantDuration::TwoHours,
        GrantDuration::FourHours,
        GrantDuration::EightHours,
        GrantDuration::OneDay,
        GrantDuration::Permanent,
    ];

    /// The duration for the API's `duration_hours` (`None`: permanent).
    pub fn from_hours(hours: Option<i64>) -> Result<Self, InvalidDuration> {
        match hours {
            None => Ok(GrantDuration::Permanent),
            Some(h) => GrantDuration::ALL
                .into_iter()
                .find(|d| d.hours() == Some(h))
                .ok_or(InvalidDuration(h)),
        }
    }

    /// The number of hours (`None`: permanent).
    pub fn hours(self) -> Option<i64> {
        match self {
            GrantDuration::OneHour => Some(1),
            GrantDuration::TwoHours => Some(2),
            GrantDuration::FourHours => Some(4),
            GrantDuration::EightHours => Some(8),
            GrantDuration::OneDay => Some(24),
            GrantDuration::Permanent => None,
        }
    }

    /// The length in milliseconds (`None`: permanent).
    pub fn millis(self) -> Option<Millis> {
        self.hours().map(|h| h * HOUR_MS)
    }

    /// When a grant of this duration that starts at `from` ends (`None`: never).
    pub fn ends_at(self, from: Millis) -> Option<Millis> {
        self.millis().map(|ms| from.saturating_add(ms))
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            GrantDuration::OneHour => "1 hour",
            GrantDuration::TwoHours => "2 hours",
            GrantDuration::FourHours => "4 hours",
            GrantDuration::EightHours => "8 hours",
            GrantDuration::OneDay => "24 hours",
            GrantDuration::Permanent => "permanent",
        }
    }
}

impl TryFrom<Option<i64>> for GrantDuration {
    type Error = InvalidDuration;
    fn try_from(hours: Option<i64>) -> Result<Self, Self::Error> {
        GrantDuration::from_hours(hours)
    }
}

impl From<GrantDuration> for Option<i64> {
    fn from(d: GrantDuration) -> Self {
        d.hours()
    }
}

/// A duration that is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "an authorization lasts 1, 2, 4, 8 or 24 hours, or is permanent (null); {0} hours is not offered"
)]
pub struct InvalidDuration(pub i64);

impl InvalidDuration {
    /// As an error of the API field `duration_hours`.
    pub fn field_error(self) -> FieldError {
        FieldError::new(
            "duration_hours",
            "must be 1, 2, 4, 8 or 24, or null for permanent",
        )
    }
}

/// Which devices of the site an authorization covers (R-10): all of them (also
/// those added later), or the ones chosen. In JSON the API's `device_ids`: `null`
/// (or absent) for all, else a non-empty list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Option<Vec<DeviceId>>", into = "Option<Vec<DeviceId>>")]
pub enum DeviceScope {
    /// Every device of the site, now and later.
    All,
    /// Only these devices (never empty when made by [`DeviceScope::only`]).
    Only(BTreeSet<DeviceId>),
}

impl DeviceScope {
    /// Only these devices; an empty choice is refused (it would authorize nothing).
    pub fn only(ids: impl IntoIterator<Item = DeviceId>) -> Result<Self, FieldError> {
        let set: BTreeSet<DeviceId> = ids.into_iter().collect();
        if set.is_empty() {
            Err(FieldError::new(
                "device_ids",
                "choose at least one device, or leave the list out for all devices",
            ))
        } else {
            Ok(DeviceScope::Only(set))
        }
    }

    /// From the API's `device_ids` (`None`: all devices).
    pub fn from_ids(ids: Option<Vec<DeviceId>>) -> Result<Self, FieldError> {
        match ids {
            None => Ok(DeviceScope::All),
            Some(ids) => DeviceScope::only(ids),
        }
    }

    /// The chosen devices (`None`: all).
    pub fn ids(&self) -> Option<&BTreeSet<DeviceId>> {
        match self {
            DeviceScope::All => None,
            DeviceScope::Only(ids) => Some(ids),
        }
    }

    /// Whether the scope covers `device`; `None` asks about the site itself (an
    /// operation on no particular device), which any non-empty scope covers.
    pub fn covers(&self, device: Option<DeviceId>) -> bool {
        match (self, device) {
            (DeviceScope::All, _) => true,
            (DeviceScope::Only(ids), Some(d)) => ids.contains(&d),
            (DeviceScope::Only(ids), None) => !ids.is_empty(),
        }
    }
}

impl TryFrom<Option<Vec<DeviceId>>> for DeviceScope {
    type Error = FieldError;
    fn try_from(ids: Option<Vec<DeviceId>>) -> Result<Self, Self::Error> {
        DeviceScope::from_ids(ids)
    }
}

impl From<DeviceScope> for Option<Vec<DeviceId>> {
    fn from(s: DeviceScope) -> Self {
        match s {
            DeviceScope::All => None,
            DeviceScope::Only(ids) => Some(ids.into_iter().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;
    use uuid::Uuid;

    fn did(n: u128) -> DeviceId {
        DeviceId(Uuid::from_u128(n))
    }

    #[test]
    fn permissions_have_the_api_names_in_serde_and_text() {
        let names = [
            "site_info",
            "configuration",
            "live_view",
            "playback",
            "health_monitoring",
        ];
        for (p, name) in Permission::ALL.into_iter().zip(names) {
            assert_eq!(p.as_str(), name);
            assert_eq!(p.to_string(), name);
            assert_eq!(name.parse::<Permission>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).ok(), Some(format!("\"{name}\"")));
            assert!(!p.label().is_empty() && !p.description().is_empty());
        }
        assert!("LiveView".parse::<Permission>().is_err());
        assert!(serde_json::from_str::<Permission>("\"view\"").is_err());
    }

    #[test]
    fn permission_sets_are_sets() {
        let s = PermissionSet::of(&[Playback, LiveView, LiveView]);
        assert_eq!(s.len(), 2);
        assert!(s.contains(LiveView) && s.contains(Playback) && !s.contains(SiteInfo));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![LiveView, Playback]);
        assert_eq!(format!("{s:?}"), "{LiveView, Playback}");
        assert_eq!(s.to_string(), "live_view,playback");
        assert_eq!("playback, live_view,".parse::<PermissionSet>(), Ok(s));
        assert_eq!("".parse::<PermissionSet>(), Ok(PermissionSet::EMPTY));
        assert!("live_view,x".parse::<PermissionSet>().is_err());
        assert_eq!(PermissionSet::ALL.len(), 5);
        assert_eq!(PermissionSet::of(&Permission::ALL), PermissionSet::ALL);
        assert!(s.is_subset(PermissionSet::ALL));
        assert!(!PermissionSet::ALL.is_subset(s));
        assert!(PermissionSet::EMPTY.is_subset(s) && PermissionSet::EMPTY.is_empty());
        assert_eq!(s.union(PermissionSet::of(&[SiteInfo])).len(), 3);
        assert_eq!(
            s.intersection(PermissionSet::of(&[Playback, SiteInfo])),
            PermissionSet::of(&[Playback])
        );
        assert_eq!(
            s.with(SiteInfo),
            PermissionSet::of(&[SiteInfo, LiveView, Playback])
        );
        assert_eq!(
            serde_json::to_string(&s).ok().as_deref(),
            Some(r#"["live_view","playback"]"#)
        );
        assert_eq!(
            serde_json::from_str::<PermissionSet>(r#"["playback","live_view","playback"]"#).ok(),
            Some(s)
        );
        assert!(serde_json::from_str::<PermissionSet>(r#"["everything"]"#).is_err());
    }

    /// R-10: 1, 2, 4, 8 or 24 hours, or permanent (`null`); anything else is refused.
    #[test]
    fn durations_table() {
        let h = HOUR_MS;
        type Case = (
            Option<i64>,
            Result<GrantDuration, InvalidDuration>,
            Option<Millis>,
        );
        let cases: Vec<Case> = vec![
            (Some(1), Ok(GrantDuration::OneHour), Some(h)),
            (Some(2), Ok(GrantDuration::TwoHours), Some(2 * h)),
            (Some(4), Ok(GrantDuration::FourHours), Some(4 * h)),
            (Some(8), Ok(GrantDuration::EightHours), Some(8 * h)),
            (Some(24), Ok(GrantDuration::OneDay), Some(24 * h)),
            (None, Ok(GrantDuration::Permanent), None),
            (Some(0), Err(InvalidDuration(0)), None),
            (Some(3), Err(InvalidDuration(3)), None),
            (Some(12), Err(InvalidDuration(12)), None),
            (Some(48), Err(InvalidDuration(48)), None),
            (Some(-1), Err(InvalidDuration(-1)), None),
        ];
        for (hours, expected, ms) in cases {
            let got = GrantDuration::from_hours(hours);
            assert_eq!(got, expected, "{hours:?}");
            if let Ok(d) = got {
                assert_eq!(d.hours(), hours);
                assert_eq!(d.millis(), ms);
                assert_eq!(d.ends_at(1_000), ms.map(|m| 1_000 + m));
                let json = serde_json::to_string(&d).unwrap_or_default();
                assert_eq!(serde_json::from_str::<GrantDuration>(&json).ok(), Some(d));
            }
        }
        assert_eq!(
            serde_json::from_str::<GrantDuration>("null").ok(),
            Some(GrantDuration::Permanent)
        );
        assert!(serde_json::from_str::<GrantDuration>("3").is_err());
        assert_eq!(InvalidDuration(3).field_error().field, "duration_hours");
        // Ordered shortest first, permanent the longest.
        assert!(GrantDuration::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(GrantDuration::Permanent.ends_at(Millis::MAX - 1), None);
        assert_eq!(
            GrantDuration::OneDay.ends_at(Millis::MAX - 1),
            Some(Millis::MAX)
        );
    }

    #[test]
    fn device_scopes() {
        let only = DeviceScope::only([did(2), did(1), did(2)]).unwrap_or(DeviceScope::All);
        assert_eq!(only.ids().map(BTreeSet::len), Some(2));
        assert!(only.covers(Some(did(1))) && only.covers(Some(did(2))));
        assert!(!only.covers(Some(did(3))));
        assert!(only.covers(None));
        assert!(DeviceScope::All.covers(Some(did(3))) && DeviceScope::All.covers(None));
        assert!(!DeviceScope::Only(BTreeSet::new()).covers(None));
        assert_eq!(
            DeviceScope::only([]).map_err(|e| e.field),
            Err("device_ids".to_owned())
        );
        assert_eq!(DeviceScope::from_ids(None), Ok(DeviceScope::All));
        assert_eq!(
            serde_json::from_str::<DeviceScope>("null").ok(),
            Some(DeviceScope::All)
        );
        assert!(serde_json::from_str::<DeviceScope>("[]").is_err());
        let json = serde_json::to_string(&only).unwrap_or_default();
        assert_eq!(serde_json::from_str::<DeviceScope>(&json).ok(), Some(only));
    }
}
