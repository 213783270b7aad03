//! Following a LAN device's alert stream: every `EventNotificationAlert` it
//! writes (XML, or JSON from access terminals and alarm panels) goes to the link
//! agent unchanged, which keeps it (on disk) until the server has stored it.
//! Heartbeats and parts that are not events stay on the LAN. A stream that ends
//! or cannot be opened is tried again with jittered back-off.

use futures::StreamExt as _;
use rand::Rng as _;
use siteward_isapi::Error as IsapiError;
use siteward_isapi::models::EventAlert;
use siteward_link::agent::AgentHandle;
use siteward_link::backoff::Backoff;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::lan::LanDevice;
use crate::parts::PartSplitter;

/// How long a stream must stay open before the back-off starts over.
const STABLE_AFTER: Duration = Duration::from_secs(60);

/// Passes one document on, unless it is a heartbeat or not an event.
fn forward(agent: &AgentHandle, serial: &str, doc: String) {
    match EventAlert::parse(doc.as_bytes()) {
        Ok(alert) if alert.is_heartbeat() => {}
        Ok(alert) => {
            let seq = agent.push_event(serial, doc);
            tracing::debug!(serial, event = %alert.event_type, ?seq, "event queued for the server");
        }
        Err(e) => {
            tracing::debug!(serial, error = %e, "an alert-stream part that is not an event was skipped");
        }
    }
}

/// Counts a stream as open while it lives.
struct Open<'a>(&'a AtomicUsize);

impl<'a> Open<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Follows `device`'s alert stream until `stop`; `open` counts open streams.
pub(crate) async fn follow(
    device: Arc<LanDevice>,
    agent: AgentHandle,
    mut backoff: Backoff,
    open: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) {
    let serial = device.serial().to_owned();
    let mut told_failure = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let opened = Instant::now();
        let mut long_wait = false;
        match device.open_alert_stream().await {
            Ok(mut stream) => {
                tracing::info!(serial = %serial, "alert stream open");
                let _open = Open::new(&open);
                told_failure = false;
                let mut splitter = PartSplitter::new(stream.content_type.as_deref());
                let why = loop {
                    let chunk = tokio::select! {
                        c = stream.body.next() => c,
                        _ = stop.changed() => return,
                    };
                    match chunk {
                        Some(Ok(bytes)) => {
                            for doc in splitter.push(&bytes) {
                                forward(&agent, &serial, doc);
                            }
                        }
                        Some(Err(e)) => break e.to_string(),
                        None => break "the device ended it".to_owned(),
                    }
                };
                for doc in splitter.finish() {
                    forward(&agent, &serial, doc);
                }
                tracing::info!(serial = %serial, reason = %why, "alert stream closed; reopening");
            }
            Err(e) => {
                // Sign-in problems do not mend by themselves quickly: wait long.
                long_wait = matches!(
                    e,
                    IsapiError::Unauthorized { .. }
                        | IsapiError::CredentialsBlocked
                        | IsapiError::LockedOut { .. }
                );
                if told_failure {
                    tracing::debug!(serial = %serial, error = %e, "alert stream not opened");
                } else {
                    tracing::warn!(serial = %serial, error = %e, "alert stream not opened");
                    told_failure = true;
                }
            }
        }
        if opened.elapsed() >= STABLE_AFTER {
            backoff.reset();
        }
        let wait = if long_wait {
            backoff.cap()
        } else {
            backoff.next_wait(rand::rng().random::<f64>())
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}
