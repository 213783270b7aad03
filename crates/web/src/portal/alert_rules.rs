//! The notification rules and webhook page: who hears of which device
//! exception, on which channels and when, and where the company webhook posts.
//!
//! The page only translates forms into the app's inputs and shows its answers: who may
//! see or change rules, and what a valid rule is, are decided by the use cases in
//! `app::notify`, whose refusals and field errors come back as form messages.

use super::Flash;
use super::session::CsrfForm;
use super::{
    Layout, PageError, PortalUser, check_csrf, error_text, redirect_with, render, take_flash,
};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use siteward_app::{AppError, Principal, RuleInput, RuleView, WebhookInput, WebhookView};
use siteward_core::health::Exception;
use std::collections::HashMap;

const PAGE: &str = "/portal/notifications/rules";

/// Days as the chips and checkboxes show them, Monday first (as `Schedule::days`).
const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

/// Minutes in a day (`core::notify::MINUTES_PER_DAY`).
const DAY_MINUTES: u16 = 24 * 60;

/// What people read for an exception. Core names them only for machines
/// (`Exception::as_str`); the match is exhaustive so a new kind must get a label.
fn exception_label(e: Exception) -> &'static str {
    match e {
        Exception::Offline => "Offline",
        Exception::HddError => "HDD error",
        Exception::HddFull => "HDD full",
        Exception::Smart => "S.M.A.R.T. warning",
        Exception::ChannelOffline => "Channel offline",
        Exception::VideoLoss => "Video loss",
        Exception::RecordingException => "Recording exception",
        Exception::LowBattery => "Low battery",
        Exception::LinkLost => "Link lost",
        Exception::MainsPowerLost => "Mains power lost",
        Exception::Tamper => "Tamper",
        Exception::AuthFailed => "Login refused",
    }
}

/// One checkbox of a rule form.
pub(crate) struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// A rule form's values: empty for a new rule, the rule's own for an edit form.
pub(crate) struct RuleForm {
    action: String,
    site_id: String,
    /// A device the rule is limited to (set through the API); the form keeps it.
    device: Option<String>,
    exceptions: Vec<Choice>,
    days: Vec<Choice>,
    installer_admins: bool,
    email: bool,
    webhook: bool,
    from: String,
    to: String,
}

/// One rule in the table.
pub(crate) struct RuleRow {
    id: String,
    /// The defaults have no row of their own to change or delete.
    editable: bool,
    site: String,
    device: String,
    exceptions: Vec<&'static str>,
    recipients: String,
    channels: String,
    days: Vec<Choice>,
    hours: String,
    form: RuleForm,
}

#[derive(Template)]
#[template(path = "alert_rules.html")]
struct AlertRulesPage {
    layout: Layout,
    /// Why the rules cannot be shown (the app's refusal), if so.
    refusal: Option<String>,
    /// The company has written no rule: Siteward's defaults apply.
    defaults: bool,
    rules: Vec<RuleRow>,
    sites: Vec<(String, String)>,
    new_rule: RuleForm,
    /// The webhook just set (its secret only when Siteward generated it).
    webhook: Option<WebhookView>,
}

/// "08:30" for a minute of the day; 1440 (the end of the day) is "24:00".
fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The value of an `<input type=time>`: 24:00 cannot be typed, and a window ending at
/// midnight is the same as one ending at 00:00 (past midnight, ending at once).
fn time_value(minute: u16) -> String {
    hhmm(minute % DAY_MINUTES)
}

fn whole_day(from: u16, to: u16) -> bool {
    from == to || (from == 0 && to >= DAY_MINUTES)
}

fn hours(r: &RuleView) -> String {
    let (from, to) = (r.from_minute, r.to_minute);
    if whole_day(from, to) {
        if r.days.iter().all(|d| *d) {
            "always".into()
        } else {
            "all day".into()
        }
    } else if from < to {
        format!("{}–{}", hhmm(from), hhmm(to))
    } else {
        format!("{}–{} (next day)", hhmm(from), hhmm(to))
    }
}

fn day_choices(days: [bool; 7]) -> Vec<Choice> {
    DAYS.iter()
        .zip(["0", "1", "2", "3", "4", "5", "6"])
        .zip(days)
        .map(|((label, value), checked)| Choice {
            value,
            label,
            checked,
        })
        .collect()
}

fn exception_choices(chosen: &[Exception]) -> Vec<Choice> {
    Exception::ALL
        .iter()
        .map(|e| Choice {
            value: e.as_str(),
            label: exception_label(*e),
            checked: chosen.contains(e),
        })
        .collect()
}

fn new_rule_form() -> RuleForm {
    // The app's own defaults for a new rule: Installer Admins and e-mail on, webhook
    // off, every day, all day.
    RuleForm {
        action: PAGE.into(),
        site_id: String::new(),
        device: None,
        exceptions: exception_choices(&[]),
        days: day_choices([true; 7]),
        installer_admins: true,
        email: true,
        webhook: false,
        from: "00:00".into(),
        to: "00:00".into(),
    }
}

fn name_of(names: &HashMap<String, String>, id: Option<&String>, all: &str) -> String {
    match id {
        None => all.to_owned(),
        Some(id) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
    }
}

fn rule_row(
    r: RuleView,
    editable: bool,
    sites: &HashMap<String, String>,
    devices: &HashMap<String, String>,
) -> RuleRow {
    let mut recipients = String::from("Site Manager");
    if r.installer_admins {
        recipients.push_str(", Installer Admins");
    }
    let mut channels = String::from("Portal");
    if r.email {
        channels.push_str(", e-mail");
    }
    if r.webhook {
        channels.push_str(", webhook");
    }
    let device = r
        .device_id
        .as_ref()
        .map(|_| name_of(devices, r.device_id.as_ref(), ""));
    RuleRow {
        editable,
        site: name_of(sites, r.site_id.as_ref(), "All sites"),
        device: name_of(devices, r.device_id.as_ref(), "All devices"),
        exceptions: r.exceptions.iter().map(|e| exception_label(*e)).collect(),
        recipients,
        channels,
        days: day_choices(r.days),
        hours: hours(&r),
        form: RuleForm {
            action: format!("{PAGE}/{}", r.id),
            site_id: r.site_id.clone().unwrap_or_default(),
            device,
            exceptions: exception_choices(&r.exceptions),
            days: day_choices(r.days),
            installer_admins: r.installer_admins,
            email: r.email,
            webhook: r.webhook,
            from: time_value(r.from_minute),
            to: time_value(r.to_minute),
        },
        id: r.id,
    }
}

/// The sites the person sees, by id: the choices of the site select.
async fn site_names(s: &AppState, p: &Principal) -> Result<Vec<(String, String)>, PageError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s.app.list_sites(p, cursor.as_deref(), 200).await?;
        out.extend(page.items.into_iter().map(|v| (v.id, v.name)));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// Device names, read only when a rule names a device (rules made through the API).
async fn device_names(s: &AppState, p: &Principal) -> Result<HashMap<String, String>, PageError> {
    let mut out = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s.app.list_devices(p, cursor.as_deref(), 200).await?;
        out.extend(page.items.into_iter().map(|d| (d.id, d.name)));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// Builds the page; a refusal to show the rules becomes a message on it.
async fn page_response(
    s: &AppState,
    p: &Principal,
    flash: Option<Flash>,
    webhook: Option<WebhookView>,
) -> Result<Response, PageError> {
    let layout = Layout::new(s, p, "Notifications", flash).await?;
    let (list, refusal) = match s.app.exception_rules(p).await {
        Ok(list) => (Some(list), None),
        Err(e @ AppError::Forbidden(_)) => (None, Some(error_text(e))),
        Err(e) => return Err(e.into()),
    };
    let sites = if list.is_some() {
        site_names(s, p).await?
    } else {
        Vec::new()
    };
    let (defaults, rules) = match list {
        None => (false, Vec::new()),
        Some(list) => {
            let defaults = list.items.is_empty();
            let devices = if list.effective.iter().any(|r| r.device_id.is_some()) {
                device_names(s, p).await?
            } else {
                HashMap::new()
            };
            let site_map: HashMap<_, _> = sites.iter().cloned().collect();
            let rules = list
                .effective
                .into_iter()
                .map(|r| rule_row(r, !defaults, &site_map, &devices))
                .collect();
            (defaults, rules)
        }
    };
    let status = if refusal.is_some() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    };
    let page = AlertRulesPage {
        layout,
        refusal,
        defaults,
        rules,
        sites,
        new_rule: new_rule_form(),
        webhook,
    };
    Ok((status, render(&page)).into_response())
}

/// `GET /portal/notifications/rules`.
pub(crate) async fn page(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let (jar, flash) = take_flash(jar);
    Ok((jar, page_response(&s, &p, flash, None).await?).into_response())
}

/// "08:30" (or "08:30:00", as some browsers send with a step) to a minute of the day.
fn minute_of(raw: &str) -> Option<u16> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Some(0);
    }
    let mut parts = raw.split(':');
    let h: u16 = parts.next()?.parse().ok()?;
    let m: u16 = parts.next()?.parse().ok()?;
    if let Some(sec) = parts.next() {
        sec.parse::<f32>().ok()?;
    }
    if parts.next().is_some() || h > 23 || m > 59 {
        return None;
    }
    Some(h * 60 + m)
}

/// The rule form's fields, as they came: checkboxes repeat their name, so the form is
/// read as pairs rather than a struct.
fn rule_input(pairs: &[(String, String)]) -> Result<RuleInput, AppError> {
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let checked = |name: &str| Some(one(name).is_some());
    let mut errors = Vec::new();
    let mut exceptions = Vec::new();
    let mut days = [false; 7];
    for (k, v) in pairs {
        match k.as_str() {
            "exception" => match Exception::ALL.iter().find(|e| e.as_str() == v) {
                Some(e) => exceptions.push(*e),
                None => errors.push(("exceptions", "choose exceptions from the list")),
            },
            "day" => match v.parse::<usize>().ok().and_then(|i| days.get_mut(i)) {
                Some(d) => *d = true,
                None => errors.push(("days", "choose days from the list")),
            },
            _ => {}
        }
    }
    let mut time = |field: &'static str, name: &str| {
        minute_of(one(name).unwrap_or_default()).unwrap_or_else(|| {
            errors.push((field, "must be a time of day, such as 08:30"));
            0
        })
    };
    let from_minute = time("from", "from");
    let to_minute = time("to", "to");
    if !errors.is_empty() {
        return Err(AppError::Invalid(
            errors
                .into_iter()
                .map(|(f, m)| siteward_core::validate::FieldError::new(f, m))
                .collect(),
        ));
    }
    Ok(RuleInput {
        site_id: Some(one("site_id").unwrap_or_default().to_owned()),
        // Left out: a rule keeps the device it was limited to through the API.
        device_id: None,
        exceptions: Some(exceptions),
        installer_admins: checked("installer_admins"),
        email: checked("email"),
        webhook: checked("webhook"),
        days: Some(days),
        from_minute: Some(from_minute),
        to_minute: Some(to_minute),
    })
}

fn csrf_of(pairs: &[(String, String)]) -> &str {
    pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str())
}

/// `POST /portal/notifications/rules`: adds a rule.
pub(crate) async fn create(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    check_csrf(&p, csrf_of(&pairs))?;
    let result = match rule_input(&pairs) {
        Ok(input) => s.app.create_exception_rule(&p, input).await,
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(_) => redirect_with(jar, PAGE, true, "Rule added."),
        Err(e) => redirect_with(jar, &format!("{PAGE}#new"), false, &error_text(e)),
    })
}

/// `POST /portal/notifications/rules/{id}`: changes a rule.
pub(crate) async fn update(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    check_csrf(&p, csrf_of(&pairs))?;
    let result = match rule_input(&pairs) {
        Ok(input) => s.app.update_exception_rule(&p, &id, input).await,
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(_) => redirect_with(jar, PAGE, true, "Rule saved."),
        Err(e) => redirect_with(jar, PAGE, false, &error_text(e)),
    })
}

/// `POST /portal/notifications/rules/{id}/delete`.
pub(crate) async fn delete(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    Ok(match s.app.delete_exception_rule(&p, &id).await {
        Ok(()) => redirect_with(jar, PAGE, true, "Rule deleted."),
        Err(e) => redirect_with(jar, PAGE, false, &error_text(e)),
    })
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct WebhookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
}

/// `POST /portal/notifications/webhook`: sets the company webhook.
///
/// On success the page is rendered in the answer itself rather than after a redirect:
/// a secret Siteward generated is shown this once, and it should not travel through
/// the flash cookie. The answer is not stored by the browser (`no-store`).
pub(crate) async fn set_webhook(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Form(f): Form<WebhookForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    let secret = f.secret.trim();
    let input = WebhookInput {
        url: f.url,
        secret: (!secret.is_empty()).then(|| secret.to_owned()),
    };
    match s.app.set_webhook(&p, input).await {
        Ok(view) => {
            let text = if view.secret.is_some() {
                "Webhook saved. Copy its signing secret now: it will not be shown again."
            } else {
                "Webhook saved with the signing secret you gave."
            };
            let flash = Flash {
                kind: "ok",
                text: text.into(),
            };
            let mut res = page_response(&s, &p, Some(flash), Some(view)).await?;
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Err(e) => Ok(redirect_with(
            jar,
            &format!("{PAGE}#webhook"),
            false,
            &error_text(e),
        )),
    }
}
