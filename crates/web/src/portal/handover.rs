//! The installer's side of hand-over in the portal: inviting the
//! site's owner and withdrawing the invitation, applying for a site authorization
//! and releasing it, removing a handed-over site from the company's list, and adding
//! an existing site by its Site ID.
//!
//! The pages only translate forms into the app's inputs and show its answers: who
//! may do what, and which step the site's state allows, are decided by the use cases
//! in `app::handover`, whose refusals (and field errors) come back as flash messages
//! on the site page. The site page's hand-over panel is built here
//! ([`panel`]) and re-rendered live when `handover_changed` news arrives.

use super::session::CsrfForm;
use super::sites::site_id;
use super::{PageError, PortalUser, check_csrf, error_text, redirect_with};
use crate::AppState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use axum_extra::extract::CookieJar;
use siteward_app::{
    AppError, AuthorizationInput, AuthorizationView, ClaimInput, ClaimView, InvitationInput,
    InvitationSummary, Principal, SiteView,
};
use siteward_core::handover::{
    AuthorizationState, ClaimState, GrantDuration, InvitationState, Permission,
};
use siteward_core::validate::FieldError;
use siteward_core::{Role, SiteState};
use std::collections::HashMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

type PageResult = Result<Response, PageError>;

// ---------------------------------------------------------------- words

/// Unix milliseconds of an RFC 3339 time.
fn millis(rfc3339: &str) -> Option<i64> {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
}

/// A time for people: `2026-11-25 10:48 UTC`.
pub(crate) fn when(rfc3339: &str) -> String {
    format!(
        "{} UTC",
        rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
    )
}

fn plural(n: i64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// A stretch of time in words: "less than a minute", "25 minutes", "1 hour 30
/// minutes", "8 hours", "3 days".
fn span(ms: i64) -> String {
    let minutes = (ms.abs() + 30_000) / 60_000;
    if ms.abs() < 60_000 {
        "less than a minute".into()
    } else if minutes < 60 {
        plural(minutes, "minute")
    } else if minutes < 24 * 60 {
        let (h, m) = (minutes / 60, minutes % 60);
        if m == 0 || h >= 10 {
            plural((minutes + 30) / 60, "hour")
        } else {
            format!("{} {}", plural(h, "hour"), plural(m, "minute"))
        }
    } else {
        plural((minutes + 12 * 60) / (24 * 60), "day")
    }
}

/// "in 1 hour (2026-11-25 10:48 UTC)" or "5 minutes ago (…)", as seen at `now`.
pub(crate) fn in_words(rfc3339: &str, now: i64) -> String {
    match millis(rfc3339) {
        Some(at) if at >= now => format!("in {} ({})", span(at - now), when(rfc3339)),
        Some(at) => format!("{} ago ({})", span(now - at), when(rfc3339)),
        None => rfc3339.to_owned(),
    }
}

fn permission_labels(names: &[String]) -> String {
    names
        .iter()
        .map(|n| match n.parse::<Permission>() {
            Ok(p) => p.label(),
            Err(_) => n.as_str(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn duration_label(hours: Option<i64>) -> &'static str {
    GrantDuration::from_hours(hours).map_or("?", GrantDuration::label)
}

fn for_how_long(hours: Option<i64>) -> String {
    match hours {
        None => "permanently".into(),
        h => format!("for {}", duration_label(h)),
    }
}

// ---------------------------------------------------------------- the panel

/// One permission checkbox.
pub(crate) struct PermissionChoice {
    pub(crate) value: &'static str,
    pub(crate) label: &'static str,
    pub(crate) description: &'static str,
}

/// One choice of the duration select.
pub(crate) struct DurationChoice {
    pub(crate) value: String,
    pub(crate) label: &'static str,
}

/// The site's latest owner invitation.
pub(crate) struct InvitationRow {
    pub(crate) state: &'static str,
    pub(crate) state_label: &'static str,
    pub(crate) email: String,
    pub(crate) sent: String,
    /// When a pending one runs out, in words.
    pub(crate) expires: String,
    /// When it was answered, withdrawn or ran out, in words.
    pub(crate) closed: String,
}

/// An authorization or application of the company on the site.
pub(crate) struct AuthRow {
    pub(crate) state: &'static str,
    pub(crate) state_label: &'static str,
    pub(crate) permissions: String,
    /// "All devices" or the devices' names.
    pub(crate) devices: String,
    /// "1 hour", "permanent": as asked, or as granted.
    pub(crate) duration: String,
    pub(crate) requested: String,
    pub(crate) requested_by: String,
    pub(crate) remark: Option<String>,
    /// How long it is (or was) in force, in words.
    pub(crate) validity: String,
}

/// The hand-over panel of the site page.
pub(crate) struct Panel {
    /// `managed`, `owner_invited` or `handed_over`.
    pub(crate) state: &'static str,
    pub(crate) owner_name: Option<String>,
    pub(crate) owner_email: Option<String>,
    pub(crate) invitation: Option<InvitationRow>,
    /// The Installer Admin or the site's Site Manager: invites, applies, releases.
    pub(crate) may_hand_over: bool,
    /// An Installer Admin, on a handed-over site: removes it from the list.
    pub(crate) may_remove: bool,
    /// Approved and in force now.
    pub(crate) in_force: Vec<AuthRow>,
    /// The application waiting for the owner, if any.
    pub(crate) waiting: Option<AuthRow>,
    /// Everything the company asked for on the site, newest first.
    pub(crate) history: Vec<AuthRow>,
    /// The company held an authorization and the owner cancelled it.
    pub(crate) cancelled: bool,
    pub(crate) permissions: Vec<PermissionChoice>,
    pub(crate) durations: Vec<DurationChoice>,
    /// The site's devices to limit an application to (empty: not readable now).
    pub(crate) devices: Vec<(String, String)>,
}

impl Panel {
    pub(crate) fn handed_over(&self) -> bool {
        self.state == "handed_over"
    }

    pub(crate) fn invited(&self) -> bool {
        self.state == "owner_invited"
    }
}

fn invitation_row(i: &InvitationSummary, now: i64) -> InvitationRow {
    let state = i
        .state
        .parse::<InvitationState>()
        .unwrap_or(InvitationState::Pending);
    InvitationRow {
        state: state.as_str(),
        state_label: state.label(),
        email: i.end_user_email.clone(),
        sent: in_words(&i.created_at, now),
        expires: in_words(&i.expires_at, now),
        closed: i
            .closed_at
            .as_deref()
            .map(|c| in_words(c, now))
            .unwrap_or_default(),
    }
}

fn auth_row(a: &AuthorizationView, devices: &HashMap<String, String>, now: i64) -> AuthRow {
    let state = a
        .state
        .parse::<AuthorizationState>()
        .unwrap_or(AuthorizationState::Pending);
    // Answered and not rejected: it was granted, for as long as the owner said.
    let granted = a.decided_at.is_some() && state != AuthorizationState::Rejected;
    let duration = if granted {
        duration_label(a.granted_hours)
    } else {
        duration_label(a.duration_hours)
    }
    .to_owned();
    let validity = match (state, &a.expires_at, &a.ended_at) {
        (AuthorizationState::Approved, Some(e), _) => format!("Expires {}", in_words(e, now)),
        (AuthorizationState::Approved, None, _) => "In force with no end date".into(),
        (AuthorizationState::Pending, _, _) => format!(
            "Applied {}; asked {}",
            in_words(&a.requested_at, now),
            for_how_long(a.duration_hours)
        ),
        (AuthorizationState::Rejected, _, _) => format!(
            "Rejected {}",
            a.decided_at
                .as_deref()
                .map(|d| in_words(d, now))
                .unwrap_or_default()
        ),
        (_, _, Some(end)) => format!("{} {}", state.label(), in_words(end, now)),
        _ => state.label().to_owned(),
    };
    AuthRow {
        state: state.as_str(),
        state_label: state.label(),
        permissions: permission_labels(&a.permissions),
        devices: match &a.device_ids {
            None => "All devices".into(),
            Some(ids) => ids
                .iter()
                .map(|id| devices.get(id).cloned().unwrap_or_else(|| id.clone()))
                .collect::<Vec<_>>()
                .join(", "),
        },
        duration,
        requested: when(&a.requested_at),
        requested_by: a.requested_by.clone(),
        remark: a.remark.clone(),
        validity,
    }
}

/// The Installer Admin and the site's Site Manager hand over and apply (the policy
/// decides per site; a Site Manager sees only his or her sites).
pub(crate) fn may_hand_over(p: &Principal) -> bool {
    matches!(p.user.role, Some(Role::InstallerAdmin | Role::SiteManager))
}

/// Builds the panel for the site `v` with the company's authorizations on it
/// (newest first) and the site's devices by id (empty when they are not readable).
pub(crate) fn panel(
    p: &Principal,
    v: &SiteView,
    auths: &[AuthorizationView],
    devices: Vec<(String, String)>,
    now: i64,
) -> Panel {
    let names: HashMap<String, String> = devices.iter().cloned().collect();
    let state = match v.state {
        SiteState::Managed => "managed",
        SiteState::OwnerInvited => "owner_invited",
        SiteState::HandedOver => "handed_over",
    };
    let invitation = v.invitation.as_ref().map(|i| invitation_row(i, now));
    let owner_email = v
        .invitation
        .as_ref()
        .filter(|i| i.state == InvitationState::Accepted.as_str() && v.owner.is_some())
        .map(|i| i.end_user_email.clone());
    let rows: Vec<AuthRow> = auths.iter().map(|a| auth_row(a, &names, now)).collect();
    let in_force = auths
        .iter()
        .filter(|a| a.state == AuthorizationState::Approved.as_str())
        .map(|a| auth_row(a, &names, now))
        .collect();
    let waiting = auths
        .iter()
        .find(|a| a.state == AuthorizationState::Pending.as_str())
        .map(|a| auth_row(a, &names, now));
    let cancelled = auths
        .iter()
        .find(|a| a.state != AuthorizationState::Pending.as_str())
        .is_some_and(|a| a.state == AuthorizationState::Cancelled.as_str());
    let handed_over = v.state == SiteState::HandedOver;
    Panel {
        state,
        owner_name: v.owner.as_ref().map(|o| o.name.clone()),
        owner_email,
        invitation,
        may_hand_over: may_hand_over(p),
        may_remove: handed_over && p.user.role == Some(Role::InstallerAdmin),
        in_force,
        waiting,
        history: rows,
        cancelled,
        permissions: Permission::ALL
            .iter()
            .map(|p| PermissionChoice {
                value: p.as_str(),
                label: p.label(),
                description: p.description(),
            })
            .collect(),
        durations: GrantDuration::ALL
            .iter()
            .map(|d| DurationChoice {
                value: d
                    .hours()
                    .map_or_else(|| "permanent".to_owned(), |h| h.to_string()),
                label: d.label(),
            })
            .collect(),
        devices,
    }
}

// ---------------------------------------------------------------- forms

/// The form's fields as they came: checkboxes repeat their name.
struct Pairs(Vec<(String, String)>);

impl Pairs {
    fn one(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The authorization asked for, with field names prefixed by `prefix`.
    fn authorization(&self, prefix: &str) -> Result<AuthorizationInput, AppError> {
        let raw = self.one("duration_hours").trim();
        let duration_hours = match raw {
            "permanent" => None,
            n => Some(n.parse::<i64>().map_err(|_| {
                AppError::Invalid(vec![FieldError::new(
                    format!("{prefix}duration_hours"),
                    "choose 1, 2, 4, 8 or 24 hours, or permanent",
                )])
            })?),
        };
        let devices = self.all("device_id");
        let remark = self.one("remark").trim();
        Ok(AuthorizationInput {
            permissions: self.all("permission"),
            device_ids: (!devices.is_empty()).then_some(devices),
            duration_hours,
            remark: (!remark.is_empty()).then(|| remark.to_owned()),
        })
    }
}

fn here(id: impl std::fmt::Display) -> String {
    format!("/portal/sites/{id}")
}

/// `POST /portal/sites/{id}/invitation`: invites the site's owner, perhaps
/// with the authorization the company keeps after hand-over.
pub(crate) async fn invite(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let f = Pairs(pairs);
    check_csrf(&p, f.one("csrf"))?;
    let id = site_id(&id)?;
    let keep = !f.all("permission").is_empty();
    let result = match keep.then(|| f.authorization("authorization.")).transpose() {
        Ok(authorization) => {
            let input = InvitationInput {
                end_user_email: f.one("end_user_email").to_owned(),
                authorization,
            };
            s.app.invite_owner(&p, id, input).await
        }
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(v) => {
            let kept = match &v.authorization {
                Some(a) => format!(
                    "If the owner agrees, you keep {} {}.",
                    permission_labels(&a.permissions),
                    for_how_long(a.duration_hours)
                ),
                None => "No authorization was asked for: after hand-over, apply for one.".into(),
            };
            redirect_with(
                jar,
                &here(id),
                true,
                &format!(
                    "Invitation sent to {}. It waits for the owner's answer in the Siteward app until {}. {kept}",
                    v.end_user_email,
                    when(&v.expires_at)
                ),
            )
        }
        Err(e) => redirect_with(
            jar,
            &format!("{}#handover", here(id)),
            false,
            &format!("Invitation not sent: {}", error_text(e)),
        ),
    })
}

/// `POST /portal/sites/{id}/invitation/withdraw`.
pub(crate) async fn withdraw(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    check_csrf(&p, &f.csrf)?;
    let id = site_id(&id)?;
    Ok(match s.app.withdraw_invitation(&p, id).await {
        Ok(()) => redirect_with(
            jar,
            &here(id),
            true,
            "Invitation withdrawn. The site is yours to manage again.",
        ),
        Err(e) => redirect_with(
            jar,
            &format!("{}#handover", here(id)),
            false,
            &format!("Invitation not withdrawn: {}", error_text(e)),
        ),
    })
}

/// `POST /portal/sites/{id}/authorization-requests`: applies to the owner.
pub(crate) async fn apply(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let f = Pairs(pairs);
    check_csrf(&p, f.one("csrf"))?;
    let id = site_id(&id)?;
    let result = match f.authorization("") {
        Ok(input) => s.app.apply_authorization(&p, id, input).await,
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(a) => redirect_with(
            jar,
            &here(id),
            true,
            &format!(
                "Application sent: {} {}. It waits for the owner's answer in the Siteward app.",
                permission_labels(&a.permissions),
                for_how_long(a.duration_hours)
            ),
        ),
        Err(e) => redirect_with(
            jar,
            &format!("{}#apply", here(id)),
            false,
            &format!("Application not sent: {}", error_text(e)),
        ),
    })
}

/// `POST /portal/sites/{id}/authorization/release`: ends the company's authorization
/// early, and withdraws an application the owner has not answered.
pub(crate) async fn release(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    check_csrf(&p, &f.csrf)?;
    let id = site_id(&id)?;
    // Only for the words of the answer: what was open before.
    let before = s.app.site_authorizations(&p, id).await.unwrap_or_default();
    let approved = before
        .iter()
        .any(|a| a.state == AuthorizationState::Approved.as_str());
    let pending = before
        .iter()
        .any(|a| a.state == AuthorizationState::Pending.as_str());
    let text = match (approved, pending) {
        (true, true) => "Authorization released and application withdrawn.",
        (false, true) => "Application withdrawn.",
        _ => {
            "Authorization released. You no longer work on this site until the owner authorizes you again."
        }
    };
    Ok(match s.app.release_authorization(&p, id).await {
        Ok(()) => redirect_with(jar, &here(id), true, text),
        Err(e) => redirect_with(
            jar,
            &format!("{}#handover", here(id)),
            false,
            &format!("Nothing released: {}", error_text(e)),
        ),
    })
}

/// `POST /portal/sites/{id}/remove`: the Installer Admin removes a handed-over site
/// from the company's list; it stays with its owner.
pub(crate) async fn remove(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    check_csrf(&p, &f.csrf)?;
    let id = site_id(&id)?;
    let name = s
        .app
        .site_card(&p, id)
        .await
        .map(|v| format!("{} ({})", v.name, v.site_code))
        .unwrap_or_else(|_| "The site".into());
    Ok(match s.app.remove_site_from_list(&p, id).await {
        Ok(()) => redirect_with(
            jar,
            "/portal/sites",
            true,
            &format!(
                "{name} was removed from your list. It stays with its owner, with its devices."
            ),
        ),
        Err(e) => redirect_with(
            jar,
            &format!("{}#handover", here(id)),
            false,
            &format!("Not removed: {}", error_text(e)),
        ),
    })
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ClaimForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    site_code: String,
}

/// `POST /portal/sites/claim`: the Installer Admin adds an existing site by its Site
/// ID; the owner confirms in the app.
pub(crate) async fn claim(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Form(f): Form<ClaimForm>,
) -> PageResult {
    check_csrf(&p, &f.csrf)?;
    let code = f.site_code.trim().to_owned();
    Ok(
        match s
            .app
            .claim_site(
                &p,
                ClaimInput {
                    site_code: code.clone(),
                },
            )
            .await
        {
            Ok(c) => redirect_with(
                jar,
                "/portal/sites#claims",
                true,
                &format!(
                    "You asked to take over {} ({}). It is waiting for the owner's confirmation in the Siteward app; once confirmed, the site is in your list.",
                    c.site_name, c.site_code
                ),
            ),
            Err(AppError::NotFound("site")) => redirect_with(
                jar,
                "/portal/sites#claim",
                false,
                &format!(
                    "Site not added: no site has the Site ID {code}. Check it with the site's owner."
                ),
            ),
            Err(AppError::Conflict {
                code: "handover.not_handed_over",
                ..
            }) => redirect_with(
                jar,
                "/portal/sites#claim",
                false,
                "Site not added: this site has not been handed over to an owner, so only the company managing it works on it. A site changes installation company once its owner has it in the Siteward app.",
            ),
            Err(e) => redirect_with(
                jar,
                "/portal/sites#claim",
                false,
                &format!("Site not added: {}", error_text(e)),
            ),
        },
    )
}

/// A claim as the sites page lists it.
pub(crate) struct ClaimRow {
    pub(crate) site_id: String,
    pub(crate) site_name: String,
    pub(crate) site_code: String,
    pub(crate) state: &'static str,
    pub(crate) state_label: &'static str,
    pub(crate) created: String,
    pub(crate) claimed_by: String,
    /// Confirmed: the site is the company's now.
    pub(crate) confirmed: bool,
}

pub(crate) fn claim_row(c: ClaimView) -> ClaimRow {
    let state = c
        .state
        .parse::<ClaimState>()
        .unwrap_or(ClaimState::PendingConfirmation);
    ClaimRow {
        confirmed: state == ClaimState::Confirmed,
        state: state.as_str(),
        state_label: state.label(),
        created: when(&c.created_at),
        claimed_by: c.claimed_by,
        site_id: c.site_id,
        site_name: c.site_name,
        site_code: c.site_code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_in_words() {
        let min = 60_000;
        assert_eq!(span(10_000), "less than a minute");
        assert_eq!(span(min), "1 minute");
        assert_eq!(span(25 * min), "25 minutes");
        assert_eq!(span(60 * min - 5_000), "1 hour");
        assert_eq!(span(90 * min), "1 hour 30 minutes");
        assert_eq!(span(8 * 60 * min), "8 hours");
        assert_eq!(span(7 * 24 * 60 * min), "7 days");
    }

    #[test]
    fn times_in_words_look_both_ways() {
        let at = "2026-05-01T10:00:00Z";
        let t = millis(at).expect("time");
        assert_eq!(
            in_words(at, t - 3_600_000),
            "in 1 hour (2026-05-01 10:00 UTC)"
        );
        assert_eq!(
            in_words(at, t + 120_000),
            "2 minutes ago (2026-05-01 10:00 UTC)"
        );
    }

    #[test]
    fn form_durations() {
        let f = Pairs(vec![
            ("permission".into(), "health_monitoring".into()),
            ("permission".into(), "site_info".into()),
            ("duration_hours".into(), "permanent".into()),
            ("remark".into(), "  ".into()),
        ]);
        let a = f.authorization("").expect("valid");
        assert_eq!(a.permissions, ["health_monitoring", "site_info"]);
        assert_eq!(
            (a.duration_hours, a.remark, a.device_ids),
            (None, None, None)
        );
        let bad = Pairs(vec![("duration_hours".into(), "forever".into())]);
        assert!(matches!(
            bad.authorization("authorization."),
            Err(AppError::Invalid(e)) if e[0].field == "authorization.duration_hours"
        ));
    }
}
