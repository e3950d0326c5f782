//! Login limits. Failed sign-ins are recorded in the database, so limits hold across nodes, and
//! counted three ways over the last hour: for one account from one address, for the account from
//! anywhere (a higher ceiling), and for the address across accounts. Past each allowance every
//! further attempt waits twice as long as the one before, up to a cap: never a lockout, and the
//! account-wide cap is short, so a stranger flooding someone's address cannot keep its owner out.
//! A node-local bucket per address turns away request floods before they reach the database.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::Utc;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sea_orm::ConnectionTrait;

use super::repo;
use crate::error::{ApiError, ApiResult};

/// Failures older than this no longer count.
const WINDOW_MS: i64 = 60 * 60 * 1000;
/// The longest wait for one account from one address, and for one address.
const LONG_CAP_SECS: u64 = 15 * 60;
/// The longest wait the account-wide count can impose: others' failures only slow its owner.
const ACCOUNT_CAP_SECS: u64 = 60;

/// How many failures in the window each count allows before delays start.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub per_account_and_address: u32,
    pub per_account: u32,
    pub per_address: u32,
}

#[derive(Clone)]
pub struct LoginLimiter {
    flood: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    policy: LoginPolicy,
}

impl LoginLimiter {
    pub fn new(requests_per_ip_per_minute: u32, policy: LoginPolicy) -> Self {
        let count = NonZeroU32::new(requests_per_ip_per_minute).unwrap_or(NonZeroU32::MIN);
        LoginLimiter {
            flood: Arc::new(RateLimiter::keyed(Quota::per_minute(count))),
            policy,
        }
    }

    /// Answers 429 with the wait when this attempt comes too soon.
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        address: IpAddr,
        account: &str,
    ) -> ApiResult<()> {
        let clock = DefaultClock::default();
        if let Err(not_until) = self.flood.check_key(&address) {
            let wait = not_until.wait_time_from(clock.now()).as_secs().max(1);
            return Err(ApiError::rate_limited(wait));
        }
        let now = Utc::now().timestamp_millis();
        let counts =
            repo::count_login_failures(db, account, &address.to_string(), now - WINDOW_MS).await?;
        let waits = [
            wait_secs(
                counts.pair,
                self.policy.per_account_and_address,
                counts.pair_last_ms,
                LONG_CAP_SECS,
                now,
            ),
            wait_secs(
                counts.account,
                self.policy.per_account,
                counts.account_last_ms,
                ACCOUNT_CAP_SECS,
                now,
            ),
            wait_secs(
                counts.address,
                self.policy.per_address,
                counts.address_last_ms,
                LONG_CAP_SECS,
                now,
            ),
        ];
        match waits.into_iter().flatten().max() {
            Some(wait) => {
                tracing::info!(%address, wait_secs = wait, "sign-in delayed after repeated failures");
                Err(ApiError::rate_limited(wait))
            }
            None => Ok(()),
        }
    }

    pub async fn failed(
        &self,
        db: &impl ConnectionTrait,
        address: IpAddr,
        account: &str,
    ) -> ApiResult<()> {
        let now = Utc::now().timestamp_millis();
        repo::record_login_failure(db, account, &address.to_string(), now).await?;
        Ok(())
    }

    pub async fn succeeded(
        &self,
        db: &impl ConnectionTrait,
        address: IpAddr,
        account: &str,
    ) -> ApiResult<()> {
        repo::clear_login_failures(db, account, &address.to_string()).await?;
        Ok(())
    }

    /// Forgets old failures, and idle addresses of the flood guard.
    pub async fn prune(&self, db: &impl ConnectionTrait) -> ApiResult<u64> {
        self.flood.retain_recent();
        let before = Utc::now().timestamp_millis() - WINDOW_MS;
        Ok(repo::delete_login_failures_before(db, before).await?)
    }
}

/// The wait after the last failure allowed.
const FIRST_WAIT_SECS: u64 = 5;

/// Seconds still to wait after `count` failures, the last at `last_ms`, when `free` are allowed:
/// 5 s once the allowance is used up, doubling with each further failure, at most `cap`.
fn wait_secs(count: u32, free: u32, last_ms: Option<i64>, cap: u64, now_ms: i64) -> Option<u64> {
    if count < free {
        return None;
    }
    let last_ms = last_ms?;
    let doublings = (count - free).min(20);
    let delay_secs = (FIRST_WAIT_SECS << doublings).min(cap);
    let ready_ms = last_ms + (delay_secs as i64) * 1000;
    let remaining_ms = ready_ms - now_ms;
    (remaining_ms > 0).then(|| (remaining_ms as u64).div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_at_the_allowance_and_double_up_to_the_cap() {
        let now = 1_000_000;
        assert_eq!(wait_secs(4, 5, Some(now), 900, now), None);
        assert_eq!(wait_secs(5, 5, Some(now), 900, now), Some(5));
        assert_eq!(wait_secs(6, 5, Some(now), 900, now), Some(10));
        assert_eq!(wait_secs(9, 5, Some(now), 900, now), Some(80));
        assert_eq!(wait_secs(40, 5, Some(now), 900, now), Some(900));
        assert_eq!(wait_secs(40, 5, Some(now), 60, now), Some(60));
        // Time since the last failure counts.
        assert_eq!(wait_secs(9, 5, Some(now - 30_000), 900, now), Some(50));
        assert_eq!(wait_secs(9, 5, Some(now - 80_000), 900, now), None);
    }
}
