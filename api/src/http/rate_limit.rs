//! Rate limits: a token bucket of query-cost points per principal.
//!
//! The state lives in this process's memory: each replica limits on its
//! own, so N replicas behind a load balancer admit up to N times the
//! configured rate. Time comes from a [`Ticker`] so tests can move it.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicU64, Ordering},
};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use uuid::Uuid;

use crate::domain::clock::{SystemTicker, Ticker};

/// Whom a budget belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A signed-in user (by bearer token or API token).
    User(Uuid),
    /// An anonymous caller, by client address.
    Address(IpAddr),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "{id}"),
            Self::Address(_) => f.write_str("anonymous"),
        }
    }
}

/// The network a client address stands for: an IPv6 client usually holds a
/// whole /64, so the /64 is what is limited; IPv4-mapped addresses are IPv4.
pub fn client_network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// How often the maps are swept of entries that no longer matter.
const SWEEP_EVERY: u64 = 4096;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked: every update is one assignment.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A principal's budget as the `x-ratelimit-*` headers report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Points per minute.
    pub limit: u64,
    /// Points left now.
    pub remaining: u64,
    /// Points spent and not yet refilled.
    pub used: u64,
    /// Seconds until the bucket is full again.
    pub reset: u64,
}

impl Quota {
    /// Set the `x-ratelimit-*` headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("x-ratelimit-limit", self.limit),
            ("x-ratelimit-remaining", self.remaining),
            ("x-ratelimit-used", self.used),
            ("x-ratelimit-reset", self.reset),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// A refusal: the budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    /// The budget as it stands.
    pub quota: Quota,
    /// Seconds until a request would be admitted.
    pub retry_after: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Points available; negative after an expensive request (at most one
    /// minute's worth of debt).
    level: f64,
    at: Duration,
}

/// A token bucket per principal, refilled continuously: `per_minute` points
/// a minute, holding at most `per_minute`.
pub struct RateLimiter {
    capacity: f64,
    per_second: f64,
    clock: Arc<dyn Ticker>,
    buckets: Mutex<HashMap<Principal, Bucket>>,
    calls: AtomicU64,
}

impl RateLimiter {
    /// A limiter of `per_minute` points, or `None` when `per_minute` is 0 (off).
    pub fn new(per_minute: u64, clock: Arc<dyn Ticker>) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            capacity: per_minute as f64,
            per_second: per_minute as f64 / 60.0,
            clock,
            buckets: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
        })
    }

    fn bucket(&self, buckets: &mut HashMap<Principal, Bucket>, principal: Principal) -> Bucket {
        let now = self.clock.elapsed();
        if self.calls.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // A bucket that has refilled is the same as no bucket.
            let (capacity, per_second) = (self.capacity, self.per_second);
            buckets.retain(|_, b| {
                b.level + now.saturating_sub(b.at).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(principal).or_insert(Bucket {
            level: self.capacity,
            at: now,
        });
        let elapsed = now.saturating_sub(bucket.at).as_secs_f64();
        bucket.level = (bucket.level + elapsed * self.per_second).min(self.capacity);
        bucket.at = now;
        *bucket
    }

    fn quota(&self, level: f64) -> Quota {
        let remaining = level.max(0.0).floor() as u64;
        let limit = self.capacity as u64;
        Quota {
            limit,
            remaining,
            used: limit - remaining.min(limit),
            reset: ((self.capacity - level) / self.per_second).ceil().max(0.0) as u64,
        }
    }

    /// Admit a request when the principal has at least one point left.
    pub fn admit(&self, principal: Principal) -> Result<Quota, Exhausted> {
        let mut buckets = lock(&self.buckets);
        let bucket = self.bucket(&mut buckets, principal);
        self.within(bucket.level, 1.0)
    }

    /// The quota at `level` if it holds `needed` points, else how long to wait.
    fn within(&self, level: f64, needed: f64) -> Result<Quota, Exhausted> {
        let quota = self.quota(level);
        if level >= needed {
            Ok(quota)
        } else {
            let retry_after = ((needed - level) / self.per_second).ceil().max(1.0) as u64;
            Err(Exhausted { quota, retry_after })
        }
    }

    /// Admit work estimated at `estimate` points only while the budget holds
    /// them (an estimate larger than the whole budget needs a full bucket)
    /// and set them aside, so concurrent requests cannot spend the same
    /// points twice; [`Self::settle`] then charges what the work cost.
    pub fn reserve(&self, principal: Principal, estimate: u64) -> Result<Reservation, Exhausted> {
        let mut buckets = lock(&self.buckets);
        let mut bucket = self.bucket(&mut buckets, principal);
        let held = (estimate.max(1) as f64).min(self.capacity);
        self.within(bucket.level, held)?;
        bucket.level -= held;
        buckets.insert(principal, bucket);
        Ok(Reservation { principal, held })
    }

    /// Replace a reservation by the actual cost, `points`, and report what is left.
    pub fn settle(&self, reservation: Reservation, points: u64) -> Quota {
        let mut buckets = lock(&self.buckets);
        let mut bucket = self.bucket(&mut buckets, reservation.principal);
        // The refill while the request ran may have filled the reserved
        // points in already: never above a full bucket.
        bucket.level =
            (bucket.level + reservation.held - points as f64).clamp(-self.capacity, self.capacity);
        buckets.insert(reservation.principal, bucket);
        self.quota(bucket.level)
    }

    /// Spend `points` of the principal's budget and report what is left.
    pub fn charge(&self, principal: Principal, points: u64) -> Quota {
        let mut buckets = lock(&self.buckets);
        let mut bucket = self.bucket(&mut buckets, principal);
        bucket.level = (bucket.level - points as f64).max(-self.capacity);
        buckets.insert(principal, bucket);
        self.quota(bucket.level)
    }
}

/// Points set aside for a request being executed (see [`RateLimiter::reserve`]).
#[derive(Debug)]
#[must_use = "a reservation is settled with the actual cost"]
pub struct Reservation {
    principal: Principal,
    held: f64,
}

/// The rate limits of one server.
pub struct RateLimits {
    /// Query-cost points per principal; `None` when off.
    pub requests: Option<RateLimiter>,
    /// Extra points each mutation field costs.
    pub mutation_cost: u64,
    /// Take the client address from the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
}

impl RateLimits {
    /// The limits of `config`, on the real clock.
    pub fn from_config(config: &crate::config::ServeConfig) -> Self {
        Self {
            requests: RateLimiter::new(
                config.rate_limit_per_minute,
                Arc::new(SystemTicker::default()),
            ),
            mutation_cost: config.rate_limit_mutation_cost,
            trust_forwarded_for: config.trust_forwarded_for,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::domain::clock::ManualTicker;

    fn user() -> Principal {
        Principal::User(Uuid::nil())
    }

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    #[test]
    fn a_full_bucket_admits_and_reports_its_quota() {
        let limiter = RateLimiter::new(60, Arc::new(ManualTicker::default())).unwrap();
        let quota = limiter.admit(user()).unwrap();
        assert_eq!(
            quota,
            Quota {
                limit: 60,
                remaining: 60,
                used: 0,
                reset: 0
            }
        );
        let quota = limiter.charge(user(), 15);
        assert_eq!(quota.remaining, 45);
        assert_eq!(quota.used, 15);
        // 60 points a minute refill 1 a second: 15 seconds until full.
        assert_eq!(quota.reset, 15);
    }

    #[test]
    fn the_bucket_refills_continuously_and_never_above_its_capacity() {
        let clock = Arc::new(ManualTicker::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        limiter.charge(user(), 60);
        let refused = limiter.admit(user()).unwrap_err();
        assert_eq!(refused.retry_after, 1);
        assert_eq!(refused.quota.remaining, 0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(limiter.admit(user()).unwrap().remaining, 1);
        clock.advance(Duration::from_secs(30));
        assert_eq!(limiter.admit(user()).unwrap().remaining, 31);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(limiter.admit(user()).unwrap().remaining, 60);
    }

    #[test]
    fn an_expensive_request_leaves_debt_of_at_most_one_minute() {
        let clock = Arc::new(ManualTicker::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        let quota = limiter.charge(user(), 1_000_000);
        assert_eq!(quota.remaining, 0);
        assert_eq!(quota.reset, 120);
        assert_eq!(limiter.admit(user()).unwrap_err().retry_after, 61);
        clock.advance(Duration::from_secs(61));
        assert!(limiter.admit(user()).is_ok());
    }

    #[test]
    fn concurrent_reservations_cannot_spend_the_same_points_twice() {
        let limiter = RateLimiter::new(60, Arc::new(ManualTicker::default())).unwrap();
        let first = limiter.reserve(user(), 40).unwrap();
        // 20 left: a second request estimated at 40 waits for 20 more seconds.
        let refused = limiter.reserve(user(), 40).unwrap_err();
        assert_eq!(refused.retry_after, 20);
        // The first cost less than estimated: the rest comes back.
        assert_eq!(limiter.settle(first, 5).remaining, 55);
        let second = limiter.reserve(user(), 40).unwrap();
        assert_eq!(limiter.settle(second, 40).remaining, 15);
    }

    #[test]
    fn a_settled_bucket_never_holds_more_than_its_capacity() {
        let clock = Arc::new(ManualTicker::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        let reservation = limiter.reserve(user(), 50).unwrap();
        // The request runs long enough for the bucket to refill.
        clock.advance(Duration::from_secs(120));
        assert_eq!(limiter.settle(reservation, 5).remaining, 60);
    }

    #[test]
    fn an_estimate_above_the_whole_budget_needs_a_full_bucket() {
        let clock = Arc::new(ManualTicker::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        limiter.charge(user(), 1);
        assert_eq!(limiter.reserve(user(), 1_000).unwrap_err().retry_after, 1);
        clock.advance(Duration::from_secs(1));
        let reservation = limiter.reserve(user(), 1_000).unwrap();
        assert_eq!(limiter.admit(user()).unwrap_err().quota.remaining, 0);
        assert_eq!(limiter.settle(reservation, 30).remaining, 30);
    }

    #[test]
    fn principals_have_separate_buckets() {
        let limiter = RateLimiter::new(10, Arc::new(ManualTicker::default())).unwrap();
        limiter.charge(user(), 10);
        assert!(limiter.admit(user()).is_err());
        assert!(limiter.admit(Principal::Address(HOME)).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_64_and_a_mapped_ipv4_as_ipv4() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_network(one), client_network(other));
        assert_ne!(client_network(one), client_network(elsewhere));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_network(mapped), HOME);
        assert_eq!(client_network(HOME), HOME);
    }

    #[test]
    fn a_zero_rate_turns_the_limiter_off() {
        assert!(RateLimiter::new(0, Arc::new(ManualTicker::default())).is_none());
    }
}
