//! Registration with an authentication code.
//!
//! A distributor issues codes bound to a region; a code may be used once, before it
//! expires, to register one company in that region. The decision is a pure function
//! of the code's stored state, the requested region and the time.

use crate::{Millis, Region};

/// What the store knows of a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCodeState {
    /// The region the code was issued for.
    pub region: Region,
    /// When it stops being valid.
    pub expires_at: Millis,
    /// Whether a company already registered with it.
    pub used: bool,
}

/// Why a code cannot be used. Each reason is told to the person registering: they
/// hold the code already, so naming the reason reveals nothing they could abuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthCodeRefusal {
    /// No such code (mistyped or invented).
    #[error("this authentication code is not valid")]
    Unknown,
    /// A company already registered with it.
    #[error("this authentication code has already been used")]
    Used,
    /// Past its expiry.
    #[error("this authentication code has expired; ask your distributor for a new one")]
    Expired,
    /// Issued for another region than the company's.
    #[error("this authentication code is for region {code_region}, not {requested}")]
    WrongRegion {
        /// The code's region.
        code_region: Region,
        /// The region asked for.
        requested: Region,
    },
}

impl AuthCodeRefusal {
    /// A stable machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            AuthCodeRefusal::Unknown => "auth_code.unknown",
            AuthCodeRefusal::Used => "auth_code.used",
            AuthCodeRefusal::Expired => "auth_code.expired",
            AuthCodeRefusal::WrongRegion { .. } => "auth_code.wrong_region",
        }
    }
}

/// Decides whether a company may register in `requested` (or, when `None`, in the
/// code's own region) with this code at `now`. Returns the company's region.
pub fn check_registration(
    code: Option<&AuthCodeState>,
    requested: Option<&Region>,
    now: Millis,
) -> Result<Region, AuthCodeRefusal> {
    let code = code.ok_or(AuthCodeRefusal::Unknown)?;
    if code.used {
        return Err(AuthCodeRefusal::Used);
    }
    if now >= code.expires_at {
        return Err(AuthCodeRefusal::Expired);
    }
    match requested {
        Some(region) if *region != code.region => Err(AuthCodeRefusal::WrongRegion {
            code_region: code.region.clone(),
            requested: region.clone(),
        }),
        _ => Ok(code.region.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(s: &str) -> Region {
        s.parse().expect("test region")
    }

    type Case<'a> = (
        Option<&'a AuthCodeState>,
        Option<&'a Region>,
        Millis,
        Result<Region, &'static str>,
    );

    /// R-1 as a table: (code state, requested region, now) → outcome.
    #[test]
    fn registration_table() {
        let fresh = AuthCodeState {
            region: region("EU"),
            expires_at: 1_000,
            used: false,
        };
        let used = AuthCodeState {
            used: true,
            ..fresh.clone()
        };
        let eu = region("EU");
        let na = region("NA");
        let cases: Vec<Case> = vec![
            (Some(&fresh), Some(&eu), 999, Ok(eu.clone())),
            (Some(&fresh), None, 0, Ok(eu.clone())),
            (None, Some(&eu), 0, Err("auth_code.unknown")),
            (Some(&used), Some(&eu), 0, Err("auth_code.used")),
            (Some(&fresh), Some(&eu), 1_000, Err("auth_code.expired")),
            (Some(&fresh), Some(&na), 0, Err("auth_code.wrong_region")),
            // A used code is reported as used even when it has also expired.
            (Some(&used), Some(&eu), 5_000, Err("auth_code.used")),
        ];
        for (i, (code, requested, now, expected)) in cases.into_iter().enumerate() {
            let got = check_registration(code, requested, now).map_err(|e| e.code());
            assert_eq!(got, expected, "case {i}");
        }
    }
}
