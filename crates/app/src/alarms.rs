//! Alarms: device events that are alarms (intrusion, zone alarm, tamper,
//! doorbell pressed, door forced, …) become alarms of the site's owner, stored
//! before anyone is told — so none accepted is lost across a restart — and then
//! published on the bus, which carries them live to the owner's app.
//!
//! Intake is idempotent: an alarm is keyed by its device event, so the same event
//! delivered twice (a replayed stream, a resent device-link event) is kept once.

use crate::events::Event;
use crate::{App, AppError, Principal, Result, new_uuid};
use serde::Serialize;
use siteward_core::alarm::{AlarmKind, DeviceEvent, classify};
use siteward_core::policy::{Action, SiteFacts, alarm_recipient, authorize, owned_sites};
use siteward_core::{DeviceId, Millis};
use siteward_isapi::models::{EventAlert, EventState};
use siteward_store::{AlarmSite, StoredAlarm};
use utoipa::ToSchema;

/// One alarm as the owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlarmView {
    /// Alarm id (time-ordered).
    pub id: String,
    /// The site.
    pub site_id: String,
    /// The device that raised it; null if it was deleted since.
    pub device_id: Option<String>,
    /// The device's name.
    pub device_name: String,
    /// `intrusion`, `line_crossing`, `zone_alarm`, `tamper`, `panic`, `fire`,
    /// `alarm_input`, `door_forced` or `doorbell_pressed`.
    pub kind: String,
    /// One line for people.
    pub text: String,
    /// When it happened, RFC 3339.
    pub occurred_at: String,
    /// When the owner acknowledged it, RFC 3339.
    pub acknowledged_at: Option<String>,
}

impl From<StoredAlarm> for AlarmView {
    fn from(a: StoredAlarm) -> Self {
        Self {
            id: a.id,
            site_id: a.site_id.to_string(),
            device_id: a.device_id.map(|d| d.to_string()),
            device_name: a.device_name,
            kind: a.kind,
            text: a.detail,
            occurred_at: crate::rfc3339(a.occurred_at),
            acknowledged_at: a.acknowledged_at.map(crate::rfc3339),
        }
    }
}

/// A page of my alarms, with how many nobody acknowledged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlarmList {
    /// Newest first.
    pub items: Vec<AlarmView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
    /// Alarms not acknowledged yet, in all.
    pub unacknowledged: i64,
}

fn facts(site: &AlarmSite) -> Option<SiteFacts> {
    // A site no company manages any more still has its owner; the policy's owner
    // rules do not look at the company.
    let company = site.company_id?;
    Some(SiteFacts::new(company, site.manager_id, site.state).with_owner(site.owner_id))
}

/// The alarm an event is, if it is one.
pub fn alarm_kind(e: &EventAlert) -> Option<AlarmKind> {
    let event_type = e.effective_type();
    classify(&DeviceEvent {
        event_type: &event_type,
        active: e.state != EventState::Inactive,
        acs: e.access.as_ref().and_then(|a| Some((a.major?, a.minor?))),
        cid_code: e.cid.as_ref().and_then(|c| c.code),
    })
}

/// What identifies one device event: the same event seen twice has the same key.
fn event_key(device: DeviceId, e: &EventAlert, kind: AlarmKind, received: Millis) -> String {
    let when = e
        .date_time
        .as_ref()
        .filter(|t| t.is_plausible())
        .and_then(|t| t.instant())
        .map_or_else(
            || format!("r{received}"),
            |t| (t.unix_timestamp_nanos() / 1_000_000).to_string(),
        );
    let serial = e
        .access
        .as_ref()
        .and_then(|a| a.serial_no)
        .map_or(String::new(), |n| n.to_string());
    let zone = e
        .cid
        .as_ref()
        .and_then(|c| c.zone)
        .map_or(String::new(), |z| z.to_string());
    format!(
        "{device}|{}|{}|{}|{zone}|{serial}|{when}",
        kind.as_str(),
        e.channel().map_or(String::new(), |c| c.to_string()),
        e.io_port.map_or(String::new(), |p| p.to_string()),
    )
}

/// What identifies an event that came up a device link: its device, epoch and
/// seq, so the same event resent has the same key. The device's own time for the
/// event leads (as it wrote it, in UTC where it gave an offset; zero for an unset
/// clock): a resent event carries the same time, and keys in time order are added
/// at the end of the alarms' unique index instead of at each device's place in it,
/// which at thousands of events per second is the difference between writing a
/// few pages per commit and one page per event.
pub(crate) fn link_event_key(device: DeviceId, e: &EventAlert, epoch: &str, seq: u64) -> String {
    let when = e
        .date_time
        .as_ref()
        .filter(|t| t.is_plausible())
        .and_then(|t| t.instant().or_else(|| t.local.map(|l| l.assume_utc())))
        .map_or(0, |t| t.unix_timestamp_nanos() / 1_000_000);
    format!("link|{when:013}|{device}|{epoch}|{seq}")
}

/// Alarms.
impl App {
    /// Takes one event from a device: if it is an alarm and the device's site has an
    /// owner, keeps it and tells the owner. Returns whether a new alarm was kept.
    pub async fn take_device_event(&self, device: DeviceId, e: &EventAlert) -> Result<bool> {
        let mut h = self.inner.store.begin().await?;
        let kept = self.keep_alarm(&mut h, device, e, None).await?;
        h.commit().await?;
        Ok(self.publish_alarm(kept))
    }

    /// Keeps the event as an alarm in the caller's transaction if it is one and the
    /// device's site has an owner; `key` overrides the event key (the device link
    /// names each event by epoch and seq). The caller publishes the returned event
    /// with [`App::publish_alarm`] once it committed.
    pub(crate) async fn keep_alarm(
        &self,
        h: &mut siteward_store::Handle,
        device: DeviceId,
        e: &EventAlert,
        key: Option<String>,
    ) -> Result<Option<Event>> {
        if alarm_kind(e).is_none() {
            return Ok(None);
        }
        let Some(site) = h.alarm_site_of_device(device).await? else {
            return Ok(None);
        };
        let Some((alarm, event)) = self.new_alarm(&site, device, e, key) else {
            return Ok(None);
        };
        Ok(h.insert_alarm(&alarm).await?.then_some(event))
    }

    /// The alarm an event of a device of `site` is, with what the bus tells once it
    /// is kept; `None` when the event is no alarm or the site has nobody to tell
    /// (not handed over). `key` identifies the event (derived from it if `None`).
    pub(crate) fn new_alarm(
        &self,
        site: &AlarmSite,
        device: DeviceId,
        e: &EventAlert,
        key: Option<String>,
    ) -> Option<(StoredAlarm, Event)> {
        let kind = alarm_kind(e)?;
        let owner = facts(site)
            .as_ref()
            .and_then(alarm_recipient)
            .or(site.owner_id.filter(|_| site.company_id.is_none()))?;
        let now = self.now();
        let received = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let occurred = e.occurred_at(received);
        let occurred_at = i64::try_from(occurred.unix_timestamp_nanos() / 1_000_000).unwrap_or(now);
        let mut text = format!("{}: {}", site.device_name, kind.label());
        if let Some(name) = e.channel_name.as_deref().filter(|n| !n.is_empty()) {
            text.push_str(&format!(" ({name})"));
        } else if let Some(zone) = e.cid.as_ref().and_then(|c| c.zone) {
            text.push_str(&format!(" (zone {zone})"));
        }
        let alarm = StoredAlarm {
            id: new_uuid().to_string(),
            site_id: site.site_id,
            device_id: Some(device),
            device_name: site.device_name.clone(),
            kind: kind.as_str().to_owned(),
            detail: text,
            event_key: key.unwrap_or_else(|| event_key(device, e, kind, now)),
            occurred_at,
            received_at: now,
            acknowledged_at: None,
            acknowledged_by: None,
        };
        let event = Event::Alarm {
            company_id: site.company_id,
            site_id: site.site_id,
            owner_id: Some(owner),
            id: alarm.id.clone(),
            device_id: Some(device),
            device_name: alarm.device_name.clone(),
            kind: alarm.kind.clone(),
            text: alarm.detail.clone(),
            at: crate::rfc3339(occurred_at),
        };
        Some((alarm, event))
    }

    /// Publishes an alarm kept by [`App::keep_alarm`]; whether there was one.
    pub(crate) fn publish_alarm(&self, kept: Option<Event>) -> bool {
        match kept {
            Some(event) => {
                self.inner.events.publish(event);
                true
            }
            None => false,
        }
    }

    /// My alarms (end user), newest first.
    pub async fn my_alarms(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AlarmList> {
        let me = owned_sites(&p.actor).ok_or(AppError::NotFound("alarm"))?;
        let mut h = self.inner.store.read().await?;
        let page = h.alarms_of_owner(me, cursor, limit).await?;
        let unacknowledged = h.count_open_alarms(me).await?;
        Ok(AlarmList {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
            unacknowledged,
        })
    }

    /// Acknowledges one of my alarms (the site's owner only); acknowledging twice
    /// keeps the first.
    pub async fn acknowledge_alarm(&self, p: &Principal, id: &str) -> Result<AlarmView> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let alarm = h.alarm(id).await?.ok_or(AppError::NotFound("alarm"))?;
        let site = h
            .alarm_site(alarm.site_id)
            .await?
            .ok_or(AppError::NotFound("alarm"))?;
        let owner_here = owned_sites(&p.actor).is_some() && site.owner_id == owned_sites(&p.actor);
        match facts(&site) {
            Some(f) => authorize(&p.actor, Action::AcknowledgeAlarm(&f))
                .map_err(AppError::refused("alarm"))?,
            // Released from its company: the owner alone remains.
            None if owner_here => {}
            None => return Err(AppError::NotFound("alarm")),
        }
        h.acknowledge_alarm(id, p.user.id, now).await?;
        let alarm = h.alarm(id).await?.ok_or(AppError::NotFound("alarm"))?;
        h.commit().await?;
        Ok(alarm.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(date_time: &str) -> EventAlert {
        let xml = format!(
            "<EventNotificationAlert><dateTime>{date_time}</dateTime><eventType>VMD</eventType>\
             <eventState>active</eventState><channelID>1</channelID></EventNotificationAlert>"
        );
        EventAlert::parse(xml.as_bytes()).expect("a well-formed alert")
    }

    #[test]
    fn a_link_event_keeps_its_key_and_later_events_sort_after_earlier_ones() {
        let (a, b) = (
            DeviceId(uuid::Uuid::from_u128(2)),
            DeviceId(uuid::Uuid::from_u128(1)),
        );
        let early = alert("2026-12-04T13:07:53+08:00");
        let later = alert("2026-12-04T05:07:54Z");
        // Resent: the same key, whatever else happened since.
        assert_eq!(
            link_event_key(a, &early, "e1", 7),
            link_event_key(a, &alert("2026-12-04T13:07:53+08:00"), "e1", 7)
        );
        // Another seq, epoch or device is another event.
        assert_ne!(
            link_event_key(a, &early, "e1", 7),
            link_event_key(a, &early, "e1", 8)
        );
        assert_ne!(
            link_event_key(a, &early, "e1", 7),
            link_event_key(a, &early, "e2", 7)
        );
        assert_ne!(
            link_event_key(a, &early, "e1", 7),
            link_event_key(b, &early, "e1", 7)
        );
        // Time first (in UTC), so a later event of any device sorts after.
        assert!(link_event_key(b, &early, "e9", 900) < link_event_key(a, &later, "e1", 1));
        assert!(link_event_key(a, &early, "e1", 1) < link_event_key(b, &later, "e1", 1));
        // An unset clock and a missing offset still give a key of their own.
        assert!(
            link_event_key(a, &alert("1970-01-01T00:00:09+00:00"), "e1", 3)
                .starts_with("link|0000000000000|")
        );
        assert!(
            link_event_key(a, &alert("2026-12-04T05:07:55"), "e1", 4)
                > link_event_key(a, &later, "e1", 1)
        );
    }
}
