//! Login throttling per account and per address, in memory on each node.
//!
//! An account allows a burst of 5 attempts and then one a minute; an address a burst
//! of 30 and then one every 2 s. That stops guessing without locking a person out
//! for long, and the answer says when to try again (429 with `Retry-After`).
//!
//! End-user sign-ups are open to anyone and say whether an e-mail already has an
//! account, so an address gets a burst of 10 and then one a minute.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Keyed limiters for sign-in attempts.
#[derive(Debug)]
pub struct Throttle {
    accounts: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
    signups: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            accounts: RateLimiter::keyed(quota(5, Duration::from_secs(60))),
            addresses: RateLimiter::keyed(quota(30, Duration::from_secs(2))),
            signups: RateLimiter::keyed(quota(10, Duration::from_secs(60))),
        }
    }
}

impl Throttle {
    /// Counts an attempt for this account and address; `Err(seconds)` when one of
    /// them has had too many.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), u64> {
        if self.accounts.len() > 100_000 {
            self.accounts.retain_recent();
            self.addresses.retain_recent();
        }
        let now = DefaultClock::default().now();
        let wait = |d: Duration| d.as_secs().max(1);
        if let Some(ip) = address {
            self.addresses
                .check_key(&ip)
                .map_err(|nu| wait(nu.wait_time_from(now)))?;
        }
        self.accounts
            .check_key(&account.to_lowercase())
            .map_err(|nu| wait(nu.wait_time_from(now)))
    }

    /// Counts a sign-up from this address; `Err(seconds)` when it has had too many.
    pub fn check_signup(&self, address: Option<IpAddr>) -> Result<(), u64> {
        let Some(ip) = address else {
            return Ok(());
        };
        if self.signups.len() > 100_000 {
            self.signups.retain_recent();
        }
        let now = DefaultClock::default().now();
        self.signups
            .check_key(&ip)
            .map_err(|nu| nu.wait_time_from(now).as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_throttled_after_its_burst() {
        let t = Throttle::default();
        let ip: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..5 {
            assert_eq!(t.check("ann@example.com", Some(ip)), Ok(()));
        }
        let wait = t
            .check("ANN@example.com", Some(ip))
            .expect_err("sixth attempt refused");
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(
            t.check("bob@example.com", Some(ip)),
            Ok(()),
            "others unaffected"
        );
    }

    #[test]
    fn sign_ups_are_throttled_per_address() {
        let t = Throttle::default();
        let ip: IpAddr = [10, 0, 0, 7].into();
        for _ in 0..10 {
            assert_eq!(t.check_signup(Some(ip)), Ok(()));
        }
        let wait = t.check_signup(Some(ip)).expect_err("eleventh refused");
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(t.check_signup(Some([10, 0, 0, 6].into())), Ok(()));
        assert_eq!(t.check_signup(None), Ok(()));
        assert_eq!(
            t.check("ann@example.com", Some(ip)),
            Ok(()),
            "sign-in apart"
        );
    }

    #[test]
    fn an_address_is_throttled_across_accounts() {
        let t = Throttle::default();
        let ip: IpAddr = [10, 0, 0, 9].into();
        for i in 0..30 {
            assert_eq!(t.check(&format!("user{i}@example.com"), Some(ip)), Ok(()));
        }
        assert!(t.check("fresh@example.com", Some(ip)).is_err());
        assert!(
            t.check("fresh@example.com", Some([10, 0, 0, 8].into()))
                .is_ok()
        );
    }
}
