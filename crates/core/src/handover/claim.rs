//! Changing the installation company: the new company's Installer Admin
//! claims a handed-over site by its Site ID, and the owner confirms. The site has
//! one managing company at a time, and the previous one's authorization must have
//! ended first, so at no point do two companies manage it.
//!
//! On confirmation the app moves the site to the claiming company with no Site
//! Manager (its Installer Admin assigns one, then applies for an authorization),
//! declines the site's other pending claims, and rejects the previous company's
//! unanswered applications.

use super::{Authorization, HandoverError};
use crate::{ClaimId, CompanyId, Millis, Region, SiteId, SiteState, UserId};
use serde::{Deserialize, Serialize};

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimState {
    /// Waiting for the owner to confirm.
    PendingConfirmation,
    /// The owner confirmed: the claiming company manages the site.
    Confirmed,
    /// The owner declined (or confirmed another company's claim).
    Declined,
}

named_enum!(ClaimState {
    PendingConfirmation => "pending_confirmation", "Waiting for the owner";
    Confirmed => "confirmed", "Confirmed";
    Declined => "declined", "Declined";
});

/// What deciding on a claim needs to know of the site and the claiming company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimFacts<'a> {
    /// The site's state.
    pub site_state: SiteState,
    /// The site's region.
    pub site_region: &'a Region,
    /// The company managing it now (`None`: it removed the site from its list).
    pub site_company: Option<CompanyId>,
    /// The site's owner.
    pub owner_id: Option<UserId>,
    /// The claiming company's region.
    pub company_region: &'a Region,
    /// The site's claims so far.
    pub claims: &'a [Claim],
}

/// whether `claimant` may claim the site; returns the owner who must confirm.
/// Refused, in this order, when the site is the claimant's already, has not been
/// handed over, is in another region, or the claimant's earlier claim still waits.
pub fn check_claim(facts: &ClaimFacts<'_>, claimant: CompanyId) -> Result<UserId, HandoverError> {
    if facts.site_company == Some(claimant) {
        return Err(HandoverError::AlreadyYours);
    }
    let owner = match (facts.site_state, facts.owner_id) {
        (SiteState::HandedOver, Some(owner)) => owner,
        _ => return Err(HandoverError::NotHandedOver),
    };
    if facts.company_region != facts.site_region {
        return Err(HandoverError::CompanyRegionMismatch {
            site: facts.site_region.clone(),
            company: facts.company_region.clone(),
        });
    }
    let waiting = facts
        .claims
        .iter()
        .any(|c| c.company_id == claimant && c.state == ClaimState::PendingConfirmation);
    if waiting {
        return Err(HandoverError::ClaimPending);
    }
    Ok(owner)
}

/// Who claims which site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaim {
    /// The new claim's id.
    pub id: ClaimId,
    /// The site, found by its Site ID.
    pub site_id: SiteId,
    /// The claiming company.
    pub company_id: CompanyId,
    /// Its Installer Admin who claims.
    pub claimed_by: UserId,
}

/// A company's claim of a handed-over site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Its id.
    pub id: ClaimId,
    /// The site.
    pub site_id: SiteId,
    /// The claiming company.
    pub company_id: CompanyId,
    /// Its Installer Admin who claimed.
    pub claimed_by: UserId,
    /// The owner who must confirm.
    pub owner_id: UserId,
    /// The company managing the site when it was claimed, if any.
    pub previous_company_id: Option<CompanyId>,
    /// The state.
    pub state: ClaimState,
    /// When it was made.
    pub created_at: Millis,
    /// When the owner answered.
    pub decided_at: Option<Millis>,
}

impl Claim {
    /// a new claim, if [`check_claim`] allows it.
    pub fn create(
        new: NewClaim,
        facts: &ClaimFacts<'_>,
        now: Millis,
    ) -> Result<Self, HandoverError> {
        let owner_id = check_claim(facts, new.company_id)?;
        Ok(Claim {
            id: new.id,
            site_id: new.site_id,
            company_id: new.company_id,
            claimed_by: new.claimed_by,
            owner_id,
            previous_company_id: facts.site_company,
            state: ClaimState::PendingConfirmation,
            created_at: now,
            decided_at: None,
        })
    }

    fn pending_or_err(&self) -> Result<(), HandoverError> {
        match self.state {
            ClaimState::PendingConfirmation => Ok(()),
            s => Err(HandoverError::ClaimNotPending(s)),
        }
    }

    /// the owner confirms. Refused while another company still holds an
    /// authorization in force on the site (`site_authorizations` at `now`): the
    /// owner cancels it first, so two companies never manage the site at once.
    pub fn confirm(
        &mut self,
        now: Millis,
        site_authorizations: &[Authorization],
    ) -> Result<(), HandoverError> {
        self.pending_or_err()?;
        let other_in_force = site_authorizations.iter().any(|a| {
            a.site_id == self.site_id && a.company_id != self.company_id && a.is_active_at(now)
        });
        if other_in_force {
            return Err(HandoverError::PreviousInstallerAuthorized);
        }
        self.state = ClaimState::Confirmed;
        self.decided_at = Some(now);
        Ok(())
    }

    /// the owner declines.
    pub fn decline(&mut self, now: Millis) -> Result<(), HandoverError> {
        self.pending_or_err()?;
        self.state = ClaimState::Declined;
        self.decided_at = Some(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthorizationId;
    use crate::handover::{
        AuthorizationRequest, DeviceScope, GrantDuration, HOUR_MS, NewAuthorization, Permission,
        PermissionSet,
    };
    use uuid::Uuid;

    const T0: Millis = 1_700_000_000_000;

    fn cid(n: u128) -> CompanyId {
        CompanyId(Uuid::from_u128(n))
    }
    fn uid(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }
    fn region(s: &str) -> Region {
        s.parse().expect("test region")
    }
    fn new_claim(company: u128) -> NewClaim {
        NewClaim {
            id: ClaimId(Uuid::from_u128(company)),
            site_id: SiteId(Uuid::from_u128(1)),
            company_id: cid(company),
            claimed_by: uid(50 + company),
        }
    }
    fn claim(company: u128) -> Claim {
        let eu = region("EU");
        let facts = ClaimFacts {
            site_state: SiteState::HandedOver,
            site_region: &eu,
            site_company: Some(cid(1)),
            owner_id: Some(uid(9)),
            company_region: &eu,
            claims: &[],
        };
        Claim::create(new_claim(company), &facts, T0).expect("claim")
    }
    fn authorization(company: u128, hours: i64) -> Authorization {
        let mut a = Authorization::pending(
            NewAuthorization {
                id: AuthorizationId(Uuid::from_u128(company)),
                site_id: SiteId(Uuid::from_u128(1)),
                company_id: cid(company),
                requested_by: uid(1),
                request: AuthorizationRequest::new(
                    PermissionSet::of(&[Permission::Configuration]),
                    DeviceScope::All,
                    GrantDuration::from_hours(Some(hours)).expect("duration"),
                    None,
                )
                .expect("request"),
            },
            T0,
        );
        a.approve(T0, None).expect("approve");
        a
    }

    /// who may claim which site, with the reasons in order.
    #[test]
    fn claim_refusal_table() {
        let (eu, na) = (region("EU"), region("NA"));
        let mine_waiting = claim(2);
        let mut mine_declined = claim(2);
        mine_declined.decline(T0).expect("decline");
        let other_waiting = claim(3);
        type Case<'a> = (
            SiteState,
            Option<u128>,
            Option<u128>,
            &'a Region,
            Vec<Claim>,
            Result<UserId, HandoverError>,
        );
        let cases: Vec<Case> = vec![
            (
                SiteState::HandedOver,
                Some(1),
                Some(9),
                &eu,
                vec![],
                Ok(uid(9)),
            ),
            // The old company removed the site from its list first.
            (
                SiteState::HandedOver,
                None,
                Some(9),
                &eu,
                vec![],
                Ok(uid(9)),
            ),
            (
                SiteState::HandedOver,
                Some(1),
                Some(9),
                &eu,
                vec![mine_declined, other_waiting],
                Ok(uid(9)),
            ),
            (
                SiteState::HandedOver,
                Some(2),
                Some(9),
                &eu,
                vec![],
                Err(HandoverError::AlreadyYours),
            ),
            (
                SiteState::Managed,
                Some(2),
                None,
                &eu,
                vec![],
                Err(HandoverError::AlreadyYours),
            ),
            (
                SiteState::Managed,
                Some(1),
                None,
                &eu,
                vec![],
                Err(HandoverError::NotHandedOver),
            ),
            (
                SiteState::OwnerInvited,
                Some(1),
                None,
                &eu,
                vec![],
                Err(HandoverError::NotHandedOver),
            ),
            (
                SiteState::HandedOver,
                Some(1),
                Some(9),
                &na,
                vec![],
                Err(HandoverError::CompanyRegionMismatch {
                    site: eu.clone(),
                    company: na.clone(),
                }),
            ),
            (
                SiteState::HandedOver,
                Some(1),
                Some(9),
                &eu,
                vec![mine_waiting],
                Err(HandoverError::ClaimPending),
            ),
        ];
        for (i, (state, company, owner, company_region, claims, expected)) in
            cases.into_iter().enumerate()
        {
            let facts = ClaimFacts {
                site_state: state,
                site_region: &eu,
                site_company: company.map(cid),
                owner_id: owner.map(uid),
                company_region,
                claims: &claims,
            };
            assert_eq!(check_claim(&facts, cid(2)), expected, "case {i}");
        }
    }

    /// the owner confirms only once the previous company's authorization is
    /// no longer in force — cancelled, released or expired (exactly at its end).
    #[test]
    fn confirmation_table() {
        let old = authorization(1, 1);
        let end = T0 + HOUR_MS;
        let mut cancelled = old.clone();
        cancelled.cancel(T0 + 5).expect("cancel");
        let mut released = old.clone();
        released.release(T0 + 5).expect("release");
        let new_company = authorization(2, 24);
        let mut other_site = old.clone();
        other_site.site_id = SiteId(Uuid::from_u128(99));
        let cases: Vec<(Vec<Authorization>, Millis, Result<(), HandoverError>)> = vec![
            (vec![], T0 + 10, Ok(())),
            (vec![cancelled], T0 + 10, Ok(())),
            (vec![released], T0 + 10, Ok(())),
            (vec![new_company], T0 + 10, Ok(())),
            (vec![other_site], T0 + 10, Ok(())),
            (vec![old.clone()], end, Ok(())),
            (
                vec![old.clone()],
                end - 1,
                Err(HandoverError::PreviousInstallerAuthorized),
            ),
        ];
        for (i, (auths, now, expected)) in cases.into_iter().enumerate() {
            let mut c = claim(2);
            assert_eq!(c.confirm(now, &auths), expected, "case {i}");
            let state = if expected.is_ok() {
                ClaimState::Confirmed
            } else {
                ClaimState::PendingConfirmation
            };
            assert_eq!(c.state, state, "case {i}");
        }
    }

    #[test]
    fn claim_transitions() {
        let c = claim(2);
        assert_eq!(c.state, ClaimState::PendingConfirmation);
        assert_eq!((c.owner_id, c.previous_company_id), (uid(9), Some(cid(1))));
        let mut confirmed = c.clone();
        confirmed.confirm(T0 + 1, &[]).expect("confirm");
        assert_eq!(confirmed.decided_at, Some(T0 + 1));
        let mut declined = c.clone();
        declined.decline(T0 + 2).expect("decline");
        assert_eq!(
            (declined.state, declined.decided_at),
            (ClaimState::Declined, Some(T0 + 2))
        );
        for mut done in [confirmed, declined] {
            let state = done.state;
            let before = done.clone();
            assert_eq!(
                done.confirm(T0 + 3, &[]),
                Err(HandoverError::ClaimNotPending(state))
            );
            assert_eq!(
                done.decline(T0 + 3),
                Err(HandoverError::ClaimNotPending(state))
            );
            assert_eq!(done, before);
        }
        assert_eq!(
            ClaimState::PendingConfirmation.as_str(),
            "pending_confirmation"
        );
        assert_eq!("confirmed".parse::<ClaimState>(), Ok(ClaimState::Confirmed));
    }
}
