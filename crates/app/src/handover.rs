//! Hand-over (R-8 to R-12, R-16, R-35): inviting an end user to own a site and the
//! answer, site authorizations after hand-over, and the change of installation
//! company.
//!
//! Every use case has the one shape: authorize (the core policy, with the site's
//! facts at `now`) → load (in one transaction, the site's row locked on PostgreSQL
//! so hand-over steps on one site run one after the other) → decide (the
//! transitions of `siteward_core::handover`, which name every refusal) → persist
//! with an audit entry that carries the site, so the owner reads what the installer
//! did (R-37) → commit → publish an [`Event::HandoverChanged`] for the end user's
//! app and the company's portal.
//!
//! Stored states may lag behind the clock: an approved authorization past its end
//! or a pending invitation past its expiry is read with `state_at(now)`, and
//! written down as expired lazily, by the next change that loads it.

use crate::audit::Record;
use crate::events::Event;
use crate::sites::{facts_at, load_site};
use crate::{App, AppError, Principal, Result, new_uuid};
use serde::{Deserialize, Deserializer, Serialize};
use siteward_core::handover::{
    AppVersion, Authorization, AuthorizationRequest, AuthorizationRequestInput, AuthorizationState,
    Claim, ClaimFacts, EndUserFacts, GrantDuration, HandoverError, Invitation, InviteFacts,
    NewAuthorization, NewClaim, NewInvitation, Permission,
};
use siteward_core::policy::{Action, authorize, owned_sites};
use siteward_core::site_code::{self, SITE_CODE_LEN};
use siteward_core::validate::{self, FieldError};
use siteward_core::{
    AuthorizationId, ClaimId, CompanyId, DeviceId, InvitationId, SiteId, SiteState, UserId,
    UserKind,
};
use siteward_store::{Handle, Page, Site};
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;

/// A hand-over step the site's state does not allow (409: it may succeed later), or
/// a request refused as such (422: another end user, region or duration is
/// needed); the core's stable code either way.
impl From<HandoverError> for AppError {
    fn from(e: HandoverError) -> Self {
        let (code, message) = (e.code(), e.to_string());
        if e.is_conflict() {
            AppError::Conflict { code, message }
        } else {
            AppError::Unprocessable { code, message }
        }
    }
}

// ---------------------------------------------------------------- input

/// What an installer applies for (R-10), alone or inside an invitation.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationInput {
    /// Any of `site_info`, `configuration`, `live_view`, `playback`,
    /// `health_monitoring`; at least one.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Only these devices of the site; absent or null for all of them.
    #[serde(default)]
    pub device_ids: Option<Vec<String>>,
    /// 1, 2, 4, 8 or 24 hours once approved; absent or null for permanent.
    #[serde(default)]
    pub duration_hours: Option<i64>,
    /// A word to the owner (at most 500 characters).
    #[serde(default)]
    pub remark: Option<String>,
}

impl AuthorizationInput {
    /// Checks every field by the core's rules; errors name the fields, prefixed
    /// with `prefix` (`authorization.` inside an invitation).
    fn check(self, prefix: &str) -> Result<AuthorizationRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut permissions = Vec::new();
        for name in &self.permissions {
            match name.parse::<Permission>() {
                Ok(p) => permissions.push(p),
                Err(_) => errors.push(FieldError::new(
                    format!("{prefix}permissions"),
                    format!(
                        "{name:?} is not a permission; choose from site_info, configuration, live_view, playback, health_monitoring"
                    ),
                )),
            }
        }
        let device_ids = match self.device_ids {
            None => None,
            Some(raw) => {
                let mut ids = Vec::new();
                for r in raw {
                    match r.parse::<DeviceId>() {
                        Ok(id) => ids.push(id),
                        Err(_) => errors.push(FieldError::new(
                            format!("{prefix}device_ids"),
                            format!("{r:?} is not a device id"),
                        )),
                    }
                }
                Some(ids)
            }
        };
        let checked = AuthorizationRequestInput {
            permissions,
            device_ids,
            duration_hours: self.duration_hours,
            remark: self.remark,
        }
        .check();
        match checked {
            Ok(r) if errors.is_empty() => Ok(r),
            Ok(_) => Err(errors),
            Err(more) => {
                // Unreadable names and ids were left out above; "choose at least
                // one" for the same field would only repeat that.
                let reported: BTreeSet<String> = errors.iter().map(|e| e.field.clone()).collect();
                errors.extend(
                    more.into_iter()
                        .map(|e| FieldError::new(format!("{prefix}{}", e.field), e.message))
                        .filter(|e| !reported.contains(&e.field)),
                );
                Err(errors)
            }
        }
    }
}

/// `POST /api/v1/sites/{id}/invitation`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    /// The e-mail address of the customer's end-user account.
    pub end_user_email: String,
    /// The authorization the installer keeps with the hand-over, if the customer
    /// agrees (R-10); accepting the invitation approves it unless the customer
    /// says otherwise.
    #[serde(default)]
    pub authorization: Option<AuthorizationInput>,
}

/// Reads a field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// `POST /api/v1/authorization-requests/{id}/approve` (the body is optional).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveInput {
    /// Grant it for a shorter time than asked: 1, 2, 4, 8 or 24 hours (null:
    /// permanent, when that was asked). Absent: as asked.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub duration_hours: Option<Option<i64>>,
}

impl ApproveInput {
    fn duration(&self, field: &str) -> Result<Option<GrantDuration>> {
        self.duration_hours
            .map(GrantDuration::from_hours)
            .transpose()
            .map_err(|e| AppError::invalid(field, e.field_error().message))
    }
}

/// `POST /api/v1/invitations/{id}/accept` (the body is optional).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    /// Whether accepting also approves the authorization the invitation asks for
    /// (default true). With false it waits among the authorization requests.
    #[serde(default = "yes")]
    pub approve_authorization: bool,
    /// Approve it for a shorter time than asked (see the approve endpoint).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub duration_hours: Option<Option<i64>>,
}

fn yes() -> bool {
    true
}

impl Default for AcceptInput {
    fn default() -> Self {
        Self {
            approve_authorization: true,
            duration_hours: None,
        }
    }
}

/// `POST /api/v1/sites/claim`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    /// The site's Site ID, as the owner reads it out (case, spaces and dashes do
    /// not matter).
    pub site_code: String,
}

// ---------------------------------------------------------------- views

/// A site's owner.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnerView {
    /// The end user's account id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// What an application asks for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    /// Permission names.
    pub permissions: Vec<String>,
    /// The devices covered; null: every device of the site.
    pub device_ids: Option<Vec<String>>,
    /// Hours asked for; null: permanent.
    pub duration_hours: Option<i64>,
    /// The installer's word to the owner.
    pub remark: Option<String>,
}

impl From<&AuthorizationRequest> for RequestView {
    fn from(r: &AuthorizationRequest) -> Self {
        Self {
            permissions: names(r.permissions.iter()),
            device_ids: device_ids(r.devices.ids()),
            duration_hours: r.duration.hours(),
            remark: r.remark.clone(),
        }
    }
}

/// The e-mail that tells an end user of an invitation (R-8): who invites, to which
/// site, what the installer would keep, until when, and where to answer.
fn invitation_email(v: &InvitationView, site_name: &str, link: &str) -> String {
    let mut body = format!(
        "{} of {} invites you to become the owner of the site {site_name} (Site ID {}).\n",
        v.invited_by, v.company_name, v.site_code
    );
    if let Some(a) = &v.authorization {
        let how_long = a
            .duration_hours
            .map_or_else(|| "permanently".to_owned(), |h| format!("for {h} hours"));
        body.push_str(&format!(
            "\nIf you accept, {} keeps these rights on the site {how_long}: {}.\n",
            v.company_name,
            a.permissions.join(", ")
        ));
        if let Some(r) = &a.remark {
            body.push_str(&format!("Their note: {r}\n"));
        }
    }
    body.push_str(&format!(
        "\nOpen the Siteward app{link} to accept or decline before {}.\n",
        v.expires_at
    ));
    body
}

fn names(ps: impl Iterator<Item = Permission>) -> Vec<String> {
    ps.map(|p| p.as_str().to_owned()).collect()
}

fn device_ids(ids: Option<&BTreeSet<DeviceId>>) -> Option<Vec<String>> {
    ids.map(|ids| ids.iter().map(ToString::to_string).collect())
}

/// A site's latest owner invitation, on the site's card (installers).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationSummary {
    /// Invitation id.
    pub id: String,
    /// `pending`, `accepted`, `declined`, `withdrawn` or `expired`, as of now.
    pub state: String,
    /// The address invited.
    pub end_user_email: String,
    /// When sent, RFC 3339.
    pub created_at: String,
    /// When it expires unanswered, RFC 3339.
    pub expires_at: String,
    /// When it was answered or withdrawn (expired: its expiry), RFC 3339.
    pub closed_at: Option<String>,
}

impl InvitationSummary {
    pub(crate) fn of(i: &Invitation, now: i64) -> Self {
        let state = i.state_at(now);
        Self {
            id: i.id.to_string(),
            state: state.as_str().to_owned(),
            end_user_email: i.end_user_email.clone(),
            created_at: crate::rfc3339(i.created_at),
            expires_at: crate::rfc3339(i.expires_at),
            closed_at: i
                .closed_at
                .or((state != i.state).then_some(i.expires_at))
                .map(crate::rfc3339),
        }
    }
}

/// A company's authorization on the site's card (installers).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorizationSummary {
    /// Authorization id.
    pub id: String,
    /// `pending`, `approved`, `rejected`, `expired`, `cancelled` or `released`, as
    /// of now.
    pub state: String,
    /// Permission names.
    pub permissions: Vec<String>,
    /// When an approved authorization runs out; null: permanent or not approved.
    pub expires_at: Option<String>,
}

impl AuthorizationSummary {
    pub(crate) fn of(a: &Authorization, now: i64) -> Self {
        Self {
            id: a.id.to_string(),
            state: a.state_at(now).as_str().to_owned(),
            permissions: names(a.permissions.iter()),
            expires_at: a.expires_at.map(crate::rfc3339),
        }
    }
}

/// An owner invitation (R-8, R-9).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationView {
    /// Invitation id.
    pub id: String,
    /// `pending`, `accepted`, `declined`, `withdrawn` or `expired`, as of now.
    pub state: String,
    /// The site.
    pub site_id: String,
    /// The site's name.
    pub site_name: String,
    /// The site's Site ID.
    pub site_code: String,
    /// The site's address.
    pub site_address: Option<String>,
    /// The installation company inviting.
    pub company_id: String,
    /// Its name.
    pub company_name: String,
    /// Who invited, by name.
    pub invited_by: String,
    /// The address invited.
    pub end_user_email: String,
    /// The authorization the installer keeps if the invitation is accepted (R-10).
    pub authorization: Option<RequestView>,
    /// When sent, RFC 3339.
    pub created_at: String,
    /// When it expires unanswered, RFC 3339.
    pub expires_at: String,
    /// When it was answered or withdrawn (expired: its expiry), RFC 3339.
    pub closed_at: Option<String>,
}

/// `GET /api/v1/me/invitations`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationList {
    /// Invitations, newest first; empty while the app is too old to handle them.
    pub items: Vec<InvitationView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
    /// Whether this client handles invitations (R-8): below the minimum version
    /// it is told to update, and its invitations wait for it.
    pub client: crate::ClientView,
}

/// A site authorization or an application for one (R-10).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorizationView {
    /// Authorization id.
    pub id: String,
    /// `pending`, `approved`, `rejected`, `expired`, `cancelled` or `released`, as
    /// of now: an approved authorization is expired from the exact moment it runs
    /// out.
    pub state: String,
    /// The site.
    pub site_id: String,
    /// The site's name.
    pub site_name: String,
    /// The installation company.
    pub company_id: String,
    /// Its name.
    pub company_name: String,
    /// The employee who applied, by name.
    pub requested_by: String,
    /// Permission names.
    pub permissions: Vec<String>,
    /// The devices covered; null: every device of the site.
    pub device_ids: Option<Vec<String>>,
    /// Hours asked for; null: permanent.
    pub duration_hours: Option<i64>,
    /// Hours granted; null while not granted, or when granted for good (then
    /// `expires_at` is null too).
    pub granted_hours: Option<i64>,
    /// The installer's word to the owner.
    pub remark: Option<String>,
    /// When applied, RFC 3339.
    pub requested_at: String,
    /// When the owner answered, RFC 3339.
    pub decided_at: Option<String>,
    /// When an approved authorization runs out, RFC 3339; null: permanent or not
    /// approved.
    pub expires_at: Option<String>,
    /// When it ended (cancelled, released or expired), RFC 3339.
    pub ended_at: Option<String>,
}

/// A company's claim of a handed-over site (R-11).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimView {
    /// Claim id.
    pub id: String,
    /// `pending_confirmation`, `confirmed` or `declined`.
    pub state: String,
    /// The site.
    pub site_id: String,
    /// The site's Site ID.
    pub site_code: String,
    /// The site's name.
    pub site_name: String,
    /// The company claiming.
    pub company_id: String,
    /// Its name.
    pub company_name: String,
    /// Its Installer Admin who claimed, by name.
    pub claimed_by: String,
    /// When claimed, RFC 3339.
    pub created_at: String,
    /// When the owner answered, RFC 3339.
    pub decided_at: Option<String>,
}

// ---------------------------------------------------------------- helpers

/// Names of the sites, companies and people a list of views mentions.
#[derive(Default)]
struct Names {
    sites: HashMap<SiteId, Site>,
    companies: HashMap<CompanyId, String>,
    people: HashMap<UserId, String>,
}

impl Names {
    async fn load(
        h: &mut Handle,
        sites: impl IntoIterator<Item = SiteId>,
        companies: impl IntoIterator<Item = CompanyId>,
        people: impl IntoIterator<Item = UserId>,
    ) -> Result<Self> {
        let mut n = Names::default();
        for id in sites.into_iter().collect::<BTreeSet<_>>() {
            if let Some(s) = h.site(id).await? {
                n.sites.insert(id, s);
            }
        }
        let companies: Vec<CompanyId> = companies
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        n.companies = h.company_names(&companies).await?;
        let people: Vec<UserId> = people
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        n.people = h.user_names(&people).await?;
        Ok(n)
    }

    fn site(&self, id: SiteId) -> Option<&Site> {
        self.sites.get(&id)
    }

    fn company(&self, id: CompanyId) -> String {
        self.companies.get(&id).cloned().unwrap_or_default()
    }

    fn person(&self, id: UserId) -> String {
        self.people.get(&id).cloned().unwrap_or_default()
    }

    fn invitation(&self, i: &Invitation, now: i64) -> InvitationView {
        let site = self.site(i.site_id);
        let summary = InvitationSummary::of(i, now);
        InvitationView {
            id: summary.id,
            state: summary.state,
            site_id: i.site_id.to_string(),
            site_name: site.map(|s| s.name.clone()).unwrap_or_default(),
            site_code: site.map(|s| s.site_code.clone()).unwrap_or_default(),
            site_address: site.and_then(|s| s.address.clone()),
            company_id: i.company_id.to_string(),
            company_name: self.company(i.company_id),
            invited_by: self.person(i.invited_by),
            end_user_email: i.end_user_email.clone(),
            authorization: i.authorization.as_ref().map(RequestView::from),
            created_at: summary.created_at,
            expires_at: summary.expires_at,
            closed_at: summary.closed_at,
        }
    }

    fn authorization(&self, a: &Authorization, now: i64) -> AuthorizationView {
        AuthorizationView {
            id: a.id.to_string(),
            state: a.state_at(now).as_str().to_owned(),
            site_id: a.site_id.to_string(),
            site_name: self
                .site(a.site_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            company_id: a.company_id.to_string(),
            company_name: self.company(a.company_id),
            requested_by: self.person(a.requested_by),
            permissions: names(a.permissions.iter()),
            device_ids: device_ids(a.devices.ids()),
            duration_hours: a.requested_duration.hours(),
            granted_hours: a.granted_duration.and_then(GrantDuration::hours),
            remark: a.remark.clone(),
            requested_at: crate::rfc3339(a.requested_at),
            decided_at: a.decided_at.map(crate::rfc3339),
            // An authorization that ran out ended then, written down or not.
            ended_at: a
                .ended_at
                .or(a
                    .expires_at
                    .filter(|_| a.state_at(now) == AuthorizationState::Expired))
                .map(crate::rfc3339),
            expires_at: a.expires_at.map(crate::rfc3339),
        }
    }

    fn claim(&self, c: &Claim) -> ClaimView {
        let site = self.site(c.site_id);
        ClaimView {
            id: c.id.to_string(),
            state: c.state.as_str().to_owned(),
            site_id: c.site_id.to_string(),
            site_code: site.map(|s| s.site_code.clone()).unwrap_or_default(),
            site_name: site.map(|s| s.name.clone()).unwrap_or_default(),
            company_id: c.company_id.to_string(),
            company_name: self.company(c.company_id),
            claimed_by: self.person(c.claimed_by),
            created_at: crate::rfc3339(c.created_at),
            decided_at: c.decided_at.map(crate::rfc3339),
        }
    }
}

async fn invitation_views(
    h: &mut Handle,
    items: &[Invitation],
    now: i64,
) -> Result<Vec<InvitationView>> {
    let n = Names::load(
        h,
        items.iter().map(|i| i.site_id),
        items.iter().map(|i| i.company_id),
        items.iter().map(|i| i.invited_by),
    )
    .await?;
    Ok(items.iter().map(|i| n.invitation(i, now)).collect())
}

async fn authorization_views(
    h: &mut Handle,
    items: &[Authorization],
    now: i64,
) -> Result<Vec<AuthorizationView>> {
    let n = Names::load(
        h,
        items.iter().map(|a| a.site_id),
        items.iter().map(|a| a.company_id),
        items.iter().map(|a| a.requested_by),
    )
    .await?;
    Ok(items.iter().map(|a| n.authorization(a, now)).collect())
}

async fn claim_views(h: &mut Handle, items: &[Claim]) -> Result<Vec<ClaimView>> {
    let n = Names::load(
        h,
        items.iter().map(|c| c.site_id),
        items.iter().map(|c| c.company_id),
        items.iter().map(|c| c.claimed_by),
    )
    .await?;
    Ok(items.iter().map(|c| n.claim(c)).collect())
}

fn one<T>(mut v: Vec<T>) -> Result<T> {
    v.pop()
        .ok_or_else(|| AppError::Internal("a view went missing".into()))
}

/// R-10: the devices an application names must be the site's.
async fn check_devices(
    h: &mut Handle,
    site: SiteId,
    request: &AuthorizationRequest,
    field: &str,
) -> Result<()> {
    let Some(ids) = request.devices.ids() else {
        return Ok(());
    };
    let asked: Vec<DeviceId> = ids.iter().copied().collect();
    let found: BTreeSet<DeviceId> = h.devices_of_site(site, &asked).await?.into_iter().collect();
    let missing: Vec<String> = asked
        .iter()
        .filter(|d| !found.contains(d))
        .map(ToString::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            format!("not devices of this site: {}", missing.join(", ")),
        ))
    }
}

/// What the owner is told when there is nothing in force to end.
fn nothing_in_force(latest: Option<&Authorization>, now: i64) -> AppError {
    match latest {
        Some(a) => HandoverError::AuthorizationNotActive(a.state_at(now)).into(),
        None => AppError::Conflict {
            code: "handover.authorization_not_active",
            message: "no installer holds an authorization on this site".into(),
        },
    }
}

/// The app version of the client behind `p` (R-8): the one its session signed in
/// with, or else the one the account last signed in with.
fn client_version(p: &Principal) -> Option<AppVersion> {
    p.app_version.or(p.user.app_version)
}

fn request_detail(r: &AuthorizationRequest) -> serde_json::Value {
    serde_json::to_value(RequestView::from(r)).unwrap_or_default()
}

fn grant_words(a: &Authorization) -> String {
    let perms: Vec<&str> = a.permissions.iter().map(Permission::label).collect();
    let how_long = match a.granted_duration.unwrap_or(a.requested_duration) {
        GrantDuration::Permanent => "for good".to_owned(),
        d => format!("for {}", d.label()),
    };
    format!("{} {how_long}", perms.join(", "))
}

impl App {
    fn handover_event(
        &self,
        company_id: Option<CompanyId>,
        site_id: SiteId,
        end_user_id: Option<UserId>,
        what: &str,
        id: String,
        now: i64,
    ) {
        self.inner.events.publish(Event::HandoverChanged {
            company_id,
            site_id,
            end_user_id,
            what: what.to_owned(),
            id,
            at: crate::rfc3339(now),
        });
    }

    /// R-8: answering invitations needs an app that handles them; older clients are
    /// told to update, and the invitation waits.
    fn require_current_app(&self, p: &Principal) -> Result<()> {
        let version = client_version(p);
        let minimum = self.inner.config.handover.minimum_app_version;
        if AppVersion::handles_invitations(version.as_ref(), &minimum) {
            Ok(())
        } else {
            Err(HandoverError::AppTooOld { version, minimum }.into())
        }
    }

    // ------------------------------------------------------------ invitations

    /// R-8: invites the end user with this e-mail address to own the site, perhaps
    /// asking in the same step for the authorization the installer keeps (R-10).
    /// Refused with the core's reason — the site has an owner or a waiting
    /// invitation, no end-user account has the address, the account is in another
    /// region, or its app is too old — and then nothing is written. The site is
    /// `owner_invited` from now on: only the owner will delete its devices (R-16).
    pub async fn invite_owner(
        &self,
        p: &Principal,
        site_id: SiteId,
        input: InvitationInput,
    ) -> Result<InvitationView> {
        let mut errors = Vec::new();
        let email = validate::email("end_user_email", &input.end_user_email)
            .map_err(|e| errors.push(e))
            .ok();
        let request = match input.authorization.map(|a| a.check("authorization.")) {
            None => None,
            Some(Ok(r)) => Some(r),
            Some(Err(e)) => {
                errors.extend(e);
                None
            }
        };
        let Some(email) = email.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        h.lock_site(site_id).await?;
        let mut site = load_site(&mut h, site_id).await?;
        let mut latest = h.latest_invitation(site.id).await?;
        let facts = facts_at(&site, latest.as_ref(), &[], now);
        authorize(&p.actor, Action::InviteOwner(&facts)).map_err(AppError::refused("site"))?;
        let company_id = facts.company_id.ok_or(AppError::NotFound("site"))?;
        if let Some(r) = &request {
            check_devices(&mut h, site.id, r, "authorization.device_ids").await?;
        }
        // One that ran out unanswered is written down as such (rolled back with the
        // rest if the new one is refused).
        if let Some(inv) = latest.as_mut()
            && inv.expire(now).is_ok()
        {
            h.update_invitation(inv).await?;
        }
        // Only an active end user's account can be invited; one without a region
        // cannot match any site's.
        let invitee = h
            .user_by_email(&email)
            .await?
            .filter(|u| u.kind == UserKind::EndUser && u.active)
            .and_then(|u| {
                Some(EndUserFacts {
                    user_id: u.id,
                    region: u.region?,
                    app_version: u.app_version,
                })
            });
        let invitation = Invitation::create(
            NewInvitation {
                id: InvitationId(new_uuid()),
                site_id: site.id,
                company_id,
                invited_by: p.user.id,
                end_user_email: email,
                authorization: request,
            },
            &InviteFacts {
                site_state: facts.state,
                site_region: &site.region,
                owner_id: site.owner_id,
                latest_invitation: latest.as_ref(),
                end_user: invitee.as_ref(),
            },
            &self.inner.config.handover,
            now,
        )?;
        h.insert_invitation(&invitation).await?;
        site.state = SiteState::OwnerInvited;
        site.updated_at = now;
        h.update_site(&site).await?;
        Record {
            company_id: Some(company_id),
            site_id: Some(site.id),
            action: "site.invite_owner",
            summary: format!(
                "{} invited {} to own the site",
                p.user.name, invitation.end_user_email
            ),
            detail: serde_json::json!({
                "invitation_id": invitation.id,
                "end_user_id": invitation.end_user_id,
                "end_user_email": invitation.end_user_email,
                "expires_at": crate::rfc3339(invitation.expires_at),
                "authorization": invitation.authorization.as_ref().map(request_detail),
            }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        let view = one(invitation_views(&mut h, std::slice::from_ref(&invitation), now).await?)?;
        self.queue_email(
            &mut h,
            company_id,
            &invitation.end_user_email,
            &format!(
                "{} invites you to own the site {}",
                view.company_name, site.name
            ),
            &invitation_email(&view, &site.name, &self.link("/app/invitations")),
            now,
        )
        .await?;
        h.commit().await?;
        self.handover_event(
            Some(company_id),
            site.id,
            Some(invitation.end_user_id),
            "invitation.sent",
            invitation.id.to_string(),
            now,
        );
        Ok(view)
    }

    /// R-8: withdraws the site's unanswered invitation; the site is managed again.
    pub async fn withdraw_invitation(&self, p: &Principal, site_id: SiteId) -> Result<()> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        h.lock_site(site_id).await?;
        let mut site = load_site(&mut h, site_id).await?;
        let latest = h.latest_invitation(site.id).await?;
        let facts = facts_at(&site, latest.as_ref(), &[], now);
        authorize(&p.actor, Action::WithdrawInvitation(&facts))
            .map_err(AppError::refused("site"))?;
        let mut inv = latest.ok_or(AppError::NotFound("invitation"))?;
        inv.withdraw(now)?;
        h.update_invitation(&inv).await?;
        site.state = inv.site_state_at(now);
        site.updated_at = now;
        h.update_site(&site).await?;
        Record {
            company_id: Some(inv.company_id),
            site_id: Some(site.id),
            action: "site.withdraw_invitation",
            summary: format!(
                "{} withdrew the invitation of {}",
                p.user.name, inv.end_user_email
            ),
            detail: serde_json::json!({ "invitation_id": inv.id }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        self.handover_event(
            Some(inv.company_id),
            site.id,
            Some(inv.end_user_id),
            "invitation.withdrawn",
            inv.id.to_string(),
            now,
        );
        Ok(())
    }

    /// R-8, R-35: the invitations sent to the signed-in end user, newest first —
    /// none while the app signed in with is too old to handle them: it is told to
    /// update, and they wait. Other people have none.
    pub async fn my_invitations(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<InvitationList> {
        let now = self.now();
        let version = client_version(p);
        let client = self.client_status(version);
        let minimum = self.inner.config.handover.minimum_app_version;
        let Some(me) = owned_sites(&p.actor)
            .filter(|_| AppVersion::handles_invitations(version.as_ref(), &minimum))
        else {
            return Ok(InvitationList {
                items: Vec::new(),
                next_cursor: None,
                client,
            });
        };
        let mut h = self.inner.store.read().await?;
        let page = h.invitations_of(me, cursor, limit).await?;
        Ok(InvitationList {
            items: invitation_views(&mut h, &page.items, now).await?,
            next_cursor: page.next_cursor,
            client,
        })
    }

    /// Loads an invitation for its invitee to answer, the site locked.
    async fn invitation_to_answer(
        &self,
        h: &mut Handle,
        p: &Principal,
        id: InvitationId,
    ) -> Result<(Invitation, Site)> {
        let site_id = h
            .invitation(id)
            .await?
            .ok_or(AppError::NotFound("invitation"))?
            .site_id;
        h.lock_site(site_id).await?;
        let inv = h
            .invitation(id)
            .await?
            .ok_or(AppError::NotFound("invitation"))?;
        authorize(
            &p.actor,
            Action::AnswerInvitation {
                invitee: inv.end_user_id,
            },
        )
        .map_err(AppError::refused("invitation"))?;
        self.require_current_app(p)?;
        let site = load_site(h, inv.site_id).await?;
        Ok((inv, site))
    }

    /// R-9: the invitee accepts: the site is handed over and the end user owns it.
    ///
    /// An authorization the invitation asked for is **approved** at this moment
    /// (for the duration asked, or `duration_hours` if shorter): the end user saw
    /// it in the invitation and agreed to it by accepting, and the installer's
    /// maintenance rights must not lapse between hand-over and a second answer.
    /// With `approve_authorization: false` it becomes a pending application the
    /// owner answers later.
    pub async fn accept_invitation(
        &self,
        p: &Principal,
        id: InvitationId,
        input: AcceptInput,
    ) -> Result<InvitationView> {
        let duration = ApproveInput {
            duration_hours: input.duration_hours,
        }
        .duration("duration_hours")?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (mut inv, mut site) = self.invitation_to_answer(&mut h, p, id).await?;
        inv.accept(now)?;
        h.update_invitation(&inv).await?;
        site.state = SiteState::HandedOver;
        site.owner_id = Some(inv.end_user_id);
        site.updated_at = now;
        h.update_site(&site).await?;
        Record {
            company_id: Some(inv.company_id),
            site_id: Some(site.id),
            action: "site.handed_over",
            summary: format!(
                "{} accepted the invitation and owns the site now",
                p.user.name
            ),
            detail: serde_json::json!({ "invitation_id": inv.id, "owner_id": inv.end_user_id }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        let mut carried = inv.carried_authorization(AuthorizationId(new_uuid()));
        if let Some(a) = carried.as_mut() {
            if input.approve_authorization {
                a.approve(now, duration)?;
            }
            h.insert_authorization(a).await?;
            let company = h
                .company_names(&[a.company_id])
                .await?
                .remove(&a.company_id)
                .unwrap_or_default();
            let (action, summary) = if a.state == AuthorizationState::Approved {
                (
                    "authorization.approve",
                    format!("{} authorized {company}: {}", p.user.name, grant_words(a)),
                )
            } else {
                (
                    "authorization.request",
                    format!("{company} asks for an authorization: {}", grant_words(a)),
                )
            };
            Record {
                company_id: Some(a.company_id),
                site_id: Some(site.id),
                action,
                summary,
                detail: serde_json::json!({ "authorization_id": a.id, "invitation_id": inv.id, "request": request_detail(&a.request()) }),
                by: Some(p),
            }
            .write(&mut h, now)
            .await?;
            if a.state == AuthorizationState::Approved
                && a.permissions.contains(Permission::HealthMonitoring)
            {
                h.make_site_due(site.id, now).await?;
            }
        }
        let view = one(invitation_views(&mut h, std::slice::from_ref(&inv), now).await?)?;
        h.commit().await?;
        self.handover_event(
            Some(inv.company_id),
            site.id,
            Some(inv.end_user_id),
            "invitation.accepted",
            inv.id.to_string(),
            now,
        );
        if let Some(a) = carried {
            let what = if a.state == AuthorizationState::Approved {
                "authorization.approved"
            } else {
                "authorization.requested"
            };
            self.handover_event(
                Some(a.company_id),
                site.id,
                Some(inv.end_user_id),
                what,
                a.id.to_string(),
                now,
            );
            self.inner.wake.notify_one();
        }
        Ok(view)
    }

    /// R-9: the invitee declines; the site stays with the installer, who sees the
    /// declined invitation on the site.
    pub async fn decline_invitation(
        &self,
        p: &Principal,
        id: InvitationId,
    ) -> Result<InvitationView> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (mut inv, mut site) = self.invitation_to_answer(&mut h, p, id).await?;
        inv.decline(now)?;
        h.update_invitation(&inv).await?;
        site.state = inv.site_state_at(now);
        site.updated_at = now;
        h.update_site(&site).await?;
        Record {
            company_id: Some(inv.company_id),
            site_id: Some(site.id),
            action: "site.decline_invitation",
            summary: format!("{} declined to own the site", p.user.name),
            detail: serde_json::json!({ "invitation_id": inv.id }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        let view = one(invitation_views(&mut h, std::slice::from_ref(&inv), now).await?)?;
        h.commit().await?;
        self.handover_event(
            Some(inv.company_id),
            site.id,
            Some(inv.end_user_id),
            "invitation.declined",
            inv.id.to_string(),
            now,
        );
        Ok(view)
    }

    // ------------------------------------------------------------ authorizations

    /// Loads a site for a hand-over step: locked, with its latest invitation and its
    /// authorizations, and its facts at `now`.
    async fn site_for_step(
        &self,
        h: &mut Handle,
        site_id: SiteId,
        now: i64,
    ) -> Result<(Site, Vec<Authorization>, siteward_core::policy::SiteFacts)> {
        h.lock_site(site_id).await?;
        let site = load_site(h, site_id).await?;
        let latest = match site.state {
            SiteState::OwnerInvited => h.latest_invitation(site.id).await?,
            _ => None,
        };
        let auths = h.site_authorizations(site.id).await?;
        let facts = facts_at(&site, latest.as_ref(), &auths, now);
        Ok((site, auths, facts))
    }

    /// R-10: the installer applies to the owner of a handed-over site for
    /// permissions, on all or chosen devices, for a while. One application waits
    /// at a time.
    pub async fn apply_authorization(
        &self,
        p: &Principal,
        site_id: SiteId,
        input: AuthorizationInput,
    ) -> Result<AuthorizationView> {
        let request = input.check("").map_err(AppError::Invalid)?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (site, auths, facts) = self.site_for_step(&mut h, site_id, now).await?;
        authorize(&p.actor, Action::ApplyAuthorization(&facts))
            .map_err(AppError::refused("site"))?;
        let company_id = facts.company_id.ok_or(AppError::NotFound("site"))?;
        check_devices(&mut h, site.id, &request, "device_ids").await?;
        let a = Authorization::apply(
            NewAuthorization {
                id: AuthorizationId(new_uuid()),
                site_id: site.id,
                company_id,
                requested_by: p.user.id,
                request,
            },
            facts.state,
            &auths,
            now,
        )?;
        h.insert_authorization(&a).await?;
        Record {
            company_id: Some(company_id),
            site_id: Some(site.id),
            action: "authorization.request",
            summary: format!(
                "{} applied for an authorization: {}",
                p.user.name,
                grant_words(&a)
            ),
            detail: serde_json::json!({ "authorization_id": a.id, "request": request_detail(&a.request()) }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        let view = one(authorization_views(&mut h, std::slice::from_ref(&a), now).await?)?;
        h.commit().await?;
        self.handover_event(
            Some(company_id),
            site.id,
            site.owner_id,
            "authorization.requested",
            a.id.to_string(),
            now,
        );
        Ok(view)
    }

    /// R-10, R-35: the authorizations and applications on the sites the signed-in
    /// end user owns, newest first, with their state now. Other people have none.
    pub async fn my_authorization_requests(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuthorizationView>> {
        let Some(me) = owned_sites(&p.actor) else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let now = self.now();
        let mut h = self.inner.store.read().await?;
        let page = h.authorizations_of_owner(me, cursor, limit).await?;
        Ok(Page {
            items: authorization_views(&mut h, &page.items, now).await?,
            next_cursor: page.next_cursor,
        })
    }

    /// The authorizations of a site: an installer sees his or her company's (the
    /// site's card needs no authorization, R-10), the owner all of them.
    pub async fn site_authorizations(
        &self,
        p: &Principal,
        site_id: SiteId,
    ) -> Result<Vec<AuthorizationView>> {
        let now = self.now();
        let mut h = self.inner.store.read().await?;
        let site = load_site(&mut h, site_id).await?;
        let latest = h.latest_invitation(site.id).await?;
        let auths = h.site_authorizations(site.id).await?;
        let facts = facts_at(&site, latest.as_ref(), &auths, now);
        authorize(&p.actor, Action::ViewSiteSummary(&facts)).map_err(AppError::refused("site"))?;
        let mut mine: Vec<Authorization> = match p.company_id() {
            Some(c) => auths.into_iter().filter(|a| a.company_id == c).collect(),
            None => auths,
        };
        mine.reverse();
        authorization_views(&mut h, &mine, now).await
    }

    /// Loads an authorization and its site (locked) for its owner to answer.
    async fn authorization_to_answer(
        &self,
        h: &mut Handle,
        p: &Principal,
        id: AuthorizationId,
        now: i64,
    ) -> Result<(Authorization, Site)> {
        let site_id = h
            .authorization(id)
            .await?
            .ok_or(AppError::NotFound("authorization request"))?
            .site_id;
        let (site, auths, facts) = self.site_for_step(h, site_id, now).await?;
        authorize(&p.actor, Action::AnswerAuthorization(&facts))
            .map_err(AppError::refused("authorization request"))?;
        let a = auths
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(AppError::NotFound("authorization request"))?;
        Ok((a, site))
    }

    /// R-10: the owner approves an application, for the time asked or a shorter
    /// one; it is in force from now until exactly then.
    pub async fn approve_authorization(
        &self,
        p: &Principal,
        id: AuthorizationId,
        input: ApproveInput,
    ) -> Result<AuthorizationView> {
        let duration = input.duration("duration_hours")?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (mut a, site) = self.authorization_to_answer(&mut h, p, id, now).await?;
        a.approve(now, duration)?;
        h.update_authorization(&a).await?;
        let company = h
            .company_names(&[a.company_id])
            .await?
            .remove(&a.company_id)
            .unwrap_or_default();
        Record {
            company_id: Some(a.company_id),
            site_id: Some(site.id),
            action: "authorization.approve",
            summary: format!("{} authorized {company}: {}", p.user.name, grant_words(&a)),
            detail: serde_json::json!({
                "authorization_id": a.id,
                "granted_hours": a.granted_duration.and_then(GrantDuration::hours),
                "expires_at": a.expires_at.map(crate::rfc3339),
            }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        let health = a.permissions.contains(Permission::HealthMonitoring);
        if health {
            // Collection resumes at once (R-10).
            h.make_site_due(site.id, now).await?;
        }
        let view = one(authorization_views(&mut h, std::slice::from_ref(&a), now).await?)?;
        h.commit().await?;
        if health {
            self.inner.wake.notify_one();
        }
        self.handover_event(
            Some(a.company_id),
            site.id,
            site.owner_id,
            "authorization.approved",
            a.id.to_string(),
            now,
        );
        Ok(view)
    }

    /// R-10: the owner rejects an application.
    pub async fn reject_authorization(
        &self,
        p: &Principal,
        id: AuthorizationId,
    ) -> Result<AuthorizationView> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (mut a, site) = self.authorization_to_answer(&mut h, p, id, now).await?;
        a.reject(now)?;
        h.update_authorization(&a).await?;
        Record {
            company_id: Some(a.company_id),
            site_id: Some(site.id),
            action: "authorization.reject",
            summary: format!(
                "{} rejected the application for {}",
                p.user.name,
                grant_words(&a)
            ),
            detail: serde_json::json!({ "authorization_id": a.id }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        let view = one(authorization_views(&mut h, std::slice::from_ref(&a), now).await?)?;
        h.commit().await?;
        self.handover_event(
            Some(a.company_id),
            site.id,
            site.owner_id,
            "authorization.rejected",
            a.id.to_string(),
            now,
        );
        Ok(view)
    }

    /// R-10, R-11: the owner cancels every authorization in force on the site, at
    /// any time; the installer's operations stop at once. Applications still
    /// waiting are left for the owner to answer.
    pub async fn cancel_authorization(&self, p: &Principal, site_id: SiteId) -> Result<()> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (site, auths, facts) = self.site_for_step(&mut h, site_id, now).await?;
        authorize(&p.actor, Action::CancelAuthorization(&facts))
            .map_err(AppError::refused("site"))?;
        let mut ended = Vec::new();
        for mut a in auths.iter().filter(|a| a.is_active_at(now)).cloned() {
            a.cancel(now)?;
            h.update_authorization(&a).await?;
            Record {
                company_id: Some(a.company_id),
                site_id: Some(site.id),
                action: "authorization.cancel",
                summary: format!(
                    "{} cancelled the authorization for {}",
                    p.user.name,
                    grant_words(&a)
                ),
                detail: serde_json::json!({ "authorization_id": a.id }),
                by: Some(p),
            }
            .write(&mut h, now)
            .await?;
            ended.push(a);
        }
        if ended.is_empty() {
            return Err(nothing_in_force(auths.iter().max_by_key(|a| a.id), now));
        }
        h.commit().await?;
        for a in ended {
            self.handover_event(
                Some(a.company_id),
                site.id,
                site.owner_id,
                "authorization.cancelled",
                a.id.to_string(),
                now,
            );
        }
        Ok(())
    }

    /// R-10: the installer gives up the company's authorization on the site early,
    /// and withdraws an application the owner has not answered.
    pub async fn release_authorization(&self, p: &Principal, site_id: SiteId) -> Result<()> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (site, auths, facts) = self.site_for_step(&mut h, site_id, now).await?;
        authorize(&p.actor, Action::ReleaseAuthorization(&facts))
            .map_err(AppError::refused("site"))?;
        let company_id = facts.company_id.ok_or(AppError::NotFound("site"))?;
        let ours: Vec<&Authorization> = auths
            .iter()
            .filter(|a| a.company_id == company_id)
            .collect();
        let mut ended = Vec::new();
        for a in ours.iter().filter(|a| a.is_open_at(now)) {
            let mut a = (*a).clone();
            a.release(now)?;
            h.update_authorization(&a).await?;
            Record {
                company_id: Some(company_id),
                site_id: Some(site.id),
                action: "authorization.release",
                summary: format!(
                    "{} released the authorization for {}",
                    p.user.name,
                    grant_words(&a)
                ),
                detail: serde_json::json!({ "authorization_id": a.id }),
                by: Some(p),
            }
            .write(&mut h, now)
            .await?;
            ended.push(a);
        }
        if ended.is_empty() {
            return Err(nothing_in_force(ours.into_iter().max_by_key(|a| a.id), now));
        }
        h.commit().await?;
        for a in ended {
            self.handover_event(
                Some(company_id),
                site.id,
                site.owner_id,
                "authorization.released",
                a.id.to_string(),
                now,
            );
        }
        Ok(())
    }

    // ------------------------------------------------------------ change of company

    /// R-11: the Installer Admin removes a handed-over site from the company's
    /// list. The site, its owner and devices stay; the company gives up whatever
    /// authorization or application it still has there (so no two companies are
    /// ever authorized at once), the Site Manager is unassigned, and the site can
    /// be claimed by the next company.
    pub async fn remove_site_from_list(&self, p: &Principal, site_id: SiteId) -> Result<()> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (mut site, auths, facts) = self.site_for_step(&mut h, site_id, now).await?;
        authorize(&p.actor, Action::DeleteSite(&facts)).map_err(AppError::refused("site"))?;
        if !facts.is_handed_over() {
            return Err(HandoverError::NotHandedOver.into());
        }
        let company_id = facts.company_id.ok_or(AppError::NotFound("site"))?;
        let mut released = Vec::new();
        for mut a in auths
            .into_iter()
            .filter(|a| a.company_id == company_id && a.is_open_at(now))
        {
            a.release(now)?;
            h.update_authorization(&a).await?;
            released.push(a.id);
        }
        site.released_at = Some(now);
        site.manager_id = None;
        site.updated_at = now;
        h.update_site(&site).await?;
        Record {
            company_id: Some(company_id),
            site_id: Some(site.id),
            action: "site.remove_from_list",
            summary: format!(
                "{} removed site {} ({}) from the company's list; it stays with its owner",
                p.user.name, site.name, site.site_code
            ),
            detail: serde_json::json!({ "released_authorizations": released }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        self.handover_event(
            Some(company_id),
            site.id,
            site.owner_id,
            "site.released",
            site.id.to_string(),
            now,
        );
        Ok(())
    }

    /// R-11: the new company's Installer Admin adds an existing, handed-over site by
    /// its Site ID; the owner must confirm in the app before the company manages it.
    pub async fn claim_site(&self, p: &Principal, input: ClaimInput) -> Result<ClaimView> {
        let company_id = p.company_id().ok_or(AppError::NotFound("company"))?;
        authorize(&p.actor, Action::ClaimSite(company_id)).map_err(AppError::refused("company"))?;
        let code = site_code::normalize(&input.site_code, SITE_CODE_LEN).ok_or_else(|| {
            AppError::invalid(
                "site_code",
                "must be a Site ID of 8 letters and digits, such as K7PQ2M9X",
            )
        })?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let found = h
            .site_by_code(&code)
            .await?
            .ok_or(AppError::NotFound("site"))?;
        h.lock_site(found.id).await?;
        let site = load_site(&mut h, found.id).await?;
        let company = h
            .company(company_id)
            .await?
            .ok_or(AppError::NotFound("company"))?;
        let latest = match site.state {
            SiteState::OwnerInvited => h.latest_invitation(site.id).await?,
            _ => None,
        };
        let claims = h.site_claims(site.id).await?;
        let claim = Claim::create(
            NewClaim {
                id: ClaimId(new_uuid()),
                site_id: site.id,
                company_id,
                claimed_by: p.user.id,
            },
            &ClaimFacts {
                site_state: crate::sites::effective_state(&site, latest.as_ref(), now),
                site_region: &site.region,
                site_company: site.managing_company(),
                owner_id: site.owner_id,
                company_region: &company.region,
                claims: &claims,
            },
            now,
        )?;
        h.insert_claim(&claim).await?;
        Record {
            company_id: Some(company_id),
            site_id: Some(site.id),
            action: "site.claim",
            summary: format!(
                "{} of {} asked to take over site {} ({}); the owner confirms",
                p.user.name, company.name, site.name, site.site_code
            ),
            detail: serde_json::json!({ "claim_id": claim.id, "previous_company_id": claim.previous_company_id }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        let view = one(claim_views(&mut h, std::slice::from_ref(&claim)).await?)?;
        h.commit().await?;
        self.handover_event(
            Some(company_id),
            site.id,
            Some(claim.owner_id),
            "claim.created",
            claim.id.to_string(),
            now,
        );
        Ok(view)
    }

    /// R-11, R-35: the claims the signed-in end user is asked to confirm (and has
    /// answered), newest first. Other people have none.
    pub async fn my_claims(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ClaimView>> {
        let Some(me) = owned_sites(&p.actor) else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let mut h = self.inner.store.read().await?;
        let page = h.claims_of_owner(me, cursor, limit).await?;
        Ok(Page {
            items: claim_views(&mut h, &page.items).await?,
            next_cursor: page.next_cursor,
        })
    }

    /// R-11: the claims the company made to take over sites by their Site ID,
    /// newest first, with the owners' answers (Installer Admins, who claim).
    pub async fn company_claims(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ClaimView>> {
        let company_id = p.company_id().ok_or(AppError::NotFound("company"))?;
        authorize(&p.actor, Action::ClaimSite(company_id)).map_err(AppError::refused("company"))?;
        let mut h = self.inner.store.read().await?;
        let page = h.claims_of_company(company_id, cursor, limit).await?;
        Ok(Page {
            items: claim_views(&mut h, &page.items).await?,
            next_cursor: page.next_cursor,
        })
    }

    /// Loads a claim and its site (locked) for the owner to answer.
    async fn claim_to_answer(
        &self,
        h: &mut Handle,
        p: &Principal,
        id: ClaimId,
        now: i64,
    ) -> Result<(Claim, Site, Vec<Authorization>)> {
        let site_id = h
            .claim(id)
            .await?
            .ok_or(AppError::NotFound("claim"))?
            .site_id;
        let (site, auths, facts) = self.site_for_step(h, site_id, now).await?;
        authorize(&p.actor, Action::AnswerClaim(&facts)).map_err(AppError::refused("claim"))?;
        let claim = h.claim(id).await?.ok_or(AppError::NotFound("claim"))?;
        Ok((claim, site, auths))
    }

    /// R-11: the owner confirms a claim: in one step the site moves to the
    /// claiming company (with its devices, no Site Manager yet, and no
    /// authorization: it applies for one), the site's other waiting claims are
    /// declined and the previous company's unanswered applications rejected.
    /// Refused while the previous company still holds an authorization in force:
    /// the owner cancels it first, so two companies never manage the site at once.
    pub async fn confirm_claim(&self, p: &Principal, id: ClaimId) -> Result<ClaimView> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (mut claim, site, auths) = self.claim_to_answer(&mut h, p, id, now).await?;
        claim.confirm(now, &auths)?;
        h.update_claim(&claim).await?;
        let previous = site.managing_company();
        h.move_site(site.id, claim.company_id, now).await?;
        let mut declined = Vec::new();
        for mut other in h.site_claims(site.id).await? {
            if other.id != claim.id && other.decline(now).is_ok() {
                h.update_claim(&other).await?;
                declined.push(other);
            }
        }
        let mut rejected = Vec::new();
        for mut a in auths.into_iter().filter(|a| {
            a.company_id != claim.company_id && a.state_at(now) == AuthorizationState::Pending
        }) {
            a.reject(now)?;
            h.update_authorization(&a).await?;
            rejected.push(a.id);
        }
        let companies = h
            .company_names(
                &[Some(claim.company_id), previous]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>(),
            )
            .await?;
        let new_name = companies
            .get(&claim.company_id)
            .cloned()
            .unwrap_or_default();
        Record {
            company_id: Some(claim.company_id),
            site_id: Some(site.id),
            action: "site.claim_confirmed",
            summary: format!(
                "{} confirmed {new_name} as the site's installation company",
                p.user.name
            ),
            detail: serde_json::json!({
                "claim_id": claim.id,
                "previous_company_id": previous,
                "declined_claims": declined.iter().map(|c| c.id).collect::<Vec<_>>(),
                "rejected_applications": rejected,
            }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        if let Some(prev) = previous.filter(|c| *c != claim.company_id) {
            Record {
                company_id: Some(prev),
                site_id: Some(site.id),
                action: "site.moved",
                summary: format!(
                    "{} moved site {} ({}) to {new_name}",
                    p.user.name, site.name, site.site_code
                ),
                detail: serde_json::json!({ "claim_id": claim.id, "company_id": claim.company_id }),
                by: Some(p),
            }
            .write(&mut h, now)
            .await?;
        }
        let view = one(claim_views(&mut h, std::slice::from_ref(&claim)).await?)?;
        h.commit().await?;
        self.handover_event(
            Some(claim.company_id),
            site.id,
            Some(claim.owner_id),
            "claim.confirmed",
            claim.id.to_string(),
            now,
        );
        if let Some(prev) = previous.filter(|c| *c != claim.company_id) {
            self.handover_event(
                Some(prev),
                site.id,
                None,
                "site.moved",
                site.id.to_string(),
                now,
            );
        }
        for c in declined {
            self.handover_event(
                Some(c.company_id),
                site.id,
                Some(c.owner_id),
                "claim.declined",
                c.id.to_string(),
                now,
            );
        }
        self.inner.devices_changed.notify_one();
        Ok(view)
    }

    /// R-11: the owner declines a claim; the site stays where it is.
    pub async fn decline_claim(&self, p: &Principal, id: ClaimId) -> Result<ClaimView> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (mut claim, site, _) = self.claim_to_answer(&mut h, p, id, now).await?;
        claim.decline(now)?;
        h.update_claim(&claim).await?;
        Record {
            company_id: Some(claim.company_id),
            site_id: Some(site.id),
            action: "site.claim_declined",
            summary: format!(
                "{} declined another company's request to take over the site",
                p.user.name
            ),
            detail: serde_json::json!({ "claim_id": claim.id }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        let view = one(claim_views(&mut h, std::slice::from_ref(&claim)).await?)?;
        h.commit().await?;
        self.handover_event(
            Some(claim.company_id),
            site.id,
            Some(claim.owner_id),
            "claim.declined",
            claim.id.to_string(),
            now,
        );
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_input_names_every_field_at_fault() {
        let bad = AuthorizationInput {
            permissions: vec!["site_info".into(), "teleport".into()],
            device_ids: Some(vec!["nope".into()]),
            duration_hours: Some(3),
            remark: None,
        };
        let errors = bad.check("authorization.").expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"authorization.permissions"), "{fields:?}");
        assert!(fields.contains(&"authorization.device_ids"), "{fields:?}");
        assert!(
            fields.contains(&"authorization.duration_hours"),
            "{fields:?}"
        );

        let none = AuthorizationInput::default()
            .check("")
            .expect_err("refused");
        assert_eq!(none[0].field, "permissions");

        let ok = AuthorizationInput {
            permissions: vec!["health_monitoring".into()],
            duration_hours: Some(8),
            ..AuthorizationInput::default()
        }
        .check("")
        .expect("valid");
        assert_eq!(ok.duration, GrantDuration::EightHours);
    }

    #[test]
    fn errors_of_the_core_keep_their_codes() {
        let e: AppError = HandoverError::InvitationPending.into();
        assert!(matches!(
            e,
            AppError::Conflict {
                code: "handover.invitation_pending",
                ..
            }
        ));
        let e: AppError = HandoverError::NoEndUserAccount.into();
        assert!(matches!(
            e,
            AppError::Unprocessable {
                code: "handover.no_end_user_account",
                ..
            }
        ));
    }

    #[test]
    fn approval_body_tells_absent_from_null() {
        let absent: ApproveInput = serde_json::from_str("{}").expect("json");
        assert_eq!(absent.duration_hours, None);
        let null: ApproveInput = serde_json::from_str(r#"{"duration_hours": null}"#).expect("json");
        assert_eq!(null.duration_hours, Some(None));
        let two: ApproveInput = serde_json::from_str(r#"{"duration_hours": 2}"#).expect("json");
        assert_eq!(
            two.duration("duration_hours").expect("ok"),
            Some(GrantDuration::TwoHours)
        );
        let accept: AcceptInput = serde_json::from_str("{}").expect("json");
        assert!(accept.approve_authorization);
    }
}
