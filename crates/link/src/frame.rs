//! The frames of link protocol version 1 (`docs/link-protocol.md`): one JSON object
//! per WebSocket text frame, told apart by `type`. Decoding never panics; anything
//! malformed or too large is a [`FrameError`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The protocol version this crate speaks.
pub const VERSION: u32 = 1;
/// The WebSocket subprotocol name.
pub const SUBPROTOCOL: &str = "siteward-link.1";
/// The path of the endpoint on the server.
pub const PATH: &str = "/link/v1";
/// The largest frame either side accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;
/// The most devices one connection may register (a bridge).
pub const MAX_DEVICES_PER_LINK: usize = 256;
/// The most unacknowledged events a device keeps in flight.
pub const MAX_EVENTS_IN_FLIGHT: usize = 1024;
/// The longest serial number accepted.
pub const MAX_SERIAL_LEN: usize = 64;

/// Close codes (WebSocket close frames).
pub mod close {
    /// The server is stopping.
    pub const GOING_AWAY: u16 = 1001;
    /// Frame too large.
    pub const TOO_LARGE: u16 = 1009;
    /// Malformed frame.
    pub const MALFORMED: u16 = 4400;
    /// Every proof rejected.
    pub const REJECTED: u16 = 4401;
    /// No `register` in time, or silent too long.
    pub const TIMEOUT: u16 = 4408;
    /// Replaced by a newer connection of the same serial.
    pub const REPLACED: u16 = 4409;
    /// Too many failed proofs.
    pub const THROTTLED: u16 = 4429;
}

/// One frame, either direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame {
    /// Server → device, first: the nonce to prove against.
    Hello(Hello),
    /// Device → server: the devices this connection serves, with their proofs.
    Register(Register),
    /// Server → device: the outcome per device.
    Registered(Registered),
    /// Server → device: an ISAPI request.
    Request(LinkRequest),
    /// Device → server: its answer.
    Response(LinkResponse),
    /// Device → server: an event.
    Event(LinkEvent),
    /// Server → device: the event (and every earlier one of its epoch) is stored.
    Ack(Ack),
    /// Server → device: a newer connection serves this serial now.
    Replaced(Replaced),
    /// Either way: something in a frame was not understood.
    Error(ErrorFrame),
}

/// `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol version.
    pub version: u32,
    /// 32 random bytes, hex.
    pub nonce: String,
    /// How often each side pings.
    pub heartbeat_secs: u32,
    /// After how long without a frame the server calls the device offline.
    pub silence_limit_secs: u32,
}

/// `register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// The device side's software, for the logs.
    #[serde(default)]
    pub agent: String,
    /// 32 random bytes, hex: what the server proves itself against.
    pub nonce: String,
    /// The devices served, each with its proof.
    pub devices: Vec<DeviceClaim>,
}

/// One device in `register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceClaim {
    /// Serial number.
    pub serial: String,
    /// The device proof, hex.
    pub proof: String,
    /// The name of the device's event counter.
    pub epoch: String,
    /// A hint of the device's type (`ipc`, `nvr`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
}

/// `registered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    /// One outcome per device.
    pub devices: Vec<DeviceOutcome>,
}

/// How the server took one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The proof is right; the server uses the device.
    Accepted,
    /// No installer added this serial yet; the proof is kept while connected.
    Waiting,
    /// The proof is wrong.
    Rejected,
}

/// One device in `registered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceOutcome {
    /// Serial number.
    pub serial: String,
    /// Accepted, waiting or rejected.
    pub state: Outcome,
    /// The server proof (accepted only), hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_proof: Option<String>,
    /// The last stored event of the device's epoch (accepted only).
    #[serde(default)]
    pub acked_seq: u64,
    /// Why, in words (rejected, waiting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRequest {
    /// Chosen by the server; unique among its open requests on the connection.
    pub id: u64,
    /// The device asked.
    pub serial: String,
    /// HTTP method.
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Header names and values.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Base64.
    #[serde(default)]
    pub body: String,
}

/// `response`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkResponse {
    /// The request's id.
    pub id: u64,
    /// HTTP status, when the device answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Header names and values.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Base64.
    #[serde(default)]
    pub body: String,
    /// Why there is no answer: `unreachable`, `timeout`, `too_large`, `unknown_device`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Details of the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkEvent {
    /// The device.
    pub serial: String,
    /// The device's event counter.
    pub epoch: String,
    /// 1, 2, 3, … within the epoch.
    pub seq: u64,
    /// One `EventNotificationAlert` document.
    pub xml: String,
}

/// `ack`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The device.
    pub serial: String,
    /// The device's event counter.
    pub epoch: String,
    /// Every event up to this one is stored.
    pub seq: u64,
}

/// `replaced`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replaced {
    /// The device now served elsewhere.
    pub serial: String,
}

/// `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// What was wrong.
    pub message: String,
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Over [`MAX_FRAME_BYTES`].
    #[error("frame of {size} bytes is over the limit of {MAX_FRAME_BYTES}")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// Not a frame of this protocol.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

impl FrameError {
    /// The WebSocket close code that goes with it.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => close::TOO_LARGE,
            Self::Malformed(_) => close::MALFORMED,
        }
    }
}

impl Frame {
    /// Reads one text frame.
    pub fn decode(text: &str) -> Result<Self, FrameError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge { size: text.len() });
        }
        let frame: Frame =
            serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))?;
        frame.check()?;
        Ok(frame)
    }

    /// Writes the frame as JSON text.
    pub fn encode(&self) -> String {
        // Serializing these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Bounds that serde alone does not check.
    fn check(&self) -> Result<(), FrameError> {
        let bad = |m: &str| Err(FrameError::Malformed(m.to_owned()));
        match self {
            Frame::Register(r) => {
                if r.devices.is_empty() || r.devices.len() > MAX_DEVICES_PER_LINK {
                    return bad("register must name 1 to 256 devices");
                }
                if r.devices.iter().any(|d| !valid_serial(&d.serial)) {
                    return bad("a serial number is empty, too long or has control characters");
                }
                Ok(())
            }
            Frame::Request(r) if !r.path.starts_with('/') => bad("request path must start with /"),
            Frame::Event(e) if e.seq == 0 => bad("event seq starts at 1"),
            Frame::Event(e) if !valid_serial(&e.serial) => bad("bad serial number"),
            _ => Ok(()),
        }
    }
}

/// Whether a serial number is acceptable: 1 to 64 printable characters.
pub fn valid_serial(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SERIAL_LEN && s.chars().all(|c| !c.is_control())
}

/// Base64 of a body.
pub fn encode_body(body: &[u8]) -> String {
    STANDARD.encode(body)
}

/// A body from base64.
pub fn decode_body(body: &str) -> Result<Vec<u8>, FrameError> {
    STANDARD
        .decode(body)
        .map_err(|e| FrameError::Malformed(format!("body is not base64: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_read_as_the_protocol_document_writes_them() {
        let hello = Frame::decode(
            r#"{"type":"hello","version":1,"nonce":"ab","heartbeat_secs":20,"silence_limit_secs":60}"#,
        )
        .expect("hello");
        assert!(matches!(hello, Frame::Hello(Hello { version: 1, .. })));
        let resp = Frame::decode(
            r#"{"type":"response","id":42,"error":"unreachable","detail":"connection refused"}"#,
        )
        .expect("response");
        let Frame::Response(r) = resp else {
            panic!("not a response")
        };
        assert_eq!(
            (r.id, r.status, r.error.as_deref()),
            (42, None, Some("unreachable"))
        );
        let ev = Frame::Event(LinkEvent {
            serial: "S1".into(),
            epoch: "e".into(),
            seq: 3,
            xml: "<x/>".into(),
        });
        assert_eq!(Frame::decode(&ev.encode()), Ok(ev));
    }

    #[test]
    fn malformed_frames_are_refused_with_a_reason() {
        for (text, why) in [
            ("not json", "not JSON"),
            (r#"{"type":"teleport"}"#, "unknown type"),
            (
                r#"{"type":"register","nonce":"a","devices":[]}"#,
                "no devices",
            ),
            (
                r#"{"type":"register","nonce":"a","devices":[{"serial":"","proof":"p","epoch":"e"}]}"#,
                "empty serial",
            ),
            (
                r#"{"type":"event","serial":"S","epoch":"e","seq":0,"xml":""}"#,
                "seq 0",
            ),
            (
                r#"{"type":"request","id":1,"serial":"S","method":"GET","path":"ISAPI"}"#,
                "relative path",
            ),
        ] {
            assert!(
                matches!(Frame::decode(text), Err(FrameError::Malformed(_))),
                "{why}: {text}"
            );
        }
        let big = format!(
            r#"{{"type":"error","message":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(
            Frame::decode(&big).map_err(|e| e.close_code()),
            Err(close::TOO_LARGE)
        );
    }

    #[test]
    fn bodies_round_trip_through_base64() {
        let body = b"<DeviceInfo>\x00\xff</DeviceInfo>";
        assert_eq!(decode_body(&encode_body(body)).expect("b64"), body);
        assert!(decode_body("!!").is_err());
    }

    proptest! {
        /// Whatever arrives, decoding answers without panicking.
        #[test]
        fn decoding_never_panics(text in ".{0,300}") {
            let _ = Frame::decode(&text);
        }

        /// Frames that decode encode back to the same frame.
        #[test]
        fn decoded_frames_round_trip(id in any::<u64>(), serial in "[A-Z0-9]{1,20}", path in "/[a-zA-Z/]{0,30}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let f = Frame::Request(LinkRequest {
                id, serial, method: "GET".into(), path,
                headers: vec![("accept".into(), "application/xml".into())],
                body: encode_body(&body),
            });
            prop_assert_eq!(Frame::decode(&f.encode()), Ok(f));
        }
    }
}
