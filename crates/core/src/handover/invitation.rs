//! Inviting an end user to be a site's owner and the answer.

use super::{
    AppVersion, Authorization, AuthorizationRequest, HandoverError, HandoverSettings,
    NewAuthorization,
};
use crate::{AuthorizationId, CompanyId, InvitationId, Millis, Region, SiteId, SiteState, UserId};
use serde::{Deserialize, Serialize};

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Waiting for the end user's answer.
    Pending,
    /// The end user accepted: the site is handed over.
    Accepted,
    /// The end user declined; the installer sees it.
    Declined,
    /// The installer withdrew it.
    Withdrawn,
    /// Nobody answered in time.
    Expired,
}

named_enum!(InvitationState {
    Pending => "pending", "Waiting for the end user";
    Accepted => "accepted", "Accepted";
    Declined => "declined", "Declined";
    Withdrawn => "withdrawn", "Withdrawn";
    Expired => "expired", "Expired";
});

impl InvitationState {
    /// Whether nothing can happen to it any more.
    pub fn is_final(self) -> bool {
        self != InvitationState::Pending
    }

    /// The site's state when this is its latest invitation: invited while
    /// pending, handed over once accepted, managed again otherwise.
    pub fn site_state(self) -> SiteState {
        match self {
            InvitationState::Pending => SiteState::OwnerInvited,
            InvitationState::Accepted => SiteState::HandedOver,
            InvitationState::Declined | InvitationState::Withdrawn | InvitationState::Expired => {
                SiteState::Managed
            }
        }
    }
}

/// What the invitation needs to know of the end user with the invited e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndUserFacts {
    /// The end user's account.
    pub user_id: UserId,
    /// The region the account lives in.
    pub region: Region,
    /// The app version last signed in with, if known.
    pub app_version: Option<AppVersion>,
}

/// What deciding on an invitation needs to know of the site and the invitee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviteFacts<'a> {
    /// The site's stored state.
    pub site_state: SiteState,
    /// The site's (and its devices') region.
    pub site_region: &'a Region,
    /// The site's owner, if it has one.
    pub owner_id: Option<UserId>,
    /// The site's latest invitation, if any.
    pub latest_invitation: Option<&'a Invitation>,
    /// The end-user account with the invited e-mail (`None`: there is none, or it
    /// is not an end user's).
    pub end_user: Option<&'a EndUserFacts>,
}

/// whether the site's owner may be invited now, and who is invited. Refused,
/// in this order, when the site has an owner, an invitation is waiting, no end user
/// has the e-mail, the end user's region differs from the site's, or the end user's
/// app is older than `minimum`.
pub fn check_invitation(
    facts: &InviteFacts<'_>,
    minimum: &AppVersion,
    now: Millis,
) -> Result<UserId, HandoverError> {
    if facts.owner_id.is_some() || facts.site_state == SiteState::HandedOver {
        return Err(HandoverError::AlreadyOwned);
    }
    let waiting = match facts.latest_invitation {
        Some(inv) => inv.state_at(now) == InvitationState::Pending,
        // Invited, but the invitation was not given: assume it still waits.
        None => facts.site_state == SiteState::OwnerInvited,
    };
    if waiting {
        return Err(HandoverError::InvitationPending);
    }
    let user = facts.end_user.ok_or(HandoverError::NoEndUserAccount)?;
    if user.region != *facts.site_region {
        return Err(HandoverError::EndUserRegionMismatch {
            site: facts.site_region.clone(),
            end_user: user.region.clone(),
        });
    }
    if !AppVersion::handles_invitations(user.app_version.as_ref(), minimum) {
        return Err(HandoverError::AppTooOld {
            version: user.app_version,
            minimum: *minimum,
        });
    }
    Ok(user.user_id)
}

/// Who invites whom to own which site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    /// The new invitation's id.
    pub id: InvitationId,
    /// The site.
    pub site_id: SiteId,
    /// The managing company.
    pub company_id: CompanyId,
    /// The employee inviting.
    pub invited_by: UserId,
    /// The e-mail address the installer typed (already checked and normalised).
    pub end_user_email: String,
    /// The authorization the installer asks for with the hand-over, if any.
    pub authorization: Option<AuthorizationRequest>,
}

/// An invitation of an end user to own a site.
///
/// As with authorizations, the stored `state` may lag behind the clock: a pending
/// invitation past `expires_at` is expired, so read [`Invitation::state_at`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Its id.
    pub id: InvitationId,
    /// The site.
    pub site_id: SiteId,
    /// The managing company.
    pub company_id: CompanyId,
    /// The employee who invited.
    pub invited_by: UserId,
    /// The end user invited.
    pub end_user_id: UserId,
    /// The e-mail address the installer typed.
    pub end_user_email: String,
    /// The state last written.
    pub state: InvitationState,
    /// When it was sent.
    pub created_at: Millis,
    /// When it expires unanswered.
    pub expires_at: Millis,
    /// When it was accepted, declined or withdrawn (expired: `= expires_at`).
    pub closed_at: Option<Millis>,
    /// The authorization asked for with the hand-over, if any.
    pub authorization: Option<AuthorizationRequest>,
}

impl Invitation {
    /// a new invitation, if [`check_invitation`] allows it; it expires after
    /// the configured time.
    pub fn create(
        new: NewInvitation,
        facts: &InviteFacts<'_>,
        settings: &HandoverSettings,
        now: Millis,
    ) -> Result<Self, HandoverError> {
        let end_user_id = check_invitation(facts, &settings.minimum_app_version, now)?;
        Ok(Invitation {
            id: new.id,
            site_id: new.site_id,
            company_id: new.company_id,
            invited_by: new.invited_by,
            end_user_id,
            end_user_email: new.end_user_email,
            state: InvitationState::Pending,
            created_at: now,
            expires_at: now.saturating_add(settings.invitation_ttl_ms),
            closed_at: None,
            authorization: new.authorization,
        })
    }

    /// The state at `now`: a pending invitation is expired from the exact
    /// millisecond of `expires_at` on.
    pub fn state_at(&self, now: Millis) -> InvitationState {
        match self.state {
            InvitationState::Pending if now >= self.expires_at => InvitationState::Expired,
            s => s,
        }
    }

    /// The site's state at `now` as far as this (its latest) invitation goes.
    pub fn site_state_at(&self, now: Millis) -> SiteState {
        self.state_at(now).site_state()
    }

    fn close(&mut self, now: Millis, to: InvitationState) -> Result<(), HandoverError> {
        match self.state_at(now) {
            InvitationState::Pending => {
                self.state = to;
                self.closed_at = Some(now);
                Ok(())
            }
            s => Err(HandoverError::InvitationNotPending(s)),
        }
    }

    /// the end user accepts; the site is handed over and the end user owns it.
    /// A carried authorization request then becomes an application
    /// ([`Invitation::carried_authorization`]).
    pub fn accept(&mut self, now: Millis) -> Result<(), HandoverError> {
        self.close(now, InvitationState::Accepted)
    }

    /// the end user declines; the site stays with the installer, who sees it.
    pub fn decline(&mut self, now: Millis) -> Result<(), HandoverError> {
        self.close(now, InvitationState::Declined)
    }

    /// the installer withdraws an unanswered invitation.
    pub fn withdraw(&mut self, now: Millis) -> Result<(), HandoverError> {
        self.close(now, InvitationState::Withdrawn)
    }

    /// Writes down that nobody answered in time (a sweep calls this;
    /// [`Invitation::state_at`] already says so). It closed at `expires_at`.
    pub fn expire(&mut self, now: Millis) -> Result<(), HandoverError> {
        match (self.state, self.state_at(now)) {
            (InvitationState::Pending, InvitationState::Expired) => {
                self.state = InvitationState::Expired;
                self.closed_at = Some(self.expires_at);
                Ok(())
            }
            (InvitationState::Pending, _) => Err(HandoverError::InvitationNotDue),
            (s, _) => Err(HandoverError::InvitationNotPending(s)),
        }
    }

    /// the authorization asked for with the hand-over, as a pending
    /// application made when the invitation was sent (the owner then approves —
    /// perhaps in the same step as accepting — or rejects it). `None` when the
    /// invitation carried none.
    pub fn carried_authorization(&self, id: AuthorizationId) -> Option<Authorization> {
        let request = self.authorization.clone()?;
        Some(Authorization::pending(
            NewAuthorization {
                id,
                site_id: self.site_id,
                company_id: self.company_id,
                requested_by: self.invited_by,
                request,
            },
            self.created_at,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handover::{
        AuthorizationState, DeviceScope, GrantDuration, HOUR_MS, Permission, PermissionSet,
    };
    use InvitationState::*;
    use uuid::Uuid;

    const T0: Millis = 1_700_000_000_000;
    const TTL: Millis = HandoverSettings::DEFAULT_INVITATION_TTL_MS;

    fn uid(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }
    fn region(s: &str) -> Region {
        s.parse().expect("test region")
    }
    fn version(s: &str) -> Option<AppVersion> {
        Some(s.parse().expect("test version"))
    }
    fn new_invitation(carry: bool) -> NewInvitation {
        NewInvitation {
            id: InvitationId(Uuid::from_u128(1)),
            site_id: SiteId(Uuid::from_u128(2)),
            company_id: CompanyId(Uuid::from_u128(3)),
            invited_by: uid(4),
            end_user_email: "owner@example.com".to_owned(),
            authorization: carry.then(|| {
                AuthorizationRequest::new(
                    PermissionSet::of(&[Permission::HealthMonitoring]),
                    DeviceScope::All,
                    GrantDuration::Permanent,
                    None,
                )
                .expect("request")
            }),
        }
    }
    fn invitation_at(created: Millis) -> Invitation {
        let eu = region("EU");
        let user = EndUserFacts {
            user_id: uid(9),
            region: eu.clone(),
            app_version: version("4.3"),
        };
        let facts = InviteFacts {
            site_state: SiteState::Managed,
            site_region: &eu,
            owner_id: None,
            latest_invitation: None,
            end_user: Some(&user),
        };
        Invitation::create(
            new_invitation(true),
            &facts,
            &HandoverSettings::default(),
            created,
        )
        .expect("invitation")
    }

    /// the refusals, each with its clear reason, and their order.
    #[test]
    fn invitation_refusal_table() {
        let (eu, na) = (region("EU"), region("NA"));
        let user = |r: &Region, v: Option<AppVersion>| EndUserFacts {
            user_id: uid(9),
            region: r.clone(),
            app_version: v,
        };
        let ok_user = user(&eu, version("4.3"));
        let new_app = user(&eu, version("4.10.2"));
        let old_app = user(&eu, version("4.2.9"));
        let unknown_app = user(&eu, None);
        let elsewhere = user(&na, version("5.0"));
        let waiting = invitation_at(T0 - 1);
        let lapsed = invitation_at(T0 - TTL);
        let mut declined = invitation_at(T0 - 10);
        declined.decline(T0 - 5).expect("decline");
        let min = AppVersion::DEFAULT_MINIMUM;
        let too_old = |v: Option<AppVersion>| HandoverError::AppTooOld {
            version: v,
            minimum: min,
        };
        type Case<'a> = (
            SiteState,
            Option<u128>,
            Option<&'a Invitation>,
            Option<&'a EndUserFacts>,
            Result<UserId, HandoverError>,
        );
        let cases: Vec<Case> = vec![
            (SiteState::Managed, None, None, Some(&ok_user), Ok(uid(9))),
            (SiteState::Managed, None, None, Some(&new_app), Ok(uid(9))),
            (
                SiteState::Managed,
                None,
                Some(&declined),
                Some(&ok_user),
                Ok(uid(9)),
            ),
            // The stored state still says invited, but the invitation lapsed exactly now.
            (
                SiteState::OwnerInvited,
                None,
                Some(&lapsed),
                Some(&ok_user),
                Ok(uid(9)),
            ),
            (
                SiteState::HandedOver,
                Some(5),
                None,
                Some(&ok_user),
                Err(HandoverError::AlreadyOwned),
            ),
            (
                SiteState::Managed,
                Some(5),
                None,
                Some(&ok_user),
                Err(HandoverError::AlreadyOwned),
            ),
            (
                SiteState::HandedOver,
                None,
                None,
                None,
                Err(HandoverError::AlreadyOwned),
            ),
            (
                SiteState::OwnerInvited,
                None,
                Some(&waiting),
                Some(&ok_user),
                Err(HandoverError::InvitationPending),
            ),
            (
                SiteState::OwnerInvited,
                None,
                None,
                Some(&ok_user),
                Err(HandoverError::InvitationPending),
            ),
            (
                SiteState::OwnerInvited,
                None,
                Some(&waiting),
                Some(&elsewhere),
                Err(HandoverError::InvitationPending),
            ),
            (
                SiteState::Managed,
                None,
                None,
                None,
                Err(HandoverError::NoEndUserAccount),
            ),
            (
                SiteState::Managed,
                None,
                None,
                Some(&elsewhere),
                Err(HandoverError::EndUserRegionMismatch {
                    site: eu.clone(),
                    end_user: na.clone(),
                }),
            ),
            (
                SiteState::Managed,
                None,
                None,
                Some(&old_app),
                Err(too_old(version("4.2.9"))),
            ),
            (
                SiteState::Managed,
                None,
                None,
                Some(&unknown_app),
                Err(too_old(None)),
            ),
        ];
        for (i, (state, owner, latest, end_user, expected)) in cases.into_iter().enumerate() {
            let facts = InviteFacts {
                site_state: state,
                site_region: &eu,
                owner_id: owner.map(uid),
                latest_invitation: latest,
                end_user,
            };
            assert_eq!(check_invitation(&facts, &min, T0), expected, "case {i}");
        }
        // The minimum is configurable.
        let facts = InviteFacts {
            site_state: SiteState::Managed,
            site_region: &eu,
            owner_id: None,
            latest_invitation: None,
            end_user: Some(&ok_user),
        };
        let stricter = AppVersion::new(4, 5, 0);
        assert_eq!(
            check_invitation(&facts, &stricter, T0),
            Err(HandoverError::AppTooOld {
                version: version("4.3"),
                minimum: stricter
            })
        );
        let settings = HandoverSettings {
            minimum_app_version: stricter,
            invitation_ttl_ms: HOUR_MS,
        };
        assert!(Invitation::create(new_invitation(false), &facts, &settings, T0).is_err());
    }

    #[test]
    fn a_new_invitation_waits_for_the_configured_time() {
        let inv = invitation_at(T0);
        assert_eq!(inv.state, Pending);
        assert_eq!(inv.end_user_id, uid(9));
        assert_eq!((inv.created_at, inv.expires_at), (T0, T0 + TTL));
        assert_eq!(inv.site_state_at(T0), SiteState::OwnerInvited);
        let eu = region("EU");
        let user = EndUserFacts {
            user_id: uid(9),
            region: eu.clone(),
            app_version: version("4.3"),
        };
        let facts = InviteFacts {
            site_state: SiteState::Managed,
            site_region: &eu,
            owner_id: None,
            latest_invitation: None,
            end_user: Some(&user),
        };
        let short = HandoverSettings {
            invitation_ttl_ms: 2 * HOUR_MS,
            ..HandoverSettings::default()
        };
        let inv = Invitation::create(new_invitation(false), &facts, &short, T0).expect("invite");
        assert_eq!(inv.expires_at, T0 + 2 * HOUR_MS);
        assert_eq!(
            inv.carried_authorization(AuthorizationId(Uuid::from_u128(5))),
            None
        );
    }

    /// every answer from every state, exactly around the expiry instant.
    #[test]
    fn invitation_transition_table() {
        #[derive(Debug, Clone, Copy)]
        enum Op {
            Accept,
            Decline,
            Withdraw,
            Expire,
        }
        use Op::*;
        let end = T0 + TTL;
        let not_pending = HandoverError::InvitationNotPending;
        let from = |s: InvitationState| {
            let mut inv = invitation_at(T0);
            match s {
                Pending => {}
                Accepted => inv.accept(T0).expect("accept"),
                Declined => inv.decline(T0).expect("decline"),
                Withdrawn => inv.withdraw(T0).expect("withdraw"),
                Expired => inv.expire(end).expect("expire"),
            }
            inv
        };
        let cases: Vec<(
            InvitationState,
            Op,
            Millis,
            Result<InvitationState, HandoverError>,
        )> = vec![
            (Pending, Accept, end - 1, Ok(Accepted)),
            (Pending, Decline, end - 1, Ok(Declined)),
            (Pending, Withdraw, end - 1, Ok(Withdrawn)),
            (
                Pending,
                Expire,
                end - 1,
                Err(HandoverError::InvitationNotDue),
            ),
            (Pending, Accept, end, Err(not_pending(Expired))),
            (Pending, Decline, end, Err(not_pending(Expired))),
            (Pending, Withdraw, end, Err(not_pending(Expired))),
            (Pending, Expire, end, Ok(Expired)),
            (Pending, Expire, end + 1, Ok(Expired)),
            (Accepted, Accept, T0 + 1, Err(not_pending(Accepted))),
            (Accepted, Decline, T0 + 1, Err(not_pending(Accepted))),
            (Accepted, Withdraw, T0 + 1, Err(not_pending(Accepted))),
            (Accepted, Expire, end + 1, Err(not_pending(Accepted))),
            (Declined, Accept, T0 + 1, Err(not_pending(Declined))),
            (Declined, Withdraw, T0 + 1, Err(not_pending(Declined))),
            (Withdrawn, Accept, T0 + 1, Err(not_pending(Withdrawn))),
            (Withdrawn, Decline, T0 + 1, Err(not_pending(Withdrawn))),
            (Expired, Accept, end + 1, Err(not_pending(Expired))),
            (Expired, Expire, end + 1, Err(not_pending(Expired))),
        ];
        for (state, op, now, expected) in cases {
            let mut inv = from(state);
            let before = inv.clone();
            let result = match op {
                Accept => inv.accept(now),
                Decline => inv.decline(now),
                Withdraw => inv.withdraw(now),
                Expire => inv.expire(now),
            };
            match expected {
                Ok(to) => {
                    assert_eq!(result, Ok(()), "{state:?} {op:?} at {now}");
                    assert_eq!(inv.state, to);
                    let closed = if to == Expired { end } else { now };
                    assert_eq!(inv.closed_at, Some(closed));
                }
                Err(e) => {
                    assert_eq!(result, Err(e), "{state:?} {op:?} at {now}");
                    assert_eq!(inv, before, "a refused answer changes nothing");
                }
            }
        }
    }

    /// the site's state follows its latest invitation, exactly at expiry.
    #[test]
    fn site_state_follows_the_invitation() {
        let end = T0 + TTL;
        let inv = invitation_at(T0);
        assert_eq!(inv.site_state_at(end - 1), SiteState::OwnerInvited);
        assert_eq!(inv.site_state_at(end), SiteState::Managed);
        let table = [
            (Pending, SiteState::OwnerInvited),
            (Accepted, SiteState::HandedOver),
            (Declined, SiteState::Managed),
            (Withdrawn, SiteState::Managed),
            (Expired, SiteState::Managed),
        ];
        for (state, site) in table {
            assert_eq!(state.site_state(), site);
            assert_eq!(state.is_final(), state != Pending);
            assert_eq!(state.as_str().parse::<InvitationState>(), Ok(state));
        }
    }

    /// the request carried by the invitation becomes a pending application,
    /// dated when the invitation was sent; the owner may approve it on accepting.
    #[test]
    fn carried_authorization_becomes_an_application() {
        let mut inv = invitation_at(T0);
        inv.accept(T0 + 50).expect("accept");
        let mut a = inv
            .carried_authorization(AuthorizationId(Uuid::from_u128(5)))
            .expect("carried");
        assert_eq!(a.state, AuthorizationState::Pending);
        assert_eq!(a.requested_at, T0);
        assert_eq!(
            (a.site_id, a.company_id, a.requested_by),
            (inv.site_id, inv.company_id, inv.invited_by)
        );
        assert_eq!(
            a.permissions,
            PermissionSet::of(&[Permission::HealthMonitoring])
        );
        a.approve(T0 + 50, Some(GrantDuration::OneDay))
            .expect("approve");
        assert_eq!(a.expires_at, Some(T0 + 50 + 24 * HOUR_MS));
    }
}
