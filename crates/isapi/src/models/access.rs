//! Access control and video intercom status (JSON, isapi.md §7):
//! `GET /ISAPI/AccessControl/AcsWorkStatus?format=json` and
//! `GET /ISAPI/VideoIntercom/callStatus?format=json`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ParseError;
use crate::json;

/// `AcsWorkStatus`: per-door lock, door and magnetic sensor states.
///
/// The numeric meanings are not mapped in the reference (`doorStatus` `[4]` seen
/// live), so they are kept as numbers; the whole object is kept in `raw`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcsWorkStatus {
    /// `doorLockStatus`, one per door.
    pub door_lock_status: Vec<u32>,
    /// `doorStatus`, one per door.
    pub door_status: Vec<u32>,
    /// `magneticStatus`, one per door.
    pub magnetic_status: Vec<u32>,
    /// The full object as sent.
    pub raw: Value,
}

impl AcsWorkStatus {
    /// Parses the JSON document.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ParseError> {
        let v = json::parse(bytes)?;
        if let Some(e) = super::json_status_error(&v) {
            return Err(e);
        }
        let Some(s) = json::get(&v, "AcsWorkStatus") else {
            return Err(ParseError::UnexpectedRoot {
                expected: "AcsWorkStatus",
                found: v
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .unwrap_or_default(),
            });
        };
        Ok(Self {
            door_lock_status: json::u32_list(s, "doorLockStatus"),
            door_status: json::u32_list(s, "doorStatus"),
            magnetic_status: json::u32_list(s, "magneticStatus"),
            raw: s.clone(),
        })
    }
}

/// Intercom call state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallState {
    /// `idle`.
    Idle,
    /// `ring`: someone pressed the bell.
    Ringing,
    /// `onCall`.
    OnCall,
    /// Anything else, as sent.
    Other(String),
}

/// `CallStatus` of a video intercom or doorbell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallStatus {
    /// Current state.
    pub state: CallState,
}

impl CallStatus {
    /// Parses `{"CallStatus":{"status":"idle"}}`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ParseError> {
        let v = json::parse(bytes)?;
        if let Some(e) = super::json_status_error(&v) {
            return Err(e);
        }
        let s = json::get(&v, "CallStatus").unwrap_or(&v);
        let Some(status) = json::string(s, "status") else {
            return Err(ParseError::Missing("CallStatus.status"));
        };
        let state = match status.to_ascii_lowercase().as_str() {
            "idle" => CallState::Idle,
            "ring" | "ringing" => CallState::Ringing,
            "oncall" => CallState::OnCall,
            _ => CallState::Other(status),
        };
        Ok(Self { state })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acs_and_call_status() {
        let a = AcsWorkStatus::from_json(
            br#"{"AcsWorkStatus":{"doorLockStatus":[0],"doorStatus":[4],"magneticStatus":[0,1]}}"#,
        )
        .expect("parses");
        assert_eq!(a.door_status, vec![4]);
        assert_eq!(a.magnetic_status, vec![0, 1]);
        let c = CallStatus::from_json(br#"{"CallStatus":{"status":"ring"}}"#).expect("parses");
        assert_eq!(c.state, CallState::Ringing);
        assert!(CallStatus::from_json(br#"{"CallStatus":{}}"#).is_err());
    }
}
