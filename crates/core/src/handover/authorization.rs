//! Site authorizations (R-10): the installer applies for permissions, on all or
//! chosen devices, for a while; the owner approves (perhaps for a shorter while) or
//! rejects, and may cancel at any time; the installer may release it early. An
//! approved authorization expires exactly at `expires_at`.

use super::{DeviceScope, GrantDuration, HandoverError, Permission, PermissionSet};
use crate::validate::{FieldError, optional_text};
use crate::{AuthorizationId, CompanyId, DeviceId, Millis, SiteId, SiteState, UserId};
use serde::{Deserialize, Serialize};

/// Longest remark an installer may add to an application.
pub const REMARK_MAX: usize = 500;

/// Where an authorization stands (the API field `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationState {
    /// Applied for; waiting for the owner's answer.
    Pending,
    /// Granted by the owner and in force until `expires_at` (if any).
    Approved,
    /// Refused by the owner.
    Rejected,
    /// Was approved; its time ran out.
    Expired,
    /// Was approved; the owner ended it.
    Cancelled,
    /// The installer gave it up: ended it early, or withdrew the application.
    Released,
}

named_enum!(AuthorizationState {
    Pending => "pending", "Waiting for the owner";
    Approved => "approved", "Approved";
    Rejected => "rejected", "Rejected";
    Expired => "expired", "Expired";
    Cancelled => "cancelled", "Cancelled by the owner";
    Released => "released", "Released by the installer";
});

impl AuthorizationState {
    /// Whether nothing can happen to it any more.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            AuthorizationState::Pending | AuthorizationState::Approved
        )
    }
}

/// What an installer applies for (R-10), alone or inside an invitation. Its JSON is
/// the API's body `{permissions, device_ids?, duration_hours, remark?}`, checked
/// when read (see [`AuthorizationRequestInput`] for errors by field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AuthorizationRequestInput")]
pub struct AuthorizationRequest {
    /// The permissions asked for; never empty.
    pub permissions: PermissionSet,
    /// On which devices.
    #[serde(rename = "device_ids")]
    pub devices: DeviceScope,
    /// For how long, once approved.
    #[serde(rename = "duration_hours")]
    pub duration: GrantDuration,
    /// A word to the owner.
    pub remark: Option<String>,
}

/// An application as typed, before its field rules are checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuthorizationRequestInput {
    /// Permission names.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Chosen devices; absent or `null` for all.
    #[serde(default)]
    pub device_ids: Option<Vec<DeviceId>>,
    /// 1, 2, 4, 8 or 24; absent or `null` for permanent.
    #[serde(default)]
    pub duration_hours: Option<i64>,
    /// A word to the owner.
    #[serde(default)]
    pub remark: Option<String>,
}

impl AuthorizationRequestInput {
    /// Checks every field; the errors name the API fields at fault.
    pub fn check(self) -> Result<AuthorizationRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let permissions = PermissionSet::from(self.permissions);
        if permissions.is_empty() {
            errors.push(FieldError::new(
                "permissions",
                "choose at least one permission",
            ));
        }
        let devices = DeviceScope::from_ids(self.device_ids).map_err(|e| errors.push(e));
        let duration = GrantDuration::from_hours(self.duration_hours)
            .map_err(|e| errors.push(e.field_error()));
        let remark = optional_text("remark", self.remark.as_deref().unwrap_or(""), REMARK_MAX)
            .map_err(|e| errors.push(e));
        match (devices, duration, remark) {
            (Ok(devices), Ok(duration), Ok(remark)) if errors.is_empty() => {
                Ok(AuthorizationRequest {
                    permissions,
                    devices,
                    duration,
                    remark,
                })
            }
            _ => Err(errors),
        }
    }
}

impl TryFrom<AuthorizationRequestInput> for AuthorizationRequest {
    type Error = FieldError;
    fn try_from(input: AuthorizationRequestInput) -> Result<Self, Self::Error> {
        input.check().map_err(|mut e| e.swap_remove(0))
    }
}

impl AuthorizationRequest {
    /// A checked request (see [`AuthorizationRequestInput::check`]).
    pub fn new(
        permissions: PermissionSet,
        devices: DeviceScope,
        duration: GrantDuration,
        remark: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        AuthorizationRequestInput {
            permissions: permissions.iter().collect(),
            device_ids: devices.into(),
            duration_hours: duration.hours(),
            remark: remark.map(str::to_owned),
        }
        .check()
    }
}

/// Who applies for what, on which site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthorization {
    /// The new authorization's id.
    pub id: AuthorizationId,
    /// The site.
    pub site_id: SiteId,
    /// The installation company applying (the site's managing company).
    pub company_id: CompanyId,
    /// The employee applying.
    pub requested_by: UserId,
    /// What is asked for.
    pub request: AuthorizationRequest,
}

/// R-10: whether `company` may apply for an authorization on a site in
/// `site_state`, given the site's `existing` authorizations at `now`: only for a
/// handed-over site, and one application waiting at a time.
pub fn check_application(
    site_state: SiteState,
    company: CompanyId,
    existing: &[Authorization],
    now: Millis,
) -> Result<(), HandoverError> {
    if site_state != SiteState::HandedOver {
        return Err(HandoverError::NotHandedOver);
    }
    let waiting = existing
        .iter()
        .any(|a| a.company_id == company && a.state_at(now) == AuthorizationState::Pending);
    if waiting {
        return Err(HandoverError::ApplicationPending);
    }
    Ok(())
}

/// An installer company's authorization on a handed-over site (R-10).
///
/// The stored `state` is what was last written; an approved authorization past its
/// `expires_at` is expired whether or not a sweep has written that yet, so always
/// read [`Authorization::state_at`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Its id.
    pub id: AuthorizationId,
    /// The site.
    pub site_id: SiteId,
    /// The installation company authorized.
    pub company_id: CompanyId,
    /// The employee who applied.
    pub requested_by: UserId,
    /// The permissions asked for (and granted, once approved).
    pub permissions: PermissionSet,
    /// The devices covered.
    pub devices: DeviceScope,
    /// The duration asked for.
    pub requested_duration: GrantDuration,
    /// The duration granted (set on approval; never longer than asked for).
    pub granted_duration: Option<GrantDuration>,
    /// The installer's word to the owner.
    pub remark: Option<String>,
    /// The state last written.
    pub state: AuthorizationState,
    /// When the installer applied.
    pub requested_at: Millis,
    /// When the owner approved or rejected it.
    pub decided_at: Option<Millis>,
    /// When an approved authorization runs out (`None`: permanent, or not approved).
    pub expires_at: Option<Millis>,
    /// When it ended: cancelled, released, or expired (then `= expires_at`).
    pub ended_at: Option<Millis>,
}

impl Authorization {
    /// R-10: a new application, if the site and its `existing` authorizations allow
    /// one (see [`check_application`]).
    pub fn apply(
        new: NewAuthorization,
        site_state: SiteState,
        existing: &[Authorization],
        now: Millis,
    ) -> Result<Self, HandoverError> {
        check_application(site_state, new.company_id, existing, now)?;
        Ok(Self::pending(new, now))
    }

    /// A pending application made at `requested_at`, without checks (the request
    /// carried by an accepted invitation becomes one this way).
    pub fn pending(new: NewAuthorization, requested_at: Millis) -> Self {
        let NewAuthorization {
            id,
            site_id,
            company_id,
            requested_by,
            request,
        } = new;
        Authorization {
            id,
            site_id,
            company_id,
            requested_by,
            permissions: request.permissions,
            devices: request.devices,
            requested_duration: request.duration,
            granted_duration: None,
            remark: request.remark,
            state: AuthorizationState::Pending,
            requested_at,
            decided_at: None,
            expires_at: None,
            ended_at: None,
        }
    }

    /// What was applied for.
    pub fn request(&self) -> AuthorizationRequest {
        AuthorizationRequest {
            permissions: self.permissions,
            devices: self.devices.clone(),
            duration: self.requested_duration,
            remark: self.remark.clone(),
        }
    }

    /// The state at `now`: an approved authorization is expired from the exact
    /// millisecond of `expires_at` on.
    pub fn state_at(&self, now: Millis) -> AuthorizationState {
        match (self.state, self.expires_at) {
            (AuthorizationState::Approved, Some(end)) if now >= end => AuthorizationState::Expired,
            (state, _) => state,
        }
    }

    /// Whether it is in force at `now`.
    pub fn is_active_at(&self, now: Millis) -> bool {
        self.state_at(now) == AuthorizationState::Approved
    }

    /// Whether it is waiting for the owner or in force at `now`.
    pub fn is_open_at(&self, now: Millis) -> bool {
        !self.state_at(now).is_final()
    }

    /// Whether it lets the installer use `permission` at `now` on `device` (`None`:
    /// on the site itself, not a particular device).
    pub fn covers(&self, permission: Permission, device: Option<DeviceId>, now: Millis) -> bool {
        self.is_active_at(now)
            && self.permissions.contains(permission)
            && self.devices.covers(device)
    }

    fn pending_or_err(&self, now: Millis) -> Result<(), HandoverError> {
        match self.state_at(now) {
            AuthorizationState::Pending => Ok(()),
            s => Err(HandoverError::AuthorizationNotPending(s)),
        }
    }

    fn active_or_err(&self, now: Millis) -> Result<(), HandoverError> {
        match self.state_at(now) {
            AuthorizationState::Approved => Ok(()),
            s => Err(HandoverError::AuthorizationNotActive(s)),
        }
    }

    /// R-10: the owner approves at `now`, for the duration asked for (`None`) or a
    /// shorter one, never a longer one. It is in force from `now` until
    /// `now + duration`.
    pub fn approve(
        &mut self,
        now: Millis,
        duration: Option<GrantDuration>,
    ) -> Result<(), HandoverError> {
        self.pending_or_err(now)?;
        let granted = duration.unwrap_or(self.requested_duration);
        if granted > self.requested_duration {
            return Err(HandoverError::LongerThanRequested {
                requested: self.requested_duration,
                asked: granted,
            });
        }
        self.state = AuthorizationState::Approved;
        self.granted_duration = Some(granted);
        self.decided_at = Some(now);
        self.expires_at = granted.ends_at(now);
        Ok(())
    }

    /// R-10: the owner rejects the application.
    pub fn reject(&mut self, now: Millis) -> Result<(), HandoverError> {
        self.pending_or_err(now)?;
        self.state = AuthorizationState::Rejected;
        self.decided_at = Some(now);
        Ok(())
    }

    /// R-10: the owner ends an authorization in force, at any time.
    pub fn cancel(&mut self, now: Millis) -> Result<(), HandoverError> {
        self.active_or_err(now)?;
        self.state = AuthorizationState::Cancelled;
        self.ended_at = Some(now);
        Ok(())
    }

    /// R-10: the installer ends an authorization in force early, or withdraws an
    /// application the owner has not answered.
    pub fn release(&mut self, now: Millis) -> Result<(), HandoverError> {
        match self.state_at(now) {
            AuthorizationState::Pending | AuthorizationState::Approved => {
                self.state = AuthorizationState::Released;
                self.ended_at = Some(now);
                Ok(())
            }
            s => Err(HandoverError::AuthorizationNotActive(s)),
        }
    }

    /// Writes down that an approved authorization ran out (a sweep calls this;
    /// [`Authorization::state_at`] already says so). It ended at `expires_at`,
    /// not when the sweep came by.
    pub fn expire(&mut self, now: Millis) -> Result<(), HandoverError> {
        match (self.state, self.state_at(now)) {
            (AuthorizationState::Approved, AuthorizationState::Expired) => {
                self.state = AuthorizationState::Expired;
                self.ended_at = self.expires_at;
                Ok(())
            }
            (AuthorizationState::Approved, _) => Err(HandoverError::AuthorizationNotDue),
            (s, _) => Err(HandoverError::AuthorizationNotActive(s)),
        }
    }
}

/// What an installation company may do on a site at one instant (R-10): the
/// permissions and devices of its authorizations in force then. The policy
/// ([`crate::policy::SiteFacts::access`]) consults it for handed-over sites.
///
/// Made only by [`Access::at`] (or empty), so expiry cannot be skipped. It is a
/// snapshot: a long operation (a live-view stream) must stop at
/// [`Access::ends_first`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Access {
    grants: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    permissions: PermissionSet,
    devices: DeviceScope,
    until: Option<Millis>,
}

impl Access {
    /// No access at all.
    pub fn none() -> Self {
        Access::default()
    }

    /// What `company` may do on `site` at `now`, from the site's authorizations
    /// (others' and other sites' are ignored; several in force add up).
    pub fn at<'a>(
        site: SiteId,
        company: CompanyId,
        authorizations: impl IntoIterator<Item = &'a Authorization>,
        now: Millis,
    ) -> Self {
        let grants = authorizations
            .into_iter()
            .filter(|a| a.site_id == site && a.company_id == company && a.is_active_at(now))
            .map(|a| Grant {
                permissions: a.permissions,
                devices: a.devices.clone(),
                until: a.expires_at,
            })
            .collect();
        Access { grants }
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }

    /// Whether `permission` is granted on `device` (`None`: on the site itself).
    pub fn covers(&self, permission: Permission, device: Option<DeviceId>) -> bool {
        self.grants
            .iter()
            .any(|g| g.permissions.contains(permission) && g.devices.covers(device))
    }

    /// Every permission granted on at least one device.
    pub fn permissions(&self) -> PermissionSet {
        self.grants
            .iter()
            .fold(PermissionSet::EMPTY, |acc, g| acc.union(g.permissions))
    }

    /// The devices on which `permission` is granted (`None`: on none), to filter
    /// lists such as the health of a site's devices.
    pub fn devices_for(&self, permission: Permission) -> Option<DeviceScope> {
        let mut ids = std::collections::BTreeSet::new();
        let mut any = false;
        for g in self
            .grants
            .iter()
            .filter(|g| g.permissions.contains(permission))
        {
            match &g.devices {
                DeviceScope::All => return Some(DeviceScope::All),
                DeviceScope::Only(d) => {
                    any = true;
                    ids.extend(d.iter().copied());
                }
            }
        }
        any.then_some(DeviceScope::Only(ids))
    }

    /// When the first grant runs out (`None`: nothing granted runs out), so a
    /// cached decision or an open stream knows when to look again.
    pub fn ends_first(&self) -> Option<Millis> {
        self.grants.iter().filter_map(|g| g.until).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handover::HOUR_MS;
    use AuthorizationState::*;
    use Permission::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    const T0: Millis = 1_700_000_000_000;

    fn did(n: u128) -> DeviceId {
        DeviceId(Uuid::from_u128(n))
    }
    fn cid(n: u128) -> CompanyId {
        CompanyId(Uuid::from_u128(n))
    }
    fn sid(n: u128) -> SiteId {
        SiteId(Uuid::from_u128(n))
    }

    fn request(
        perms: &[Permission],
        devices: DeviceScope,
        d: GrantDuration,
    ) -> AuthorizationRequest {
        AuthorizationRequest::new(PermissionSet::of(perms), devices, d, Some("service visit"))
            .expect("valid request")
    }

    fn new_auth(company: u128, req: AuthorizationRequest) -> NewAuthorization {
        NewAuthorization {
            id: AuthorizationId(Uuid::from_u128(100 + company)),
            site_id: sid(1),
            company_id: cid(company),
            requested_by: UserId(Uuid::from_u128(7)),
            request: req,
        }
    }

    fn pending(perms: &[Permission], d: GrantDuration) -> Authorization {
        Authorization::pending(new_auth(1, request(perms, DeviceScope::All, d)), T0)
    }

    fn approved(perms: &[Permission], d: GrantDuration) -> Authorization {
        let mut a = pending(perms, d);
        a.approve(T0, None).expect("approve");
        a
    }

    #[test]
    fn requests_check_every_field() {
        let ok: AuthorizationRequestInput = serde_json::from_str(
            r#"{"permissions":["live_view","playback"],"device_ids":null,"duration_hours":4,"remark":" hi "}"#,
        )
        .expect("json");
        let r = ok.check().expect("valid");
        assert_eq!(r.permissions, PermissionSet::of(&[LiveView, Playback]));
        assert_eq!(r.devices, DeviceScope::All);
        assert_eq!(r.duration, GrantDuration::FourHours);
        assert_eq!(r.remark.as_deref(), Some("hi"));

        let bad = AuthorizationRequestInput {
            permissions: vec![],
            device_ids: Some(vec![]),
            duration_hours: Some(3),
            remark: Some("x".repeat(REMARK_MAX + 1)),
        };
        let fields: Vec<String> = bad
            .check()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["permissions", "device_ids", "duration_hours", "remark"]
        );

        // Absent device list and duration: all devices, permanent.
        let r: AuthorizationRequest =
            serde_json::from_str(r#"{"permissions":["health_monitoring"]}"#).expect("json");
        assert_eq!(r.devices, DeviceScope::All);
        assert_eq!(r.duration, GrantDuration::Permanent);
        assert_eq!(r.remark, None);
        // Its JSON is the API's body and reads back the same.
        let r = request(
            &[SiteInfo],
            DeviceScope::only([did(1)]).expect("devices"),
            GrantDuration::OneHour,
        );
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"permissions":["site_info"],"device_ids":[did(1)],"duration_hours":1,"remark":"service visit"})
        );
        assert_eq!(
            serde_json::from_value::<AuthorizationRequest>(json).ok(),
            Some(r)
        );
        assert!(serde_json::from_str::<AuthorizationRequest>(r#"{"permissions":[]}"#).is_err());
    }

    /// R-10: applications only for handed-over sites, one waiting per company.
    #[test]
    fn application_table() {
        let waiting = pending(&[LiveView], GrantDuration::OneHour);
        let mut answered = waiting.clone();
        answered.reject(T0).expect("reject");
        let other_company = Authorization::pending(
            new_auth(
                2,
                request(&[LiveView], DeviceScope::All, GrantDuration::OneHour),
            ),
            T0,
        );
        let cases: Vec<(SiteState, Vec<Authorization>, Result<(), HandoverError>)> = vec![
            (SiteState::HandedOver, vec![], Ok(())),
            (SiteState::HandedOver, vec![answered], Ok(())),
            (SiteState::HandedOver, vec![other_company], Ok(())),
            (
                SiteState::HandedOver,
                vec![approved(&[Playback], GrantDuration::Permanent)],
                Ok(()),
            ),
            (
                SiteState::HandedOver,
                vec![waiting.clone()],
                Err(HandoverError::ApplicationPending),
            ),
            (
                SiteState::Managed,
                vec![],
                Err(HandoverError::NotHandedOver),
            ),
            (
                SiteState::OwnerInvited,
                vec![],
                Err(HandoverError::NotHandedOver),
            ),
        ];
        for (i, (state, existing, expected)) in cases.into_iter().enumerate() {
            let got = Authorization::apply(
                new_auth(
                    1,
                    request(&[SiteInfo], DeviceScope::All, GrantDuration::TwoHours),
                ),
                state,
                &existing,
                T0 + 5,
            );
            assert_eq!(
                got.as_ref().map(|_| ()),
                expected.as_ref().map(|_| ()),
                "case {i}"
            );
            assert_eq!(got.err(), expected.err(), "case {i}");
        }
        let a = Authorization::apply(
            new_auth(
                1,
                request(&[SiteInfo], DeviceScope::All, GrantDuration::TwoHours),
            ),
            SiteState::HandedOver,
            &[],
            T0 + 5,
        )
        .expect("apply");
        assert_eq!((a.state, a.requested_at), (Pending, T0 + 5));
        assert_eq!(a.request().duration, GrantDuration::TwoHours);
    }

    /// R-10: every transition from every state, answered at `T0 + 1 ms`; approved
    /// ones here last an hour from `T0`.
    #[test]
    fn transition_table() {
        #[derive(Debug, Clone, Copy)]
        enum Op {
            Approve,
            Reject,
            Cancel,
            Release,
            Expire,
        }
        let from = |s: AuthorizationState| {
            let mut a = pending(&[LiveView], GrantDuration::OneHour);
            match s {
                Pending => {}
                Approved => a.approve(T0, None).expect("approve"),
                Rejected => a.reject(T0).expect("reject"),
                Expired => {
                    a.approve(T0 - HOUR_MS, None).expect("approve");
                    a.expire(T0).expect("expire");
                }
                Cancelled => {
                    a.approve(T0, None).expect("approve");
                    a.cancel(T0).expect("cancel");
                }
                Released => a.release(T0).expect("release"),
            }
            a
        };
        let now = T0 + 1;
        let not_pending = HandoverError::AuthorizationNotPending;
        let not_active = HandoverError::AuthorizationNotActive;
        use Op::*;
        let cases: Vec<(
            AuthorizationState,
            Op,
            Result<AuthorizationState, HandoverError>,
        )> = vec![
            (Pending, Approve, Ok(Approved)),
            (Pending, Reject, Ok(Rejected)),
            (Pending, Cancel, Err(not_active(Pending))),
            (Pending, Release, Ok(Released)),
            (Pending, Expire, Err(not_active(Pending))),
            (Approved, Approve, Err(not_pending(Approved))),
            (Approved, Reject, Err(not_pending(Approved))),
            (Approved, Cancel, Ok(Cancelled)),
            (Approved, Release, Ok(Released)),
            (Approved, Expire, Err(HandoverError::AuthorizationNotDue)),
            (Rejected, Approve, Err(not_pending(Rejected))),
            (Rejected, Reject, Err(not_pending(Rejected))),
            (Rejected, Cancel, Err(not_active(Rejected))),
            (Rejected, Release, Err(not_active(Rejected))),
            (Rejected, Expire, Err(not_active(Rejected))),
            (Expired, Approve, Err(not_pending(Expired))),
            (Expired, Cancel, Err(not_active(Expired))),
            (Expired, Release, Err(not_active(Expired))),
            (Expired, Expire, Err(not_active(Expired))),
            (Cancelled, Approve, Err(not_pending(Cancelled))),
            (Cancelled, Cancel, Err(not_active(Cancelled))),
            (Cancelled, Release, Err(not_active(Cancelled))),
            (Released, Approve, Err(not_pending(Released))),
            (Released, Reject, Err(not_pending(Released))),
            (Released, Cancel, Err(not_active(Released))),
            (Released, Release, Err(not_active(Released))),
        ];
        for (state, op, expected) in cases {
            let mut a = from(state);
            let before = a.clone();
            let result = match op {
                Approve => a.approve(now, None),
                Reject => a.reject(now),
                Cancel => a.cancel(now),
                Release => a.release(now),
                Expire => a.expire(now),
            };
            match expected {
                Ok(to) => {
                    assert_eq!(result, Ok(()), "{state:?} {op:?}");
                    assert_eq!(a.state, to, "{state:?} {op:?}");
                    assert_eq!(a.state_at(now), to, "{state:?} {op:?}");
                }
                Err(e) => {
                    assert_eq!(result, Err(e), "{state:?} {op:?}");
                    assert_eq!(a, before, "a refused transition changes nothing");
                }
            }
        }
    }

    /// R-10: transitions record their times; expiry is recorded at `expires_at`.
    #[test]
    fn transitions_record_times() {
        let mut a = pending(&[LiveView], GrantDuration::TwoHours);
        a.approve(T0 + 10, None).expect("approve");
        assert_eq!(a.decided_at, Some(T0 + 10));
        assert_eq!(a.granted_duration, Some(GrantDuration::TwoHours));
        assert_eq!(a.expires_at, Some(T0 + 10 + 2 * HOUR_MS));
        let mut b = a.clone();
        b.cancel(T0 + 20).expect("cancel");
        assert_eq!((b.state, b.ended_at), (Cancelled, Some(T0 + 20)));
        let mut c = a.clone();
        c.expire(T0 + 5 * HOUR_MS).expect("expire");
        assert_eq!((c.state, c.ended_at), (Expired, a.expires_at));
        let mut r = pending(&[LiveView], GrantDuration::TwoHours);
        r.reject(T0 + 3).expect("reject");
        assert_eq!(
            (r.decided_at, r.expires_at, r.ended_at),
            (Some(T0 + 3), None, None)
        );
    }

    /// R-10: the owner may shorten the duration, never lengthen it.
    #[test]
    fn approval_duration_table() {
        use GrantDuration::*;
        for requested in GrantDuration::ALL {
            for granted in GrantDuration::ALL {
                let mut a = pending(&[Playback], requested);
                let result = a.approve(T0, Some(granted));
                if granted <= requested {
                    assert_eq!(result, Ok(()), "{requested:?} → {granted:?}");
                    assert_eq!(a.granted_duration, Some(granted));
                    assert_eq!(a.expires_at, granted.ends_at(T0));
                } else {
                    assert_eq!(
                        result,
                        Err(HandoverError::LongerThanRequested {
                            requested,
                            asked: granted
                        })
                    );
                    assert_eq!(a.state, Pending);
                }
            }
        }
        let mut a = pending(&[Playback], Permanent);
        a.approve(T0, None).expect("approve");
        assert_eq!(a.expires_at, None);
        assert!(a.is_active_at(Millis::MAX));
    }

    /// R-10: expiry is exact — in force one millisecond before `expires_at`,
    /// expired at it; everything that asks follows.
    #[test]
    fn expiry_is_exact() {
        for d in GrantDuration::ALL {
            let a = approved(&[LiveView], d);
            let Some(end) = a.expires_at else {
                assert_eq!(d, GrantDuration::Permanent);
                continue;
            };
            assert_eq!(end, T0 + d.millis().expect("finite"));
            let table = [
                (T0, Approved, true),
                (end - 1, Approved, true),
                (end, Expired, false),
                (end + 1, Expired, false),
            ];
            for (now, state, covers) in table {
                assert_eq!(a.state_at(now), state, "{d:?} at {now}");
                assert_eq!(a.is_active_at(now), covers);
                assert_eq!(a.covers(LiveView, None, now), covers);
                let access = Access::at(sid(1), cid(1), [&a], now);
                assert_eq!(access.covers(LiveView, None), covers);
                assert_eq!(access.is_empty(), !covers);
                let mut c = a.clone();
                assert_eq!(c.cancel(now).is_ok(), covers);
                let mut e = a.clone();
                assert_eq!(e.expire(now).is_ok(), !covers);
            }
        }
    }

    /// R-10: an authorization covers its permissions, on its devices, while in force.
    #[test]
    fn covers_table() {
        let some = DeviceScope::only([did(1), did(2)]).expect("devices");
        let mut a = Authorization::pending(
            new_auth(
                1,
                request(&[LiveView, Playback], some, GrantDuration::OneHour),
            ),
            T0,
        );
        let (before, during, after) = (T0 - 1, T0 + 1, T0 + HOUR_MS);
        assert!(
            !a.covers(LiveView, Some(did(1)), before),
            "pending covers nothing"
        );
        a.approve(T0, None).expect("approve");
        let cases = [
            (LiveView, Some(did(1)), during, true),
            (Playback, Some(did(2)), during, true),
            (LiveView, None, during, true),
            (LiveView, Some(did(3)), during, false),
            (Configuration, Some(did(1)), during, false),
            (HealthMonitoring, None, during, false),
            (LiveView, Some(did(1)), after, false),
            (LiveView, None, after, false),
        ];
        for (p, device, now, expected) in cases {
            assert_eq!(a.covers(p, device, now), expected, "{p:?} {device:?} {now}");
        }
    }

    #[test]
    fn access_adds_up_grants_of_the_company_on_the_site() {
        let cams = DeviceScope::only([did(1)]).expect("devices");
        let mut live = Authorization::pending(
            new_auth(1, request(&[LiveView], cams, GrantDuration::OneHour)),
            T0,
        );
        live.approve(T0, None).expect("approve");
        let health = approved(&[HealthMonitoring], GrantDuration::Permanent);
        let mut foreign = Authorization::pending(
            new_auth(
                2,
                request(&[Configuration], DeviceScope::All, GrantDuration::Permanent),
            ),
            T0,
        );
        foreign.approve(T0, None).expect("approve");
        let mut elsewhere = approved(&[Playback], GrantDuration::Permanent);
        elsewhere.site_id = sid(2);
        let waiting = pending(&[SiteInfo], GrantDuration::Permanent);
        let all = [live, health, foreign, elsewhere, waiting];

        let now = Access::at(sid(1), cid(1), &all, T0 + 1);
        assert_eq!(
            now.permissions(),
            PermissionSet::of(&[LiveView, HealthMonitoring])
        );
        assert!(now.covers(LiveView, Some(did(1))));
        assert!(!now.covers(LiveView, Some(did(2))));
        assert!(now.covers(HealthMonitoring, Some(did(2))));
        assert!(!now.covers(Configuration, None), "another company's grant");
        assert!(!now.covers(Playback, None), "another site's grant");
        assert!(!now.covers(SiteInfo, None), "a pending application");
        assert_eq!(now.devices_for(HealthMonitoring), Some(DeviceScope::All));
        assert_eq!(now.devices_for(LiveView), DeviceScope::only([did(1)]).ok());
        assert_eq!(now.devices_for(Playback), None);
        assert_eq!(now.ends_first(), Some(T0 + HOUR_MS));

        let later = Access::at(sid(1), cid(1), &all, T0 + HOUR_MS);
        assert_eq!(later.permissions(), PermissionSet::of(&[HealthMonitoring]));
        assert_eq!(later.ends_first(), None);
        assert!(Access::none().is_empty());
        assert_eq!(Access::at(sid(1), cid(3), &all, T0), Access::none());
    }

    fn any_duration() -> impl Strategy<Value = GrantDuration> {
        proptest::sample::select(GrantDuration::ALL.to_vec())
    }

    fn any_permissions() -> impl Strategy<Value = PermissionSet> {
        (1u8..32).prop_map(|bits| {
            Permission::ALL
                .into_iter()
                .filter(|p| bits & (1 << (*p as u8)) != 0)
                .collect()
        })
    }

    proptest! {
        /// An approval never outlasts the request, and coverage by the
        /// authorization and by the access built from it agree at every instant.
        #[test]
        fn approval_and_coverage_agree(
            requested in any_duration(),
            granted in proptest::option::of(any_duration()),
            perms in any_permissions(),
            approved_at in 0i64..1_000_000_000,
            offset in -10i64..(30 * HOUR_MS),
            device in 0u128..4,
        ) {
            let mut a = Authorization::pending(
                new_auth(1, request(&[SiteInfo], DeviceScope::All, requested)),
                0,
            );
            a.permissions = perms;
            a.devices = DeviceScope::only([did(1), did(2)]).expect("devices");
            match a.approve(approved_at, granted) {
                Ok(()) => {
                    let g = a.granted_duration.expect("granted");
                    prop_assert!(g <= requested);
                    prop_assert_eq!(a.expires_at, g.ends_at(approved_at));
                }
                Err(e) => {
                    prop_assert!(granted.is_some_and(|g| g > requested));
                    prop_assert!(!e.is_conflict());
                    return Ok(());
                }
            }
            let now = approved_at + offset;
            let access = Access::at(sid(1), cid(1), [&a], now);
            for p in Permission::ALL {
                let d = Some(did(device));
                prop_assert_eq!(a.covers(p, d, now), access.covers(p, d));
                prop_assert_eq!(
                    a.covers(p, d, now),
                    perms.contains(p)
                        && (1..=2).contains(&device)
                        && a.expires_at.is_none_or(|end| now < end)
                );
            }
        }
    }
}
