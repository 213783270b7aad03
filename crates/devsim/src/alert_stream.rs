//! `GET /ISAPI/Event/notification/alertStream`: an endless `multipart/mixed` body carrying
//! the device's events as they are emitted, plus the `videoloss inactive` heartbeat at the
//! configured interval (isapi.md §3). The stream ends when the device goes offline.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use bytes::Bytes;
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::device::{Device, Gate};
use crate::events::{self, AlertPart};
use crate::respond::Reply;
use crate::spec::DeviceKind;

/// The boundary this kind of device uses.
fn boundary(dev: &Device) -> &'static str {
    match dev.id.kind {
        DeviceKind::AccessControl | DeviceKind::VideoIntercom | DeviceKind::ControlPanel => {
            "MIME_boundary"
        }
        _ => "boundary",
    }
}

/// One multipart part, framed as real devices frame it.
pub fn frame(boundary: &str, part: &AlertPart) -> Bytes {
    Bytes::from(format!(
        "--{boundary}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}\r\n",
        part.content_type,
        part.body.len(),
        part.body
    ))
}

struct StreamState {
    dev: Arc<Device>,
    events: broadcast::Receiver<Arc<AlertPart>>,
    gate: watch::Receiver<Gate>,
    tick: Interval,
    boundary: &'static str,
}

/// The streaming response.
pub(crate) fn alert_stream(dev: Arc<Device>) -> Reply {
    let period = dev
        .options
        .heartbeat
        .max(std::time::Duration::from_millis(10));
    let mut tick = tokio::time::interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let b = boundary(&dev);
    let state = StreamState {
        events: dev.subscribe(),
        gate: dev.gate_rx(),
        dev: Arc::clone(&dev),
        tick,
        boundary: b,
    };
    let stream = futures::stream::unfold(state, |mut s| async move {
        loop {
            tokio::select! {
                r = s.events.recv() => match r {
                    Ok(part) => {
                        let bytes = frame(s.boundary, &part);
                        return Some((Ok::<Bytes, std::io::Error>(bytes), s));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = s.tick.tick() => {
                    let bytes = frame(s.boundary, &events::heartbeat(&s.dev));
                    return Some((Ok(bytes), s));
                }
                r = s.gate.changed() => {
                    if r.is_err() || *s.gate.borrow() != Gate::Open {
                        return None;
                    }
                }
            }
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert("MIME-Version", HeaderValue::from_static("1.0"));
    if let Ok(v) = HeaderValue::from_str(&format!("multipart/mixed; boundary={b}")) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    r
}
