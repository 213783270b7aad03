//! The Health page and manual inspections from the portal.

use super::session::CsrfForm;
use super::svg;
use super::{
    Layout, PageError, PortalUser, check_csrf, error_text, redirect_with, render, take_flash,
};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use siteward_app::{HealthItem, HealthQuery, InspectionRequest};
use siteward_core::DeviceType;
use siteward_core::health::Level;

/// Whether the page's script asked only for the live part named `id`.
pub(crate) fn wants_partial(headers: &HeaderMap, id: &str) -> bool {
    headers.get("x-partial").and_then(|v| v.to_str().ok()) == Some(id)
}

pub(crate) fn level_of(s: &str) -> Level {
    s.parse().unwrap_or(Level::Unknown)
}

pub(crate) struct SiteCard {
    id: String,
    name: String,
    worst: &'static str,
    worst_label: &'static str,
    stack: String,
    summary: String,
    selected: bool,
}

pub(crate) struct Row {
    device_id: String,
    name: String,
    model: String,
    serial: String,
    site_name: String,
    type_label: &'static str,
    level: &'static str,
    level_label: &'static str,
    reasons: Vec<(String, &'static str)>,
    inspected: String,
}

fn row(i: HealthItem) -> Row {
    let level = level_of(i.level);
    Row {
        type_label: i
            .device_type
            .parse::<DeviceType>()
            .map_or("Device", DeviceType::label),
        level: level.as_str(),
        level_label: level.label(),
        reasons: i.reasons.into_iter().map(|r| (r.text, r.level)).collect(),
        inspected: i.last_inspected_at.map_or_else(
            || "not yet".into(),
            |t| t.get(..16).unwrap_or(&t).replace('T', " "),
        ),
        device_id: i.device_id,
        name: i.name,
        model: i.model,
        serial: i.serial,
        site_name: i.site_name,
    }
}

#[derive(Template)]
#[template(path = "health_table.html")]
struct HealthTable {
    sites: Vec<SiteCard>,
    rows: Vec<Row>,
    next_cursor: Option<String>,
    more_href: String,
    filtered: bool,
}

#[derive(Template)]
#[template(path = "health.html")]
struct HealthPage {
    layout: Layout,
    sites: Vec<SiteCard>,
    types: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    filter_type: String,
    filter_level: String,
    filter_q: String,
    inspection_id: String,
    rows: Vec<Row>,
    next_cursor: Option<String>,
    more_href: String,
    filtered: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(flatten)]
    health: HealthQuery,
    cursor: Option<String>,
    inspection: Option<String>,
}

pub(crate) async fn page(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let list = s
        .app
        .health_list(&p, &q.health, q.cursor.as_deref(), 200)
        .await;
    let (rows, next_cursor, bad_filter) = match list {
        Ok(page) => (
            page.items.into_iter().map(row).collect(),
            page.next_cursor,
            None,
        ),
        Err(e) => (Vec::new(), None, Some(error_text(e))),
    };
    let h = &q.health;
    let filtered = [&h.site_id, &h.device_type, &h.level, &h.q]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
    let mut more = url_params(h);
    more.push_str("cursor=");
    let more_href = format!("/portal/health?{more}");
    let selected = h.site_id.clone().unwrap_or_default();
    let sites = s
        .app
        .health_summary(&p)
        .await?
        .into_iter()
        .map(|site| {
            let counts: Vec<(Level, i64)> =
                site.counts.iter().map(|(l, n)| (level_of(l), *n)).collect();
            let summary = Level::WORST_FIRST
                .iter()
                .filter_map(|l| {
                    site.counts
                        .get(l.as_str())
                        .map(|n| format!("{n} {}", l.as_str()))
                })
                .collect::<Vec<_>>()
                .join(" · ");
            let worst = level_of(site.worst);
            SiteCard {
                selected: site.site_id == selected,
                stack: svg::level_stack(&counts),
                worst: worst.as_str(),
                worst_label: worst.label(),
                id: site.site_id,
                name: site.site_name,
                summary,
            }
        })
        .collect();
    if wants_partial(&headers, "health-live") {
        return Ok(render(&HealthTable {
            sites,
            rows,
            next_cursor,
            more_href,
            filtered,
        }));
    }
    // entering the page asks for fresh status; the page does not wait for it.
    if let Err(e) = s.app.refresh_health(&p).await {
        tracing::warn!(error = %e, "health refresh not scheduled");
    }
    let (jar, mut flash) = take_flash(jar);
    if let Some(text) = bad_filter {
        flash = Some(super::Flash {
            kind: "error",
            text,
        });
    }
    let page = HealthPage {
        layout: Layout::new(&s, &p, "Health", flash).await?,
        sites,
        types: DeviceType::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
        levels: Level::WORST_FIRST
            .iter()
            .map(|l| (l.as_str(), l.label()))
            .collect(),
        filter_type: h.device_type.clone().unwrap_or_default(),
        filter_level: h.level.clone().unwrap_or_default(),
        filter_q: h.q.clone().unwrap_or_default(),
        inspection_id: q.inspection.unwrap_or_default(),
        rows,
        next_cursor,
        more_href,
        filtered,
    };
    Ok((jar, render(&page)).into_response())
}

fn url_params(h: &HealthQuery) -> String {
    let mut out = String::new();
    for (k, v) in [
        ("site_id", &h.site_id),
        ("type", &h.device_type),
        ("level", &h.level),
        ("q", &h.q),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            let enc: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            out.push_str(&format!("{k}={enc}&"));
        }
    }
    out
}

#[derive(Debug, Deserialize)]
pub(crate) struct InspectForm {
    #[serde(flatten)]
    csrf: CsrfForm,
    #[serde(default)]
    scope: String,
    id: Option<String>,
}

pub(crate) async fn inspect(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Form(f): Form<InspectForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf.csrf)?;
    let back = match (&*f.scope, &f.id) {
        ("device", Some(id)) => format!("/portal/devices/{id}"),
        _ => "/portal/health".to_owned(),
    };
    Ok(
        match s
            .app
            .start_inspection(
                &p,
                InspectionRequest {
                    scope: f.scope,
                    id: f.id,
                },
            )
            .await
        {
            Ok(i) if back == "/portal/health" => redirect_with(
                jar,
                &format!("/portal/health?inspection={}", i.id),
                true,
                &format!("Inspecting {} devices…", i.total),
            ),
            Ok(_) => redirect_with(jar, &back, true, "Inspecting the device…"),
            Err(e) => redirect_with(jar, &back, false, &error_text(e)),
        },
    )
}
