//! Access-control terminal JSON (`/ISAPI/AccessControl/...?format=json`, isapi.md §7): work
//! status, capabilities, user count and the event-log search.

use std::time::Instant;

use serde_json::{Value, json};

use crate::device::{Device, State};

/// `GET /ISAPI/AccessControl/AcsWorkStatus?format=json`. A door opened through an event or
/// remote control shows open (lock 1, contact 1) for a few seconds.
pub fn work_status(dev: &Device, st: &State) -> String {
    let open = st.door_open_until.is_some_and(|t| t > Instant::now());
    let o = u32::from(open);
    json!({"AcsWorkStatus": {
        "doorLockStatus": [o],
        "doorStatus": [if open { 1 } else { 4 }],
        "magneticStatus": [o],
        "caseStatus": [],
        "antiSneakStatus": "close",
        "hostAntiDismantleStatus": "close",
        "cardReaderOnlineStatus": [1],
        "cardReaderAntiDismantleStatus": [0],
        "cardReaderVerifyMode": [1],
        "cardNum": dev.id.users / 2,
        "netStatus": "connected",
    }})
    .to_string()
}

/// `GET /ISAPI/AccessControl/capabilities?format=json`.
pub fn capabilities() -> String {
    json!({"AcsCap": {
        "isSupportRemoteControlDoor": true,
        "isSupportAcsEvent": true,
        "isSupportAcsWorkStatus": true,
        "isSupportUserInfo": true,
        "isSupportCardInfo": true,
        "isSupportFDLib": true,
        "doorNum": 1,
    }})
    .to_string()
}

/// `GET /ISAPI/AccessControl/UserInfo/Count?format=json`.
pub fn user_count(dev: &Device) -> String {
    json!({"UserInfoCount": {
        "userNumber": dev.id.users,
        "bindFaceUserNumber": dev.id.users * 4 / 5,
        "bindCardUserNumber": dev.id.users / 2,
    }})
    .to_string()
}

/// `POST /ISAPI/AccessControl/AcsEvent?format=json` — pages through the events emitted so far
/// (newest last), honouring `searchResultPosition`, `maxResults` (≤ 30) and `major`/`minor`.
pub fn event_search(st: &State, body: &str) -> String {
    let cond: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let c = &cond["AcsEventCond"];
    let search_id = c["searchID"].as_str().unwrap_or("1").to_string();
    let pos = c["searchResultPosition"].as_u64().unwrap_or(0) as usize;
    let max = c["maxResults"].as_u64().unwrap_or(30).clamp(1, 30) as usize;
    let major = c["major"].as_u64().unwrap_or(0) as u32;
    let minor = c["minor"].as_u64().unwrap_or(0) as u32;
    let matching: Vec<_> = st
        .acs_log
        .iter()
        .filter(|r| (major == 0 || r.major == major) && (minor == 0 || r.minor == minor))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(pos)
        .take(max)
        .map(|r| {
            json!({
                "major": r.major,
                "minor": r.minor,
                "time": r.time,
                "serialNo": r.serial_no,
                "doorNo": r.door,
                "type": 0,
                "currentVerifyMode": "invalid",
                "mask": "unknown",
            })
        })
        .collect();
    let total = matching.len();
    let status = if page.is_empty() {
        "NO MATCH"
    } else if pos + page.len() < total {
        "MORE"
    } else {
        "OK"
    };
    json!({"AcsEvent": {
        "searchID": search_id,
        "responseStatusStrg": status,
        "numOfMatches": page.len(),
        "totalMatches": total,
        "InfoList": page,
    }})
    .to_string()
}
