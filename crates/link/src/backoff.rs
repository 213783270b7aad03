//! Reconnect back-off: `min(cap, base × 2^attempt)` with full jitter, so a server
//! restart does not bring every device back in the same second.

use std::time::Duration;

/// The state of a device's reconnecting.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Backoff {
    /// Starting at `base`, never above `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            attempt: 0,
        }
    }

    /// The bound of the next wait (before jitter), and counts the attempt.
    pub fn next_bound(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(30)).unwrap_or(u32::MAX);
        self.attempt = self.attempt.saturating_add(1);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The next wait: uniformly random in `0..=bound`, given a random `unit` in [0, 1).
    pub fn next_wait(&mut self, unit: f64) -> Duration {
        self.next_bound().mul_f64(unit.clamp(0.0, 1.0))
    }

    /// The longest wait.
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// After a connection that lasted: start again from `base`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::default();
        let bounds: Vec<u64> = (0..9).map(|_| b.next_bound().as_secs()).collect();
        assert_eq!(bounds, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        for _ in 0..100 {
            b.next_bound();
        }
        assert_eq!(b.next_bound(), Duration::from_secs(60), "no overflow");
        b.reset();
        assert_eq!(b.next_wait(0.5), Duration::from_millis(500));
        assert_eq!(b.next_wait(0.0), Duration::ZERO);
    }
}
