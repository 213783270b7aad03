//! The Notifications page: my notifications, newest first, each marked read
//! or its problem acknowledged with a small form.

use super::session::CsrfForm;
use super::{
    Layout, PageError, PortalUser, check_csrf, error_text, redirect_with, render, take_flash,
};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use siteward_app::NotificationView;

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    items: Vec<NotificationView>,
    unread: i64,
}

impl NotificationsPage {
    /// "2026-11-25 05:00" from RFC 3339.
    fn when(&self, t: &str) -> String {
        t.get(..16).unwrap_or(t).replace('T', " ")
    }
}

pub(crate) async fn page(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let (jar, flash) = take_flash(jar);
    let layout = Layout::new(&s, &p, "Notifications", flash).await?;
    let list = s.app.notifications(&p, None, 100).await?;
    Ok((
        jar,
        render(&NotificationsPage {
            layout,
            items: list.items,
            unread: list.unread,
        }),
    )
        .into_response())
}

pub(crate) async fn read(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    Ok(match s.app.mark_notification_read(&p, &id).await {
        Ok(()) => redirect_with(jar, "/portal/notifications", true, "Marked as read."),
        Err(e) => redirect_with(jar, "/portal/notifications", false, &error_text(e)),
    })
}

pub(crate) async fn acknowledge(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    Ok(match s.app.acknowledge_notification(&p, &id).await {
        Ok(_) => redirect_with(
            jar,
            "/portal/notifications",
            true,
            "Acknowledged: no more reminders until the device changes again.",
        ),
        Err(e) => redirect_with(jar, "/portal/notifications", false, &error_text(e)),
    })
}
