//! Listening to devices between inspections: each device's alert stream is kept
//! open, and an event that can change its health (disk error or full, video loss,
//! tamper, a camera disconnecting from its NVR, a recording failure) makes the
//! device due at once, so the change shows within seconds instead of at the next
//! round. A stream that breaks also makes the device due: the inspection decides
//! whether it is offline. The inspection stays the one source of truth. Events that
//! are alarms go to alarm intake (`app::alarms`) on the way.

use crate::App;
use futures::StreamExt;
use siteward_core::DeviceId;
use siteward_isapi::StreamItem;
use siteward_isapi::models::EventState;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Event types (lower case) whose start or end can change a device's health.
const HEALTH_EVENTS: [&str; 12] = [
    "diskerror",
    "diskfull",
    "hderror",
    "hdfull",
    "videoloss",
    "shelteralarm",
    "tamper",
    "tamperdetection",
    "ipcdisconnect",
    "nicbroken",
    "recordingfailure",
    "illegalaccess",
];

pub(crate) fn affects_health(event_type: &str) -> bool {
    let t = event_type.to_ascii_lowercase();
    HEALTH_EVENTS.contains(&t.as_str())
}

impl App {
    /// Keeps one alert-stream listener per device reached by IP, until `stop`.
    /// Reconciles with the store every 30 seconds and when devices are added or
    /// deleted.
    pub async fn run_listeners(self, mut stop: watch::Receiver<bool>) {
        let mut listening: HashMap<DeviceId, JoinHandle<()>> = HashMap::new();
        loop {
            match self.inner.store.read().await {
                Ok(mut h) => match h.ip_device_ids().await {
                    Ok(ids) => {
                        let wanted: std::collections::HashSet<DeviceId> =
                            ids.iter().copied().collect();
                        listening.retain(|id, task| {
                            let keep = wanted.contains(id) && !task.is_finished();
                            if !keep {
                                task.abort();
                            }
                            keep
                        });
                        for id in ids {
                            listening.entry(id).or_insert_with(|| {
                                tokio::spawn(self.clone().listen(id, stop.clone()))
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "listing devices to listen to failed"),
                },
                Err(e) => tracing::warn!(error = %e, "store unavailable for listeners"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                _ = self.inner.devices_changed.notified() => {}
                _ = stop.changed() => break,
            }
        }
        for (_, task) in listening {
            task.abort();
        }
    }

    /// Listens to one device's alert stream, reconnecting with back-off and jitter.
    async fn listen(self, id: DeviceId, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_secs(5);
        loop {
            let opened = Instant::now();
            let device = match self.inner.store.read().await {
                Ok(mut h) => h.device(id).await.ok().flatten(),
                Err(_) => None,
            };
            let Some(device) = device else { return };
            let client = match self.inner.clients.get(&self, &device) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::debug!(device = %id, error = %e, "no client for the alert stream");
                    None
                }
            };
            if let Some(client) = client {
                match client.alert_stream().await {
                    Ok(mut stream) => {
                        let mut states: HashMap<(String, Option<u32>), EventState> = HashMap::new();
                        loop {
                            let item = tokio::select! {
                                item = stream.next() => item,
                                _ = stop.changed() => return,
                            };
                            match item {
                                Some(Ok(StreamItem::Event(e))) => {
                                    if crate::alarms::alarm_kind(&e).is_some()
                                        && let Err(err) = self.take_device_event(id, &e).await
                                    {
                                        tracing::warn!(device = %id, error = %err, "keeping an alarm failed");
                                    }
                                    let kind = e.effective_type();
                                    if !affects_health(&kind) {
                                        continue;
                                    }
                                    let key = (kind.to_ascii_lowercase(), e.channel());
                                    let previous = states.insert(key, e.state);
                                    // A start, or the end of something that had started.
                                    let matters = e.state == EventState::Active
                                        || previous == Some(EventState::Active);
                                    if matters && previous != Some(e.state)
                                        || e.state == EventState::Unknown
                                    {
                                        tracing::debug!(device = %id, event = %kind, "health event");
                                        let _ = self.nudge(id).await;
                                    }
                                }
                                Some(Ok(_)) => {}
                                Some(Err(e)) => {
                                    tracing::debug!(device = %id, error = %e, "alert stream ended");
                                    break;
                                }
                                None => break,
                            }
                        }
                        // The stream broke: the device may have gone offline.
                        let _ = self.nudge(id).await;
                    }
                    Err(e) => tracing::debug!(device = %id, error = %e, "alert stream not opened"),
                }
            }
            if opened.elapsed() > Duration::from_secs(60) {
                backoff = Duration::from_secs(5);
            }
            let jitter =
                Duration::from_millis(rand::random_range(0..=backoff.as_millis() as u64 / 5));
            tokio::select! {
                _ = tokio::time::sleep(backoff + jitter) => {}
                _ = stop.changed() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }
}
