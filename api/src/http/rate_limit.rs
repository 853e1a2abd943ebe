//! Rate limits: a token bucket of query-cost points per principal, and a
//! sliding window of failed sign-ins per account and per client address.
//!
//! The state lives in this process's memory: each replica limits on its
//! own, so N replicas behind a load balancer admit up to N times the
//! configured rate. Time comes from a [`Clock`] so tests can move it.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicU64, Ordering},
};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use uuid::Uuid;

/// A monotonic source of time.
pub trait Clock: Send + Sync {
    /// Time elapsed since a fixed origin; never goes backwards.
    fn now(&self) -> Duration;
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock(Instant);

impl Default for SystemClock {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

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
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<Principal, Bucket>>,
    calls: AtomicU64,
}

impl RateLimiter {
    /// A limiter of `per_minute` points, or `None` when `per_minute` is 0 (off).
    pub fn new(per_minute: u64, clock: Arc<dyn Clock>) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            capacity: per_minute as f64,
            per_second: per_minute as f64 / 60.0,
            clock,
            buckets: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
        })
    }

    fn bucket(&self, buckets: &mut HashMap<Principal, Bucket>, principal: Principal) -> Bucket {
        let now = self.clock.now();
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
        let quota = self.quota(bucket.level);
        if bucket.level >= 1.0 {
            Ok(quota)
        } else {
            let retry_after = ((1.0 - bucket.level) / self.per_second).ceil().max(1.0) as u64;
            Err(Exhausted { quota, retry_after })
        }
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

/// What failed sign-ins are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SignInKey {
    /// The account, by normalised email.
    Account(String),
    /// The client address.
    Address(IpAddr),
}

/// How a reserved sign-in attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Wrong credentials: the attempt stays counted.
    Failed,
    /// Signed in: the account's failures are forgiven.
    Succeeded,
    /// The sign-in never ran (the request failed before): nothing counts.
    NotRun,
}

/// At most `max_failures` failed sign-ins per account and per client address
/// within a sliding `window`.
pub struct SignInLimiter {
    max_failures: usize,
    window: Duration,
    clock: Arc<dyn Clock>,
    attempts: Mutex<HashMap<SignInKey, VecDeque<Duration>>>,
    calls: AtomicU64,
}

/// The email as sign-in compares it.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl SignInLimiter {
    /// A limiter, or `None` when `max_failures` is 0 (off).
    pub fn new(max_failures: u32, window: Duration, clock: Arc<dyn Clock>) -> Option<Self> {
        (max_failures > 0).then(|| Self {
            max_failures: max_failures as usize,
            window,
            clock,
            attempts: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
        })
    }

    fn keys(accounts: &[Option<String>], address: IpAddr) -> Vec<(SignInKey, usize)> {
        let mut keys: Vec<(SignInKey, usize)> = vec![(SignInKey::Address(address), accounts.len())];
        for account in accounts.iter().flatten() {
            let key = SignInKey::Account(normalise_email(account));
            match keys.iter_mut().find(|(k, _)| *k == key) {
                Some((_, count)) => *count += 1,
                None => keys.push((key, 1)),
            }
        }
        keys
    }

    /// Count one attempt per entry of `accounts` (the email each sign-in in a
    /// request names, if any) against those accounts and `address`, before
    /// they run; refused with the seconds to wait when any would pass the limit.
    pub fn reserve(&self, accounts: &[Option<String>], address: IpAddr) -> Result<(), u64> {
        let now = self.clock.now();
        let mut attempts = lock(&self.attempts);
        if self.calls.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let window = self.window;
            attempts.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|at| now.saturating_sub(*at) < window)
            });
        }
        let keys = Self::keys(accounts, address);
        let mut wait = 0u64;
        for (key, count) in &keys {
            let Some(times) = attempts.get_mut(key) else {
                if *count > self.max_failures {
                    wait = wait.max(self.window.as_secs().max(1));
                }
                continue;
            };
            while times
                .front()
                .is_some_and(|at| now.saturating_sub(*at) >= self.window)
            {
                times.pop_front();
            }
            let over = (times.len() + count).saturating_sub(self.max_failures);
            if over == 0 {
                continue;
            }
            // The attempt that must expire first is the `over`-th oldest.
            let expires = match times.get(over - 1) {
                Some(at) => (*at + self.window).saturating_sub(now),
                None => self.window,
            };
            wait = wait.max(expires.as_secs_f64().ceil().max(1.0) as u64);
        }
        if wait > 0 {
            return Err(wait);
        }
        for (key, count) in keys {
            let times = attempts.entry(key).or_default();
            times.extend(std::iter::repeat_n(now, count));
        }
        Ok(())
    }

    /// Settle one reserved attempt.
    pub fn settle(&self, account: Option<&str>, address: IpAddr, outcome: SignInOutcome) {
        if outcome == SignInOutcome::Failed {
            return;
        }
        let mut attempts = lock(&self.attempts);
        if let Some(times) = attempts.get_mut(&SignInKey::Address(address)) {
            times.pop_back();
        }
        if let Some(account) = account {
            let key = SignInKey::Account(normalise_email(account));
            if outcome == SignInOutcome::Succeeded {
                attempts.remove(&key);
            } else if let Some(times) = attempts.get_mut(&key) {
                times.pop_back();
            }
        }
    }
}

/// The rate limits of one server.
pub struct RateLimits {
    /// Query-cost points per principal; `None` when off.
    pub requests: Option<RateLimiter>,
    /// Failed sign-ins per account and address; `None` when off.
    pub sign_ins: Option<SignInLimiter>,
    /// Extra points each mutation field costs.
    pub mutation_cost: u64,
    /// Take the client address from the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
}

impl RateLimits {
    /// The limits of `config`, on the real clock.
    pub fn from_config(config: &crate::config::ServeConfig) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
        Self {
            requests: RateLimiter::new(config.rate_limit_per_minute, clock.clone()),
            sign_ins: SignInLimiter::new(
                config.sign_in_max_failures,
                Duration::from_secs(config.sign_in_window_secs),
                clock,
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

    /// A clock that moves only when told.
    #[derive(Default)]
    struct ManualClock(Mutex<Duration>);

    impl ManualClock {
        fn advance(&self, by: Duration) {
            *lock(&self.0) += by;
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Duration {
            *lock(&self.0)
        }
    }

    fn user() -> Principal {
        Principal::User(Uuid::nil())
    }

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const AWAY: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn a_full_bucket_admits_and_reports_its_quota() {
        let limiter = RateLimiter::new(60, Arc::new(ManualClock::default())).unwrap();
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
        let clock = Arc::new(ManualClock::default());
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
        let clock = Arc::new(ManualClock::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        let quota = limiter.charge(user(), 1_000_000);
        assert_eq!(quota.remaining, 0);
        assert_eq!(quota.reset, 120);
        assert_eq!(limiter.admit(user()).unwrap_err().retry_after, 61);
        clock.advance(Duration::from_secs(61));
        assert!(limiter.admit(user()).is_ok());
    }

    #[test]
    fn principals_have_separate_buckets() {
        let limiter = RateLimiter::new(10, Arc::new(ManualClock::default())).unwrap();
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
        assert!(RateLimiter::new(0, Arc::new(ManualClock::default())).is_none());
        assert!(
            SignInLimiter::new(0, Duration::from_secs(1), Arc::new(SystemClock::default()))
                .is_none()
        );
    }

    fn sign_ins(clock: Arc<ManualClock>) -> SignInLimiter {
        SignInLimiter::new(3, Duration::from_secs(900), clock).unwrap()
    }

    fn account(email: &str) -> Vec<Option<String>> {
        vec![Some(email.to_owned())]
    }

    #[test]
    fn failed_sign_ins_lock_the_account_until_the_window_passes() {
        let clock = Arc::new(ManualClock::default());
        let limiter = sign_ins(clock.clone());
        for minute in 0..3 {
            limiter.reserve(&account("a@x.test"), HOME).unwrap();
            limiter.settle(Some("a@x.test"), HOME, SignInOutcome::Failed);
            clock.advance(Duration::from_secs(60 * minute + 60));
        }
        // From another address, with any case, the account stays locked until
        // its oldest failure (at 0 s) is 900 s old; now is 360 s.
        assert_eq!(limiter.reserve(&account(" A@X.test"), AWAY), Err(540));
        clock.advance(Duration::from_secs(540));
        assert_eq!(limiter.reserve(&account("a@x.test"), AWAY), Ok(()));
    }

    #[test]
    fn failed_sign_ins_lock_the_address_across_accounts() {
        let limiter = sign_ins(Arc::new(ManualClock::default()));
        for i in 0..3 {
            limiter
                .reserve(&account(&format!("{i}@x.test")), HOME)
                .unwrap();
        }
        assert!(limiter.reserve(&account("new@x.test"), HOME).is_err());
        assert!(limiter.reserve(&account("new@x.test"), AWAY).is_ok());
    }

    #[test]
    fn successful_and_unrun_sign_ins_do_not_count() {
        let limiter = sign_ins(Arc::new(ManualClock::default()));
        for _ in 0..2 {
            limiter.reserve(&account("a@x.test"), HOME).unwrap();
            limiter.settle(Some("a@x.test"), HOME, SignInOutcome::Failed);
        }
        limiter.reserve(&account("a@x.test"), HOME).unwrap();
        limiter.settle(Some("a@x.test"), HOME, SignInOutcome::Succeeded);
        for _ in 0..5 {
            limiter.reserve(&account("b@x.test"), AWAY).unwrap();
            limiter.settle(Some("b@x.test"), AWAY, SignInOutcome::NotRun);
        }
        // The account's failures were forgiven; the address keeps its two.
        limiter.reserve(&account("a@x.test"), HOME).unwrap();
        assert!(limiter.reserve(&account("c@x.test"), HOME).is_err());
        assert!(limiter.reserve(&account("b@x.test"), AWAY).is_ok());
    }

    #[test]
    fn many_sign_ins_in_one_request_count_each() {
        let limiter = sign_ins(Arc::new(ManualClock::default()));
        let four = vec![Some("a@x.test".to_owned()); 4];
        assert_eq!(limiter.reserve(&four, HOME), Err(900));
        let two = vec![Some("a@x.test".to_owned()); 2];
        limiter.reserve(&two, HOME).unwrap();
        assert!(limiter.reserve(&two, HOME).is_err());
    }
}
