//! `GET /ISAPI/System/time`: clock mode, local time and POSIX time zone.

use serde::{Deserialize, Serialize};
use time::UtcOffset;

use super::XmlModel;
use crate::error::ParseError;
use crate::timestamp::DeviceTime;
use crate::xml::Element;

/// The `Time` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceClock {
    /// `timeMode` (`NTP`, `manual`, `platform`).
    pub time_mode: Option<String>,
    /// Allowed modes from `opt`.
    pub time_mode_options: Vec<String>,
    /// `localTime`.
    pub local_time: Option<DeviceTime>,
    /// `timeZone` as sent (POSIX, sign inverted: `CST-3:00:00` = UTC+3).
    pub time_zone: Option<String>,
    /// `timeType` (`local`, `UTC`).
    pub time_type: Option<String>,
}

impl DeviceClock {
    /// Standard-time offset from the POSIX `timeZone` (`CST-3:00:00` → +03:00).
    /// DST rules after the offset are ignored.
    pub fn zone_offset(&self) -> Option<UtcOffset> {
        posix_offset(self.time_zone.as_deref()?)
    }
}

/// Parses the offset of a POSIX TZ string (name, then `[+-]h[:mm[:ss]]`), inverting its sign.
pub fn posix_offset(tz: &str) -> Option<UtcOffset> {
    let tz = tz.trim();
    let start = tz.find(|c: char| c == '+' || c == '-' || c.is_ascii_digit())?;
    let rest = &tz[start..];
    let (sign, rest) = match rest.as_bytes().first()? {
        b'-' => (1, &rest[1..]),
        b'+' => (-1, &rest[1..]),
        _ => (-1, rest),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let mut parts = rest[..end].split(':');
    let h: i32 = parts.next()?.parse().ok()?;
    let m: i32 = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    let s: i32 = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    if h > 24 || m > 59 || s > 59 {
        return None;
    }
    UtcOffset::from_whole_seconds(sign * (h * 3600 + m * 60 + s)).ok()
}

impl XmlModel for DeviceClock {
    const ROOTS: &'static [&'static str] = &["Time"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let mode = root.child("timeMode");
        Ok(Self {
            time_mode: mode.and_then(Element::non_empty_text).map(str::to_owned),
            time_mode_options: mode.map(|m| m.capability().options).unwrap_or_default(),
            local_time: root.text_of("localTime").map(DeviceTime::parse),
            time_zone: root.string_of("timeZone"),
            time_type: root.string_of("timeType"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::offset;

    #[test]
    fn posix_zone_sign_is_inverted() {
        assert_eq!(posix_offset("CST-3:00:00"), Some(offset!(+3)));
        assert_eq!(posix_offset("CST+5:30:00"), Some(offset!(-5:30)));
        assert_eq!(
            posix_offset("CET-1CEST,M3.5.0/2,M10.5.0/3"),
            Some(offset!(+1))
        );
        assert_eq!(posix_offset("UTC"), None);
        assert_eq!(posix_offset("X-99"), None);
    }
}
