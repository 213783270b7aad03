//! Health, inspections and the live event stream.

use super::{Body, ListPage, Pagination, path_id};
use crate::AppState;
use crate::auth::Auth;
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use siteward_app::{
    App, DeviceHealthView, Event, HealthItem, HealthQuery, InspectionRequest, InspectionView,
    Principal, SiteHealth,
};
use siteward_core::SiteId;
use siteward_core::policy::Actor;
use std::collections::HashSet;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// Devices with their normalized status, worst first; filter by site, type and level,
/// search by name or serial.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", security(("bearer" = [])), params(HealthQuery, Pagination),
    responses((status = 200, body = ListPage<HealthItem>), (status = 400, body = Problem)))]
pub(crate) async fn health_list(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<HealthQuery>,
    Query(page): Query<Pagination>,
) -> Result<Json<ListPage<HealthItem>>, Problem> {
    Ok(Json(
        s.app
            .health_list(&p, &q, page.cursor(), page.limit()?)
            .await?
            .into(),
    ))
}

/// Counts of devices by level per site, worst sites first.
#[utoipa::path(get, path = "/api/v1/health/sites", tag = "health", security(("bearer" = [])),
    responses((status = 200, body = Vec<SiteHealth>)))]
pub(crate) async fn health_summary(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<Vec<SiteHealth>>, Problem> {
    Ok(Json(s.app.health_summary(&p).await?))
}

/// One device's full status and history.
#[utoipa::path(get, path = "/api/v1/devices/{id}/health", tag = "health", security(("bearer" = [])),
    responses((status = 200, body = DeviceHealthView), (status = 404, body = Problem)))]
pub(crate) async fn device_health(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<DeviceHealthView>, Problem> {
    Ok(Json(
        s.app.device_health(&p, path_id(&id, "device")?).await?,
    ))
}

/// Starts a manual inspection of a device, a site or everything you may see;
/// answers at once with its id.
#[utoipa::path(post, path = "/api/v1/inspections", tag = "health", security(("bearer" = [])), request_body = InspectionRequest,
    responses((status = 202, body = InspectionView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn start_inspection(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(req): Body<InspectionRequest>,
) -> Result<impl IntoResponse, Problem> {
    Ok((
        StatusCode::ACCEPTED,
        Json(s.app.start_inspection(&p, req).await?),
    ))
}

/// A manual inspection's progress.
#[utoipa::path(get, path = "/api/v1/inspections/{id}", tag = "health", security(("bearer" = [])),
    responses((status = 200, body = InspectionView), (status = 404, body = Problem)))]
pub(crate) async fn inspection(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<InspectionView>, Problem> {
    Ok(Json(s.app.inspection(&p, &id).await?))
}

/// Which events a person may receive: his company's, and for a Site Manager only
/// those of his sites (the set is reloaded when an unknown site shows up).
struct Visibility {
    app: App,
    principal: Principal,
    sites: Option<HashSet<SiteId>>,
    loaded: Instant,
}

impl Visibility {
    async fn new(app: App, principal: Principal) -> Self {
        let mut v = Self {
            app,
            principal,
            sites: None,
            loaded: Instant::now(),
        };
        v.reload().await;
        v
    }

    async fn reload(&mut self) {
        self.loaded = Instant::now();
        if matches!(self.principal.actor, Actor::EndUser(_)) {
            // An owner hears of the health of the devices of the sites they own.
            self.sites = Some(match self.app.my_sites(&self.principal).await {
                Ok(mine) => mine
                    .items
                    .iter()
                    .filter_map(|s| s.id.parse::<SiteId>().ok())
                    .collect(),
                Err(_) => HashSet::new(),
            });
            return;
        }
        if !matches!(self.principal.actor, Actor::Installer(i) if i.role == siteward_core::Role::SiteManager)
        {
            self.sites = None;
            return;
        }
        let mut set = HashSet::new();
        let mut cursor: Option<String> = None;
        while let Ok(page) = self
            .app
            .list_sites(&self.principal, cursor.as_deref(), 200)
            .await
        {
            set.extend(
                page.items
                    .iter()
                    .filter_map(|s| s.id.parse::<SiteId>().ok()),
            );
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        self.sites = Some(set);
    }

    async fn allows(&mut self, e: &Event) -> bool {
        if let Actor::EndUser(me) = self.principal.actor {
            if e.end_user_id() == Some(me) {
                if matches!(e, Event::HandoverChanged { .. }) {
                    // A site may have become mine (or stopped being mine).
                    self.reload().await;
                }
                return true;
            }
            let Event::HealthChanged { site_id, .. } = e else {
                return false;
            };
            if !self.sites.as_ref().is_some_and(|s| s.contains(site_id))
                && self.loaded.elapsed() > Duration::from_secs(30)
            {
                self.reload().await;
            }
            return self.sites.as_ref().is_some_and(|s| s.contains(site_id));
        }
        if !e.for_installers()
            || e.company_id().is_none()
            || e.company_id() != self.principal.company_id()
        {
            return false;
        }
        let (Some(site), Some(_)) = (e.site_id(), &self.sites) else {
            return true;
        };
        if self.sites.as_ref().is_some_and(|s| s.contains(&site)) {
            return true;
        }
        if self.loaded.elapsed() > Duration::from_secs(30) {
            self.reload().await;
        }
        self.sites.as_ref().is_some_and(|s| s.contains(&site))
    }
}

/// Live updates as server-sent events: `health_changed` and `inspection_progress`,
/// each with a JSON body; a `lagged` event asks the client to reload.
#[utoipa::path(get, path = "/api/v1/events", tag = "health", security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream")))]
pub(crate) async fn events(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = s.app.events().subscribe();
    let visibility = Visibility::new(s.app.clone(), p).await;
    let stream = futures::stream::unfold((rx, visibility), |(mut rx, mut vis)| async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if !vis.allows(&e).await {
                        continue;
                    }
                    let data = serde_json::to_string(&e).unwrap_or_default();
                    return Some((
                        Ok(SseEvent::default().event(e.kind()).data(data)),
                        (rx, vis),
                    ));
                }
                Err(RecvError::Lagged(_)) => {
                    return Some((
                        Ok(SseEvent::default().event("lagged").data("{}")),
                        (rx, vis),
                    ));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
