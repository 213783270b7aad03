//! Lenient device timestamps.
//!
//! Devices send ISO-8601 with an offset, but malformed offsets occur
//! (`-6:00`, `11:47:1500:00`) and unset clocks report 1970 (isapi.md §0 rule 4).
//! [`DeviceTime`] keeps the raw text, the wall-clock part and the offset when it
//! can be trusted; callers fall back to the receive time otherwise.

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Years before this are treated as an unset device clock.
pub const PLAUSIBLE_FROM_YEAR: i32 = 2000;

/// A timestamp as the device wrote it, parsed as far as it can be trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceTime {
    /// The text exactly as received (trimmed).
    pub raw: String,
    /// Wall-clock date and time, when the date/time part is well formed.
    pub local: Option<PrimitiveDateTime>,
    /// UTC offset, when present and well formed.
    pub offset: Option<UtcOffset>,
}

impl DeviceTime {
    /// Parses leniently; never fails (unparseable parts become `None`).
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        let (local, offset) = parse_parts(raw);
        Self {
            raw: raw.to_owned(),
            local,
            offset,
        }
    }

    /// The instant, when both wall clock and offset are known.
    pub fn instant(&self) -> Option<OffsetDateTime> {
        Some(self.local?.assume_offset(self.offset?))
    }

    /// True when the clock looks set (year ≥ [`PLAUSIBLE_FROM_YEAR`]).
    pub fn is_plausible(&self) -> bool {
        self.local.is_some_and(|l| l.year() >= PLAUSIBLE_FROM_YEAR)
    }

    /// The instant if it is known and plausible, else `received`.
    pub fn instant_or(&self, received: OffsetDateTime) -> OffsetDateTime {
        match self.instant() {
            Some(t) if self.is_plausible() => t,
            _ => received,
        }
    }
}

fn digits(s: &str, from: usize, len: usize) -> Option<u32> {
    let part = s.get(from..from + len)?;
    if part.bytes().all(|b| b.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

fn parse_parts(s: &str) -> (Option<PrimitiveDateTime>, Option<UtcOffset>) {
    // YYYY-MM-DD[T ]HH:MM[:SS[.fff]]<offset>
    let b = s.as_bytes();
    if b.len() < 16
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(13) != Some(&b':')
    {
        return (None, None);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return (None, None);
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute)) = (
        digits(s, 0, 4),
        digits(s, 5, 2),
        digits(s, 8, 2),
        digits(s, 11, 2),
        digits(s, 14, 2),
    ) else {
        return (None, None);
    };
    let mut rest = 16;
    let mut second = 0;
    let mut nanos = 0u32;
    if b.get(16) == Some(&b':') {
        match digits(s, 17, 2) {
            Some(sec) => {
                second = sec;
                rest = 19;
            }
            None => return (None, None),
        }
        if b.get(19) == Some(&b'.') {
            let frac: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
            rest = 20 + frac.len();
            let mut padded = frac.chars().take(9).collect::<String>();
            while padded.len() < 9 {
                padded.push('0');
            }
            nanos = padded.parse().unwrap_or(0);
        }
    }
    let date = Month::try_from(u8::try_from(month).unwrap_or(0))
        .ok()
        .and_then(|m| {
            Date::from_calendar_date(i32::try_from(year).ok()?, m, u8::try_from(day).ok()?).ok()
        });
    let time = Time::from_hms_nano(
        u8::try_from(hour).unwrap_or(99),
        u8::try_from(minute).unwrap_or(99),
        // Leap seconds as 60 are clamped rather than rejected.
        u8::try_from(second.min(59)).unwrap_or(99),
        nanos,
    )
    .ok();
    let local = match (date, time) {
        (Some(d), Some(t)) => Some(PrimitiveDateTime::new(d, t)),
        _ => None,
    };
    (local, parse_offset(&s[rest..]))
}

/// Parses `Z`, `+HH:MM`, `-H:MM`, `+HHMM`, `+HH`. An unsigned offset is accepted
/// only when it is zero (`…:1500:00` lost its sign; zero is zero either way).
fn parse_offset(s: &str) -> Option<UtcOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") {
        return Some(UtcOffset::UTC);
    }
    let (sign, body) = match s.as_bytes().first()? {
        b'+' => (1i32, &s[1..]),
        b'-' => (-1i32, &s[1..]),
        b'0'..=b'9' => (0i32, s),
        _ => return None,
    };
    let (h, m) = match body.split_once(':') {
        Some((h, m)) => (h, m),
        None if body.len() == 4 => body.split_at(2),
        None => (body, "0"),
    };
    if h.is_empty() || h.len() > 2 || m.is_empty() || m.len() > 2 {
        return None;
    }
    if !h.bytes().chain(m.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    if sign == 0 {
        return (h == 0 && m == 0).then_some(UtcOffset::UTC);
    }
    UtcOffset::from_whole_seconds(sign * (h * 3600 + m * 60)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn well_formed() {
        let t = DeviceTime::parse("2024-11-19T16:53:28+01:00");
        assert_eq!(t.instant(), Some(datetime!(2024-11-19 16:53:28 +01:00)));
        assert!(t.is_plausible());
        let z = DeviceTime::parse("2025-03-05T10:47:40Z");
        assert_eq!(z.offset, Some(UtcOffset::UTC));
        let frac = DeviceTime::parse("2025-03-05T10:47:40.250+02:00");
        assert_eq!(frac.local.map(|l| l.millisecond()), Some(250));
    }

    #[test]
    fn malformed_offsets_from_real_devices() {
        // pyHik#14: single-digit hour.
        let t = DeviceTime::parse("2017-12-01T09:01:18-6:00");
        assert_eq!(t.offset, Some(offset!(-6)));
        // Supergiovane#59: sign lost, zero offset survives.
        let t = DeviceTime::parse("2024-01-22T11:47:1500:00");
        assert_eq!(t.instant(), Some(datetime!(2024-01-22 11:47:15 UTC)));
        // Unsigned non-zero offset is ambiguous.
        let t = DeviceTime::parse("2024-01-22T11:47:1502:00");
        assert_eq!(t.offset, None);
        assert!(t.local.is_some());
        let received = datetime!(2024-01-22 10:00:00 UTC);
        assert_eq!(t.instant_or(received), received);
    }

    #[test]
    fn unset_clock_and_garbage() {
        let t = DeviceTime::parse("1970-04-14T12:14:55+08:00");
        assert!(t.instant().is_some());
        assert!(!t.is_plausible());
        let received = datetime!(2024-01-01 0:00 UTC);
        assert_eq!(t.instant_or(received), received);
        for junk in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-01-01T25:00:00Z",
        ] {
            let t = DeviceTime::parse(junk);
            assert_eq!(t.instant(), None, "{junk}");
        }
        // No offset at all: wall clock only.
        let t = DeviceTime::parse("2021-10-21 17:01:04");
        assert!(t.local.is_some());
        assert_eq!(t.offset, None);
    }
}
