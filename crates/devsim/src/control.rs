//! The simulator's HTTP control API (a fixed public contract):
//! `GET /devices`, `GET /devices/{serial}`, `PUT|DELETE /devices/{serial}/faults/{fault}`
//! (optional JSON parameters) and `POST /devices/{serial}/events`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::device::{DeviceHandle, DeviceInfo};
use crate::events::{EventError, EventKind};
use crate::faults::{Fault, FaultError, FaultKind};
use crate::fleet::FleetInner;

type Shared = Arc<FleetInner>;

/// A device-list entry with the faults now active.
#[derive(Debug, Serialize)]
struct DeviceStatus {
    #[serde(flatten)]
    info: DeviceInfo,
    faults: Vec<Value>,
}

fn status_of(d: &DeviceHandle) -> DeviceStatus {
    DeviceStatus {
        info: d.info(),
        faults: d
            .faults()
            .iter()
            .map(|f| json!({ "fault": f.kind().as_str(), "params": f.params_json() }))
            .collect(),
    }
}

fn error(status: StatusCode, msg: impl ToString) -> Response {
    (status, Json(json!({ "error": msg.to_string() }))).into_response()
}

fn fault_error(e: FaultError) -> Response {
    let status = match e {
        FaultError::NotApplicable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        FaultError::Unknown(_) | FaultError::BadParams { .. } => StatusCode::BAD_REQUEST,
    };
    error(status, e)
}

fn event_error(e: EventError) -> Response {
    let status = match e {
        EventError::Unknown(_) => StatusCode::BAD_REQUEST,
        EventError::NotApplicable { .. } | EventError::OutOfRange { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    error(status, e)
}

fn find(fleet: &FleetInner, serial: &str) -> Result<DeviceHandle, Box<Response>> {
    fleet.get(serial).cloned().ok_or_else(|| {
        Box::new(error(
            StatusCode::NOT_FOUND,
            format!("no device with serial `{serial}`"),
        ))
    })
}

fn json_body(body: &Bytes) -> Result<Value, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("body is not JSON: {e}"),
        ))
    })
}

async fn list(State(fleet): State<Shared>) -> Json<Vec<DeviceStatus>> {
    Json(fleet.devices.iter().map(status_of).collect())
}

async fn one(State(fleet): State<Shared>, Path(serial): Path<String>) -> Response {
    match find(&fleet, &serial) {
        Ok(d) => Json(status_of(&d)).into_response(),
        Err(r) => *r,
    }
}

async fn set_fault(
    State(fleet): State<Shared>,
    Path((serial, fault)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let dev = match find(&fleet, &serial) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let params = match json_body(&body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    match Fault::from_name(&fault, &params).and_then(|f| dev.set_fault(f)) {
        Ok(()) => Json(status_of(&dev)).into_response(),
        Err(e) => fault_error(e),
    }
}

#[derive(Debug, Deserialize)]
struct ChannelQuery {
    channel: Option<u32>,
}

async fn clear_fault(
    State(fleet): State<Shared>,
    Path((serial, fault)): Path<(String, String)>,
    Query(q): Query<ChannelQuery>,
    body: Bytes,
) -> Response {
    let dev = match find(&fleet, &serial) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let kind: FaultKind = match fault.parse() {
        Ok(k) => k,
        Err(e) => return fault_error(e),
    };
    let params = match json_body(&body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let channel = q.channel.or_else(|| {
        params
            .get("channel")
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok())
    });
    dev.clear_fault_channel(kind, channel);
    Json(status_of(&dev)).into_response()
}

#[derive(Debug, Deserialize)]
struct EventRequest {
    event_type: String,
    #[serde(default)]
    channel: Option<u32>,
    #[serde(default)]
    zone: Option<u32>,
}

async fn emit(State(fleet): State<Shared>, Path(serial): Path<String>, body: Bytes) -> Response {
    let dev = match find(&fleet, &serial) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let req: EventRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected {{event_type, channel?, zone?}}: {e}"),
            );
        }
    };
    let kind: EventKind = match req.event_type.parse() {
        Ok(k) => k,
        Err(e) => return event_error(e),
    };
    match dev.emit(kind, req.channel, req.zone) {
        Ok(delivered) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "serial": serial,
                "event_type": kind.as_str(),
                "channel": req.channel,
                "zone": req.zone,
                "delivered_to_streams": delivered,
            })),
        )
            .into_response(),
        Err(e) => event_error(e),
    }
}

pub(crate) fn router(fleet: Shared) -> Router {
    Router::new()
        .route("/devices", get(list))
        .route("/devices/{serial}", get(one))
        .route(
            "/devices/{serial}/faults/{fault}",
            put(set_fault).delete(clear_fault),
        )
        .route("/devices/{serial}/events", post(emit))
        .with_state(fleet)
}
