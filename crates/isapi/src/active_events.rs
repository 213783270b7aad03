//! Tracks which events are ongoing when devices never send `inactive`.
//!
//! Cameras re-post active events about every second and many never post the
//! end (isapi.md §2); an event is considered over once it has not been re-posted
//! for a while (5 s by default, as established clients do).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::models::{EventAlert, EventState};

/// Default time after the last post at which an event counts as ended.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(5);

/// Identity of an ongoing event: type (the related type for `duration`), channel, I/O port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKey {
    /// Lower-cased effective type.
    pub event_type: String,
    /// Camera channel (NVR offset removed).
    pub channel: Option<u32>,
    /// Alarm input, for IO events.
    pub io_port: Option<u32>,
}

impl EventKey {
    /// The key of an event.
    pub fn of(event: &EventAlert) -> Self {
        Self {
            event_type: event.effective_type(),
            channel: event.channel(),
            io_port: event.io_port,
        }
    }
}

/// What an observed event meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// A new ongoing event.
    Started(EventKey),
    /// A re-post of an ongoing event.
    Continued(EventKey),
    /// The device said `inactive` for an ongoing event.
    Ended(EventKey),
    /// Nothing changed (heartbeat, or `inactive` for an unknown event).
    Ignored,
}

/// Ongoing events with their last post time.
#[derive(Debug, Clone)]
pub struct ActiveEvents {
    expiry: Duration,
    active: HashMap<EventKey, Instant>,
}

impl Default for ActiveEvents {
    fn default() -> Self {
        Self::new(DEFAULT_EXPIRY)
    }
}

impl ActiveEvents {
    /// A tracker that ends events `expiry` after their last post.
    pub fn new(expiry: Duration) -> Self {
        Self {
            expiry,
            active: HashMap::new(),
        }
    }

    /// Records an event received at `now`.
    pub fn observe(&mut self, event: &EventAlert, now: Instant) -> Transition {
        if event.is_heartbeat() {
            return Transition::Ignored;
        }
        let key = EventKey::of(event);
        match event.state {
            EventState::Inactive => match self.active.remove(&key) {
                Some(_) => Transition::Ended(key),
                None => Transition::Ignored,
            },
            EventState::Active | EventState::Unknown => {
                match self.active.insert(key.clone(), now) {
                    Some(_) => Transition::Continued(key),
                    None => Transition::Started(key),
                }
            }
        }
    }

    /// Ends every event not re-posted within the expiry; returns them sorted.
    pub fn expire(&mut self, now: Instant) -> Vec<EventKey> {
        let expiry = self.expiry;
        let mut ended: Vec<EventKey> = self
            .active
            .iter()
            .filter(|(_, last)| now.saturating_duration_since(**last) >= expiry)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &ended {
            self.active.remove(k);
        }
        ended.sort();
        ended
    }

    /// Events currently ongoing.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// True when nothing is ongoing.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::XmlModel;

    fn ev(kind: &str, state: &str, channel: u32) -> EventAlert {
        let xml = format!(
            "<EventNotificationAlert><channelID>{channel}</channelID><activePostCount>1</activePostCount><eventType>{kind}</eventType><eventState>{state}</eventState></EventNotificationAlert>"
        );
        EventAlert::from_xml(xml.as_bytes()).expect("event")
    }

    #[test]
    fn events_without_inactive_expire() {
        let t0 = Instant::now();
        let mut a = ActiveEvents::default();
        assert!(matches!(
            a.observe(&ev("VMD", "active", 1), t0),
            Transition::Started(_)
        ));
        assert!(matches!(
            a.observe(&ev("VMD", "active", 1), t0 + Duration::from_secs(1)),
            Transition::Continued(_)
        ));
        assert!(a.expire(t0 + Duration::from_secs(5)).is_empty());
        let ended = a.expire(t0 + Duration::from_secs(6));
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].event_type, "vmd");
        assert!(a.is_empty());
    }

    #[test]
    fn explicit_inactive_and_nvr_channels() {
        let t0 = Instant::now();
        let mut a = ActiveEvents::default();
        let Transition::Started(key) = a.observe(&ev("fielddetection", "active", 34), t0) else {
            panic!("started");
        };
        assert_eq!(key.channel, Some(2));
        assert!(matches!(
            a.observe(&ev("fielddetection", "inactive", 34), t0),
            Transition::Ended(_)
        ));
        assert_eq!(
            a.observe(&ev("fielddetection", "inactive", 34), t0),
            Transition::Ignored
        );
        let beat = EventAlert::from_xml(
            b"<EventNotificationAlert><eventType>videoloss</eventType><eventState>inactive</eventState><activePostCount>0</activePostCount></EventNotificationAlert>",
        )
        .expect("beat");
        assert_eq!(a.observe(&beat, t0), Transition::Ignored);
    }
}
