//! Login rate limits per client address and per account (governor keyed limiters).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

#[derive(Clone)]
pub struct LoginLimiter {
    per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
}

fn per_minute(count: u32) -> Quota {
    let count = NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(count)
}

impl LoginLimiter {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> Self {
        LoginLimiter {
            per_ip: Arc::new(RateLimiter::keyed(per_minute(per_ip_per_minute))),
            per_account: Arc::new(RateLimiter::keyed(per_minute(per_account_per_minute))),
        }
    }

    /// Takes one attempt from both buckets, or answers 429 with the wait.
    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), ApiError> {
        let clock = DefaultClock::default();
        if let Err(not_until) = self.per_ip.check_key(&ip) {
            return Err(ApiError::rate_limited(seconds_until(&not_until, &clock)));
        }
        if let Err(not_until) = self.per_account.check_key(&account.to_owned()) {
            return Err(ApiError::rate_limited(seconds_until(&not_until, &clock)));
        }
        Ok(())
    }

    /// Drops idle keys so the maps do not grow without bound.
    pub fn prune(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

fn seconds_until(
    not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>,
    clock: &DefaultClock,
) -> u64 {
    not_until.wait_time_from(clock.now()).as_secs().max(1)
}
