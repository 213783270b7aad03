//! Hand-over of a site to its end user, and the installer's work on it afterwards
//! (R-3, R-8 to R-12, R-16, R-34 to R-35).
//!
//! ```text
//!            invite (R-8)             accept (R-9)
//!  managed ───────────────► owner_invited ───────────► handed_over
//!     ▲   decline / withdraw / expire │                    │  installer applies,
//!     └───────────────────────────────┘                    │  owner approves (R-10)
//!                                                          ▼
//!                        pending ─► approved ─► expired | cancelled | released
//!                           └─► rejected | released (withdrawn)
//! ```
//!
//! Everything is pure data with transitions that take the time: an [`Invitation`]
//! (optionally carrying an [`AuthorizationRequest`]), an [`Authorization`] and its
//! [`Access`] (what the installer may do on the site *now*, which the one policy,
//! [`crate::policy::authorize`], consults), a [`Claim`] for a change of installation
//! company (R-11), the end-user [`AppVersion`] rule (R-8) and the logo rule (R-3).
//!
//! Who may ask for a transition is the policy's business; whether the thing's state
//! allows it is decided here, with a [`HandoverError`] naming the reason.

use crate::{CompanyId, Millis, Region};
use serde::{Deserialize, Serialize};

mod app_version;
mod authorization;
mod claim;
mod invitation;
mod permission;

pub use app_version::{AppVersion, ClientStatus, InvalidAppVersion};
pub use authorization::{
    Access, Authorization, AuthorizationRequest, AuthorizationRequestInput, AuthorizationState,
    NewAuthorization, REMARK_MAX, check_application,
};
pub use claim::{Claim, ClaimFacts, ClaimState, NewClaim, check_claim};
pub use invitation::{
    EndUserFacts, Invitation, InvitationState, InviteFacts, NewInvitation, check_invitation,
};
pub use permission::{DeviceScope, GrantDuration, InvalidDuration, Permission, PermissionSet};

/// One hour in milliseconds.
pub const HOUR_MS: Millis = 60 * 60 * 1000;

/// The settings of hand-over an operator may change (server configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HandoverSettings {
    /// The oldest end-user app that handles invitations (R-8; the reference
    /// product needs Hik-Connect 4.3). Older clients are told to update.
    pub minimum_app_version: AppVersion,
    /// How long an invitation waits for an answer before it expires.
    pub invitation_ttl_ms: Millis,
}

impl HandoverSettings {
    /// Seven days.
    pub const DEFAULT_INVITATION_TTL_MS: Millis = 7 * 24 * HOUR_MS;
}

impl Default for HandoverSettings {
    fn default() -> Self {
        Self {
            minimum_app_version: AppVersion::DEFAULT_MINIMUM,
            invitation_ttl_ms: Self::DEFAULT_INVITATION_TTL_MS,
        }
    }
}

/// Why a hand-over step cannot be taken now. Each reason is a sentence for people
/// ([`std::fmt::Display`]) and a stable [`code`](HandoverError::code); whether it is
/// a conflict with the current state (HTTP 409) or a refusal of what was asked
/// (HTTP 422) is [`is_conflict`](HandoverError::is_conflict).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    // ---- invitations (R-8, R-9)
    /// R-8: the site already has an owner.
    #[error("this site already has an owner")]
    AlreadyOwned,
    /// R-8: an invitation is waiting for an answer; withdraw it first.
    #[error("an invitation to own this site is already waiting for an answer; withdraw it first")]
    InvitationPending,
    /// R-8: no end-user account has this e-mail address.
    #[error(
        "no end-user account has this e-mail address; ask the customer to sign up in the Siteward app first"
    )]
    NoEndUserAccount,
    /// R-8: the end user lives in another region than the site and its devices.
    #[error(
        "the end user's account is in region {end_user}, but the site and its devices are in region {site}"
    )]
    EndUserRegionMismatch {
        /// The site's region.
        site: Region,
        /// The end user's region.
        end_user: Region,
    },
    /// R-8: the end user's app cannot handle invitations.
    #[error("{}", app_too_old_text(.version.as_ref(), .minimum))]
    AppTooOld {
        /// The version the end user last signed in with, if known.
        version: Option<AppVersion>,
        /// The oldest version that handles invitations.
        minimum: AppVersion,
    },
    /// R-8/R-9: the invitation is no longer waiting for an answer.
    #[error("this invitation is {} and can no longer be answered or withdrawn", .0.as_str())]
    InvitationNotPending(InvitationState),
    /// The invitation has not reached its expiry time yet.
    #[error("this invitation has not expired yet")]
    InvitationNotDue,

    // ---- authorizations (R-10)
    /// R-10: authorizations are for handed-over sites only.
    #[error(
        "this site has not been handed over to an owner: no authorization is needed (put the request into the invitation instead)"
    )]
    NotHandedOver,
    /// R-10: the company already has an application waiting for the owner.
    #[error(
        "an authorization application is already waiting for the owner's answer; release it or wait"
    )]
    ApplicationPending,
    /// R-10: the application was answered already (or withdrawn).
    #[error("this authorization application is {} and can no longer be answered", .0.as_str())]
    AuthorizationNotPending(AuthorizationState),
    /// R-10: only a granted, unexpired authorization can be cancelled or released.
    #[error("this authorization is {} and not in force", .0.as_str())]
    AuthorizationNotActive(AuthorizationState),
    /// R-10: the owner may shorten the requested duration, never lengthen it.
    #[error(
        "the installer applied for {}; an approval may shorten that, not lengthen it to {}",
        .requested.label(), .asked.label()
    )]
    LongerThanRequested {
        /// What the installer applied for.
        requested: GrantDuration,
        /// What the owner tried to grant.
        asked: GrantDuration,
    },
    /// The authorization has not reached its expiry time yet (or never expires).
    #[error("this authorization has not expired yet")]
    AuthorizationNotDue,

    // ---- change of installation company (R-11)
    /// R-11: the site is managed by the claiming company already.
    #[error("this site is already in your company's list")]
    AlreadyYours,
    /// R-11: the claiming company works in another region than the site.
    #[error("this site is in region {site}, but your company is in region {company}")]
    CompanyRegionMismatch {
        /// The site's region.
        site: Region,
        /// The claiming company's region.
        company: Region,
    },
    /// R-11: the company has claimed this site already and waits for the owner.
    #[error("your company has already claimed this site; the owner has not answered yet")]
    ClaimPending,
    /// R-11: the claim was answered already.
    #[error("this claim is {} and can no longer be answered", .0.as_str())]
    ClaimNotPending(ClaimState),
    /// R-11: at no point do two companies manage a site, so the previous installer's
    /// authorization must end before the new company takes over.
    #[error(
        "the current installation company is still authorized on this site; cancel its authorization first"
    )]
    PreviousInstallerAuthorized,
}

fn app_too_old_text(version: Option<&AppVersion>, minimum: &AppVersion) -> String {
    match version {
        Some(v) => format!(
            "the end user's app (version {v}) is too old to receive invitations; they need to update it to version {minimum} or later"
        ),
        None => format!(
            "the end user's app version is unknown; they need to sign in with app version {minimum} or later to receive invitations"
        ),
    }
}

impl HandoverError {
    /// A stable machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            HandoverError::AlreadyOwned => "handover.already_owned",
            HandoverError::InvitationPending => "handover.invitation_pending",
            HandoverError::NoEndUserAccount => "handover.no_end_user_account",
            HandoverError::EndUserRegionMismatch { .. } => "handover.region_mismatch",
            HandoverError::AppTooOld { .. } => "handover.app_too_old",
            HandoverError::InvitationNotPending(_) => "handover.invitation_not_pending",
            HandoverError::InvitationNotDue => "handover.invitation_not_due",
            HandoverError::NotHandedOver => "handover.not_handed_over",
            HandoverError::ApplicationPending => "handover.application_pending",
            HandoverError::AuthorizationNotPending(_) => "handover.authorization_not_pending",
            HandoverError::AuthorizationNotActive(_) => "handover.authorization_not_active",
            HandoverError::LongerThanRequested { .. } => "handover.longer_than_requested",
            HandoverError::AuthorizationNotDue => "handover.authorization_not_due",
            HandoverError::AlreadyYours => "handover.already_yours",
            HandoverError::CompanyRegionMismatch { .. } => "handover.company_region_mismatch",
            HandoverError::ClaimPending => "handover.claim_pending",
            HandoverError::ClaimNotPending(_) => "handover.claim_not_pending",
            HandoverError::PreviousInstallerAuthorized => "handover.previous_installer_authorized",
        }
    }

    /// Whether the step conflicts with the thing's current state (HTTP 409: the
    /// same request may succeed later); otherwise what was asked is refused as such
    /// (HTTP 422: another end user, region or duration is needed).
    pub fn is_conflict(&self) -> bool {
        !matches!(
            self,
            HandoverError::NoEndUserAccount
                | HandoverError::EndUserRegionMismatch { .. }
                | HandoverError::AppTooOld { .. }
                | HandoverError::LongerThanRequested { .. }
                | HandoverError::CompanyRegionMismatch { .. }
        )
    }
}

/// R-3: the installation company whose logo (and contact) an end user sees, given
/// the managing company of each of the end user's sites (`None` for a site no
/// company manages any more). One company for all managed sites: that one; none,
/// or several: no logo.
pub fn shown_installer<I>(site_companies: I) -> Option<CompanyId>
where
    I: IntoIterator<Item = Option<CompanyId>>,
{
    let mut shown = None;
    for c in site_companies.into_iter().flatten() {
        match shown {
            None => shown = Some(c),
            Some(s) if s == c => {}
            Some(_) => return None,
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::UnknownValue;
    use uuid::Uuid;

    fn cid(n: u128) -> CompanyId {
        CompanyId(Uuid::from_u128(n))
    }

    /// R-3: one company for all of the end user's sites shows its logo; several
    /// companies, or none, show no logo. Sites no company manages do not count.
    #[test]
    fn logo_table() {
        let cases: Vec<(Vec<Option<u128>>, Option<u128>)> = vec![
            (vec![], None),
            (vec![None], None),
            (vec![Some(1)], Some(1)),
            (vec![Some(1), Some(1), Some(1)], Some(1)),
            (vec![Some(1), None, Some(1)], Some(1)),
            (vec![Some(1), Some(2)], None),
            (vec![Some(1), Some(1), Some(2)], None),
            (vec![Some(2), Some(1), Some(2)], None),
        ];
        for (sites, expected) in cases {
            let got = shown_installer(sites.iter().map(|s| s.map(cid)));
            assert_eq!(got, expected.map(cid), "{sites:?}");
        }
    }

    #[test]
    fn errors_have_distinct_codes_and_say_why() {
        let eu: Region = "EU".parse().expect("region");
        let na: Region = "NA".parse().expect("region");
        let all = [
            HandoverError::AlreadyOwned,
            HandoverError::InvitationPending,
            HandoverError::NoEndUserAccount,
            HandoverError::EndUserRegionMismatch {
                site: eu.clone(),
                end_user: na.clone(),
            },
            HandoverError::AppTooOld {
                version: Some(AppVersion::new(4, 2, 0)),
                minimum: AppVersion::DEFAULT_MINIMUM,
            },
            HandoverError::InvitationNotPending(InvitationState::Declined),
            HandoverError::InvitationNotDue,
            HandoverError::NotHandedOver,
            HandoverError::ApplicationPending,
            HandoverError::AuthorizationNotPending(AuthorizationState::Rejected),
            HandoverError::AuthorizationNotActive(AuthorizationState::Expired),
            HandoverError::LongerThanRequested {
                requested: GrantDuration::TwoHours,
                asked: GrantDuration::Permanent,
            },
            HandoverError::AuthorizationNotDue,
            HandoverError::AlreadyYours,
            HandoverError::CompanyRegionMismatch {
                site: eu,
                company: na,
            },
            HandoverError::ClaimPending,
            HandoverError::ClaimNotPending(ClaimState::Confirmed),
            HandoverError::PreviousInstallerAuthorized,
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(HandoverError::code).collect();
        assert_eq!(codes.len(), all.len());
        for e in &all {
            assert!(e.code().starts_with("handover."));
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(
            all[3].to_string(),
            "the end user's account is in region NA, but the site and its devices are in region EU"
        );
        assert_eq!(
            all[4].to_string(),
            "the end user's app (version 4.2.0) is too old to receive invitations; they need to update it to version 4.3 or later"
        );
        assert_eq!(
            all[11].to_string(),
            "the installer applied for 2 hours; an approval may shorten that, not lengthen it to permanent"
        );
        assert!(all[0].is_conflict());
        assert!(!all[3].is_conflict());
        assert!(!all[4].is_conflict());
    }

    #[test]
    fn settings_default_to_app_4_3_and_a_week() {
        let s = HandoverSettings::default();
        assert_eq!(s.minimum_app_version.to_string(), "4.3");
        assert_eq!(s.invitation_ttl_ms, 7 * 24 * HOUR_MS);
    }

    #[test]
    fn unknown_names_are_refused() {
        assert_eq!(
            "nope".parse::<Permission>(),
            Err(UnknownValue("nope".to_owned()))
        );
    }
}
