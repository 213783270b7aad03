//! Video intercom and doorbell JSON (`/ISAPI/VideoIntercom/...?format=json`, isapi.md §7):
//! call status (a pressed doorbell rings), call signalling and capabilities.

use std::time::Instant;

use serde_json::{Value, json};

use crate::device::{Call, State};

/// The call status word: `idle`, `ring` or `onCall`.
pub fn call_word(st: &State) -> &'static str {
    match st.call {
        Call::Ring(until) if until > Instant::now() => "ring",
        Call::Talking => "onCall",
        _ => "idle",
    }
}

/// `GET /ISAPI/VideoIntercom/callStatus?format=json`.
pub fn call_status(st: &State) -> String {
    json!({"CallStatus": {"status": call_word(st)}}).to_string()
}

/// Applies `PUT /ISAPI/VideoIntercom/callSignal?format=json`; `Err` for a malformed body.
pub fn call_signal(st: &mut State, body: &str) -> Result<(), ()> {
    let v: Value = serde_json::from_str(body).map_err(|_| ())?;
    let cmd = v["CallSignal"]["cmdType"].as_str().ok_or(())?;
    let ringing = call_word(st) == "ring";
    st.call = match cmd {
        "answer" if ringing => Call::Talking,
        "answer" => return Err(()),
        "reject" | "hangUp" | "bellTimeout" => Call::Idle,
        "deviceOnCall" => Call::Talking,
        _ => return Err(()),
    };
    Ok(())
}

/// `GET /ISAPI/VideoIntercom/capabilities?format=json`.
pub fn capabilities() -> String {
    json!({"VideoIntercomCap": {
        "isSupportCallStatus": true,
        "isSupportCallSignal": true,
        "isSupportCallerInfo": false,
        "isSupportKeyCfg": true,
        "CallSignal": {"cmdType": {"@opt": "answer,reject,bellTimeout,hangUp,deviceOnCall"}},
    }})
    .to_string()
}
