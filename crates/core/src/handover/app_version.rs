//! The end-user app's version: recorded at sign-in; a client older than the
//! configured minimum cannot handle invitations, is told to update, and its
//! invitations wait until it has.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Most numbers a version may have (`4.10.2.1234`).
const MAX_PARTS: usize = 4;
/// Most digits a number may have (keeps every number within `u32`).
const MAX_DIGITS: usize = 9;

/// A client app version: one to four numbers separated by dots (`4.3`, `4.10.2`),
/// optionally after a `v`. Compared number by number, missing numbers counting as
/// zero, so `4.3` = `4.3.0` < `4.10` (not text order). Shown with as many numbers
/// as given, without the `v` or leading zeros (`v04.3` → `4.3`). In JSON and in the
/// database a string.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppVersion {
    parts: [u32; MAX_PARTS],
    len: u8,
}

impl AppVersion {
    /// The default oldest version that handles invitations: 4.3 (the reference
    /// product's Hik-Connect 4.3).
    pub const DEFAULT_MINIMUM: AppVersion = AppVersion {
        parts: [4, 3, 0, 0],
        len: 2,
    };

    /// `major.minor.patch`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        AppVersion {
            parts: [major, minor, patch, 0],
            len: 3,
        }
    }

    /// The numbers as given.
    pub fn parts(&self) -> &[u32] {
        &self.parts[..usize::from(self.len)]
    }

    /// Whether this version is `minimum` or newer.
    pub fn at_least(&self, minimum: &AppVersion) -> bool {
        self >= minimum
    }

    /// What a client signing in with this version is told.
    pub fn client_status(&self, minimum: &AppVersion) -> ClientStatus {
        if self.at_least(minimum) {
            ClientStatus::Supported
        } else {
            ClientStatus::UpdateRequired { minimum: *minimum }
        }
    }

    /// Whether invitations may be shown to a client of `version` (R-8: invitations
    /// wait for a client that handles them; an unknown version does not).
    pub fn handles_invitations(version: Option<&AppVersion>, minimum: &AppVersion) -> bool {
        version.is_some_and(|v| v.at_least(minimum))
    }
}

impl PartialEq for AppVersion {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl Eq for AppVersion {}

impl Hash for AppVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts.hash(state);
    }
}

impl PartialOrd for AppVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AppVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.parts().iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppVersion({self})")
    }
}

impl FromStr for AppVersion {
    type Err = InvalidAppVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidAppVersion(s.to_owned());
        let t = s.trim();
        let t = t
            .strip_prefix('v')
            .or_else(|| t.strip_prefix('V'))
            .unwrap_or(t);
        let mut parts = [0u32; MAX_PARTS];
        let mut len = 0;
        for item in t.split('.') {
            let ok = !item.is_empty()
                && item.len() <= MAX_DIGITS
                && item.bytes().all(|b| b.is_ascii_digit());
            if !ok || len == MAX_PARTS {
                return Err(bad());
            }
            parts[len] = item.parse().map_err(|_| bad())?;
            len += 1;
        }
        Ok(AppVersion {
            parts,
            len: len as u8,
        })
    }
}

impl TryFrom<String> for AppVersion {
    type Error = InvalidAppVersion;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<AppVersion> for String {
    fn from(v: AppVersion) -> String {
        v.to_string()
    }
}

/// Text that is not an app version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an app version; a version is numbers separated by dots, such as 4.3 or 4.10.2"
)]
pub struct InvalidAppVersion(pub String);

impl InvalidAppVersion {
    /// As an error of the API field `app_version`.
    pub fn field_error(&self) -> crate::validate::FieldError {
        crate::validate::FieldError::new(
            "app_version",
            "must be numbers separated by dots, such as 4.3 or 4.10.2",
        )
    }
}

/// What a client is told when it signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ClientStatus {
    /// The client handles everything, invitations included.
    Supported,
    /// The client must be updated to receive invitations; until then its
    /// invitations wait.
    UpdateRequired {
        /// The oldest version that will do.
        minimum: AppVersion,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> AppVersion {
        s.parse().expect("test version")
    }

    #[test]
    fn parsing_table() {
        let cases: Vec<(&str, Option<&[u32]>)> = vec![
            ("4.3", Some(&[4, 3])),
            ("4.10.2", Some(&[4, 10, 2])),
            (" v5 ", Some(&[5])),
            ("V4.3.0.1234", Some(&[4, 3, 0, 1234])),
            ("04.03", Some(&[4, 3])),
            ("999999999.0", Some(&[999_999_999, 0])),
            ("", None),
            ("  ", None),
            ("v", None),
            ("4.", None),
            (".4", None),
            ("4..3", None),
            ("4.3-beta", None),
            ("4.3 (123)", None),
            ("4,3", None),
            ("-4.3", None),
            ("+4.3", None),
            ("4.3.0.0.1", None),
            ("1234567890", None),
            ("４.３", None),
            ("latest", None),
        ];
        for (text, expected) in cases {
            let got = text.parse::<AppVersion>();
            assert_eq!(
                got.as_ref().map(AppVersion::parts).ok(),
                expected,
                "{text:?}"
            );
            if let Err(e) = got {
                assert_eq!(e, InvalidAppVersion(text.to_owned()));
                assert!(e.to_string().contains("such as 4.3"));
                assert_eq!(e.field_error().field, "app_version");
            }
        }
        assert_eq!(v("v04.3.0").to_string(), "4.3.0");
    }

    /// versions compare as numbers, missing numbers count as zero.
    #[test]
    fn ordering_table() {
        use Ordering::*;
        let cases = [
            ("4.3", "4.3", Equal),
            ("4.3", "4.3.0", Equal),
            ("4.3.0.0", "4.3", Equal),
            ("4.2", "4.3", Less),
            ("4.2.99", "4.3", Less),
            ("4.10", "4.3", Greater),
            ("4.10.2", "4.9.9", Greater),
            ("5", "4.99", Greater),
            ("3.99.99.99", "4", Less),
            ("4.3.0.1", "4.3", Greater),
        ];
        for (a, b, expected) in cases {
            assert_eq!(v(a).cmp(&v(b)), expected, "{a} vs {b}");
            assert_eq!(v(a) == v(b), expected == Equal, "{a} == {b}");
        }
    }

    /// below the minimum (default 4.3) the client is told to update, and
    /// invitations wait for it.
    #[test]
    fn client_status_table() {
        let min = AppVersion::DEFAULT_MINIMUM;
        let cases = [
            ("4.2.9", false),
            ("4.3", true),
            ("4.3.0", true),
            ("4.10", true),
            ("3.9", false),
            ("10", true),
        ];
        for (version, ok) in cases {
            let status = v(version).client_status(&min);
            let expected = if ok {
                ClientStatus::Supported
            } else {
                ClientStatus::UpdateRequired { minimum: min }
            };
            assert_eq!(status, expected, "{version}");
            assert_eq!(AppVersion::handles_invitations(Some(&v(version)), &min), ok);
        }
        assert!(!AppVersion::handles_invitations(None, &min));
        // A configured minimum.
        assert_eq!(
            v("4.3").client_status(&v("4.5")),
            ClientStatus::UpdateRequired { minimum: v("4.5") }
        );
        assert_eq!(
            serde_json::to_value(ClientStatus::UpdateRequired { minimum: min }).ok(),
            Some(serde_json::json!({"status": "update_required", "minimum": "4.3"}))
        );
    }

    #[test]
    fn serde_is_a_string() {
        assert_eq!(
            serde_json::to_string(&v("4.10.2")).ok().as_deref(),
            Some("\"4.10.2\"")
        );
        assert_eq!(
            serde_json::from_str::<AppVersion>("\"4.3\"").ok(),
            Some(v("4.3"))
        );
        assert!(serde_json::from_str::<AppVersion>("\"new\"").is_err());
        assert!(serde_json::from_str::<AppVersion>("4.3").is_err());
    }

    proptest! {
        /// Display and parse agree, and order follows the numbers padded with zeros.
        #[test]
        fn round_trip_and_order(a in proptest::collection::vec(0u32..1000, 1..=4),
                                b in proptest::collection::vec(0u32..1000, 1..=4)) {
            let text = |p: &[u32]| p.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
            let (va, vb) = (v(&text(&a)), v(&text(&b)));
            prop_assert_eq!(va.to_string(), text(&a));
            prop_assert_eq!(va.to_string().parse::<AppVersion>().ok(), Some(va));
            let pad = |p: &[u32]| { let mut q = p.to_vec(); q.resize(4, 0); q };
            prop_assert_eq!(va.cmp(&vb), pad(&a).cmp(&pad(&b)));
        }

        /// Nothing panics on arbitrary text.
        #[test]
        fn arbitrary_text_never_panics(s in ".*") {
            let _ = s.parse::<AppVersion>();
        }
    }
}
