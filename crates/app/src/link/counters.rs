//! Linked devices' event counters: how far each device's events are stored.
//!
//! A counter tells the intake which events of a device it has stored already and
//! tells a reconnecting device where to resume (`acked_seq`). Writing it in the
//! transaction of every batch cost the database a random page per event (the
//! device's row), about half of what an event cost; so the intake keeps the
//! counters it advanced here and writes them in the background, a few hundred
//! rows at a time in device order (neighbouring rows share pages), every
//! [`FLUSH_EVERY`] and when the server stops.
//!
//! Nothing depends on the written counter being current: an alarm's unique event
//! key (device time, device, epoch, seq; a resent event repeats them all) keeps
//! it once whatever the counter says, so after a
//! crash that lost the last seconds of counters a resent event is still stored
//! once, and a device told a lower `acked_seq` than it was acknowledged resends
//! nothing it has dropped. A counter here is always at least the written one: the
//! intake reads it before the database and removes it only after writing it.

use siteward_core::DeviceId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How often advanced counters are written.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Counters written per transaction: small enough that the intake waits for
/// one such write no longer than for a batch of events.
pub(crate) const FLUSH_CHUNK: usize = 256;

/// A device's event counter: the last `seq` of `epoch` stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counter {
    pub epoch: String,
    pub seq: i64,
}

/// Counters advanced on this node and not yet written.
#[derive(Debug, Default)]
pub(crate) struct Unwritten {
    map: Mutex<HashMap<DeviceId, Counter>>,
}

impl Unwritten {
    /// The counter of `device`, if it advanced since it was last written.
    pub fn get(&self, device: DeviceId) -> Option<Counter> {
        super::lock(&self.map).get(&device).cloned()
    }

    /// Notes counters a committed batch advanced.
    pub fn advance<'a>(&self, counters: impl IntoIterator<Item = (DeviceId, &'a str, i64)>) {
        let mut map = super::lock(&self.map);
        for (device, epoch, seq) in counters {
            let fresh = || Counter {
                epoch: epoch.to_owned(),
                seq,
            };
            let c = map.entry(device).or_insert_with(fresh);
            if c.epoch == epoch {
                // Batches are written in order; never go back all the same.
                c.seq = c.seq.max(seq);
            } else {
                *c = fresh();
            }
        }
    }

    /// Every device with an unwritten counter, in order.
    pub fn devices(&self) -> Vec<DeviceId> {
        let mut all: Vec<DeviceId> = super::lock(&self.map).keys().copied().collect();
        all.sort_unstable();
        all
    }

    /// The counters of these devices that advanced since they were last written,
    /// in the order given.
    pub fn some(&self, devices: &[DeviceId]) -> Vec<(DeviceId, Counter)> {
        let map = super::lock(&self.map);
        devices
            .iter()
            .filter_map(|d| map.get(d).map(|c| (*d, c.clone())))
            .collect()
    }

    /// These counters are written: forgets those that did not advance meanwhile.
    pub fn written(&self, values: &[(DeviceId, Counter)]) {
        let mut map = super::lock(&self.map);
        for (device, counter) in values {
            if map.get(device) == Some(counter) {
                map.remove(device);
            }
        }
    }
}

/// Where the intake is in writing the counters: devices left in this round, and
/// when the next round starts.
#[derive(Debug)]
pub(crate) struct FlushRound {
    left: Vec<DeviceId>,
    next: Instant,
}

impl Default for FlushRound {
    fn default() -> Self {
        Self {
            left: Vec::new(),
            next: Instant::now() + FLUSH_EVERY,
        }
    }
}

impl FlushRound {
    /// When the next step is due.
    pub fn due(&self, now: Instant) -> Instant {
        if self.left.is_empty() { self.next } else { now }
    }

    /// The devices whose counters to write now, if a step is due: a round starts
    /// with every unwritten counter and goes through them [`FLUSH_CHUNK`] at a time.
    pub fn step(&mut self, now: Instant, unwritten: &Unwritten) -> Option<Vec<DeviceId>> {
        if self.left.is_empty() {
            if now < self.next {
                return None;
            }
            self.next = now + FLUSH_EVERY;
            self.left = unwritten.devices();
            // Taken from the end: the round goes in descending order, which
            // touches the same neighbouring pages as ascending order.
        }
        if self.left.is_empty() {
            return None;
        }
        let at = self.left.len().saturating_sub(FLUSH_CHUNK);
        Some(self.left.split_off(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(n: u128) -> DeviceId {
        DeviceId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_counter_that_advanced_while_written_stays_unwritten() {
        let u = Unwritten::default();
        u.advance([(device(1), "e", 5), (device(2), "e", 7)]);
        let values = u.some(&[device(1), device(2)]);
        u.advance([(device(2), "e", 8)]);
        u.written(&values);
        assert_eq!(u.get(device(1)), None);
        assert_eq!(
            u.get(device(2)),
            Some(Counter {
                epoch: "e".into(),
                seq: 8
            })
        );
        assert_eq!(u.devices(), vec![device(2)]);
    }

    #[test]
    fn a_counter_never_goes_back_within_its_epoch_and_starts_again_with_a_new_one() {
        let u = Unwritten::default();
        u.advance([(device(1), "e1", 9)]);
        u.advance([(device(1), "e1", 4)]);
        assert_eq!(u.get(device(1)).map(|c| c.seq), Some(9));
        u.advance([(device(1), "e2", 2)]);
        assert_eq!(
            u.get(device(1)),
            Some(Counter {
                epoch: "e2".into(),
                seq: 2
            })
        );
    }

    #[test]
    fn a_round_goes_through_every_counter_in_chunks_then_waits() {
        let u = Unwritten::default();
        let n = FLUSH_CHUNK as u128 * 2 + 3;
        u.advance((0..n).map(|i| (device(i), "e", 1)));
        let mut round = FlushRound::default();
        let start = Instant::now();
        assert!(
            round.step(start, &u).is_none(),
            "not due before the interval"
        );
        let later = start + FLUSH_EVERY;
        let mut seen = Vec::new();
        while let Some(chunk) = round.step(later, &u) {
            assert!(chunk.len() <= FLUSH_CHUNK);
            assert!(chunk.windows(2).all(|w| w[0] < w[1]), "a chunk is in order");
            seen.extend(chunk);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..n).map(device).collect::<Vec<_>>());
        assert!(
            round.step(later, &u).is_none(),
            "a round at most every interval"
        );
        assert_eq!(round.due(later), later + FLUSH_EVERY);
    }
}
