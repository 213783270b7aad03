//! Tolerant accessors for JSON documents (`?format=json` endpoints, AX Pro, ACS).
//!
//! Devices mix numbers and numeric strings, and wrap objects in one-key
//! envelopes (`{"Battery": {...}}`); these helpers smooth that over.

use serde_json::Value;

use crate::error::ParseError;
use crate::value;

/// Parses bytes as JSON (BOM and surrounding whitespace tolerated).
pub fn parse(bytes: &[u8]) -> Result<Value, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))
}

/// Field lookup: exact key first, then ASCII case-insensitive.
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A string field (numbers and booleans are rendered as text).
pub fn string(v: &Value, key: &str) -> Option<String> {
    match get(v, key)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An unsigned integer field (number or numeric string).
pub fn u64(v: &Value, key: &str) -> Option<u64> {
    as_u64(get(v, key)?)
}

/// A `u32` field.
pub fn u32(v: &Value, key: &str) -> Option<u32> {
    u64(v, key).and_then(|n| u32::try_from(n).ok())
}

/// A float field.
pub fn f64(v: &Value, key: &str) -> Option<f64> {
    match get(v, key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => value::parse_f64(s),
        _ => None,
    }
}

/// A boolean field (`true`, `"true"`, `1`, …).
pub fn bool(v: &Value, key: &str) -> Option<bool> {
    match get(v, key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_u64().map(|n| n != 0),
        Value::String(s) => value::parse_bool(s),
        _ => None,
    }
}

/// Converts a number or numeric string to `u64`.
pub fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().and_then(|f| value::parse_u64(&f.to_string()))),
        Value::String(s) => value::parse_u64(s),
        _ => None,
    }
}

/// List items, unwrapping one-key envelopes: `[{"Zone": {...}}]` → `[{...}]`.
/// A single object where a list was expected is treated as a list of one.
pub fn items<'a>(v: Option<&'a Value>, envelope: &str) -> Vec<&'a Value> {
    let unwrap = |item: &'a Value| get(item, envelope).unwrap_or(item);
    match v {
        Some(Value::Array(a)) => a.iter().map(unwrap).collect(),
        Some(obj @ Value::Object(_)) => vec![unwrap(obj)],
        _ => Vec::new(),
    }
}

/// Numbers from an array field, or a single number as a list of one.
pub fn u32_list(v: &Value, key: &str) -> Vec<u32> {
    match get(v, key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(as_u64)
            .filter_map(|n| u32::try_from(n).ok())
            .collect(),
        Some(other) => as_u64(other)
            .and_then(|n| u32::try_from(n).ok())
            .into_iter()
            .collect(),
        None => Vec::new(),
    }
}

/// Finds the first value under `key` anywhere in the document (depth-first).
pub fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(map) => map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
            .or_else(|| map.values().find_map(|child| find(child, key))),
        Value::Array(a) => a.iter().find_map(|child| find(child, key)),
        _ => None,
    }
}
