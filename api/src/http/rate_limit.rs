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

/// How a reserved sign-in attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Wrong credentials: the attempt stays counted.
    Failed,
    /// Signed in: the account's failures are forgiven and the address is
    /// recognised for it.
    Succeeded,
    /// The sign-in never ran (the request failed before): nothing counts.
    NotRun,
}

/// Addresses remembered per account as ones it signed in from.
const RECOGNISED_ADDRESSES: usize = 8;

/// The failed sign-ins of one account.
#[derive(Debug, Default)]
struct Account {
    /// Failures since the last success, forgiven after a window without one.
    failures: u32,
    /// When the last failure (or attempt counted as one until it settles) was.
    last_failure: Option<Duration>,
    /// Addresses this account recently signed in from, newest first.
    recognised: VecDeque<IpAddr>,
}

/// The settings of a [`SignInLimiter`].
#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy {
    /// Failed sign-ins per client address within `window`, then 429.
    pub max_failures_per_address: u32,
    /// The address window, and how long without a failure forgives an account's.
    pub window: Duration,
    /// Failures an account may have before attempts must be spaced out.
    pub free_failures: u32,
    /// Longest spacing between attempts on one account.
    pub max_delay: Duration,
}

/// Limits on failed sign-ins that slow an attacker down without locking the
/// owner out:
///
/// - per client address, at most `max_failures_per_address` failures within
///   a sliding `window` (the attacker's address is refused, not the account);
/// - per account, after `free_failures` failures each further attempt from
///   an address the account has not signed in from must wait since the last
///   failure: 1 s, then twice as long after each further failure, at most
///   `max_delay` — a growing delay, never a lockout. Addresses the account
///   recently signed in from are not held up, so its owner gets in while
///   someone guesses from elsewhere; a success forgives the failures.
pub struct SignInLimiter {
    policy: SignInPolicy,
    clock: Arc<dyn Clock>,
    addresses: Mutex<HashMap<IpAddr, VecDeque<Duration>>>,
    accounts: Mutex<HashMap<String, Account>>,
    calls: AtomicU64,
}

/// The email as sign-in compares it.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl SignInLimiter {
    /// A limiter, or `None` when `max_failures_per_address` is 0 (off).
    pub fn new(policy: SignInPolicy, clock: Arc<dyn Clock>) -> Option<Self> {
        (policy.max_failures_per_address > 0).then(|| Self {
            policy,
            clock,
            addresses: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
        })
    }

    /// The spacing an account with `failures` failures requires between attempts.
    fn delay(&self, failures: u32) -> Duration {
        match failures.checked_sub(self.policy.free_failures) {
            None => Duration::ZERO,
            Some(over) => Duration::from_secs(1u64 << over.min(30)).min(self.policy.max_delay),
        }
    }

    /// Count one attempt per entry of `accounts` (the email each sign-in in a
    /// request names, if any) against those accounts and `address`, before
    /// they run; refused with the seconds to wait when the address has used
    /// its failures or an account must not be tried from it yet.
    pub fn reserve(&self, accounts: &[Option<String>], address: IpAddr) -> Result<(), u64> {
        let now = self.clock.now();
        let window = self.policy.window;
        let sweep = self.calls.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1;
        let mut addresses = lock(&self.addresses);
        let mut known = lock(&self.accounts);
        if sweep {
            addresses.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|at| now.saturating_sub(*at) < window)
            });
            known.retain(|_, account| {
                !account.recognised.is_empty()
                    || account
                        .last_failure
                        .is_some_and(|at| now.saturating_sub(at) < window)
            });
        }
        // The attacker's address: a sliding window of failures.
        let max = self.policy.max_failures_per_address as usize;
        let times = addresses.entry(address).or_default();
        while times
            .front()
            .is_some_and(|at| now.saturating_sub(*at) >= window)
        {
            times.pop_front();
        }
        let over = (times.len() + accounts.len()).saturating_sub(max);
        if over > 0 {
            // The attempt that must expire first is the `over`-th oldest.
            let expires = match times.get(over - 1) {
                Some(at) => (*at + window).saturating_sub(now),
                None => window,
            };
            return Err(expires.as_secs_f64().ceil().max(1.0) as u64);
        }
        // The accounts: attempts spaced out by the growing delay.
        let mut emails: Vec<String> = Vec::new();
        for email in accounts.iter().flatten() {
            let email = normalise_email(email);
            // Several guesses at one account in one request count one after another.
            let earlier = emails.iter().filter(|e| **e == email).count() as u32;
            let account = known.entry(email.clone()).or_default();
            if account
                .last_failure
                .is_some_and(|at| now.saturating_sub(at) >= window)
            {
                account.failures = 0;
            }
            if !account.recognised.contains(&address) {
                let previous = if earlier > 0 {
                    Some(now)
                } else {
                    account.last_failure
                };
                if let Some(at) = previous {
                    let wait = (at + self.delay(account.failures + earlier)).saturating_sub(now);
                    if !wait.is_zero() {
                        return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
                    }
                }
            }
            emails.push(email);
        }
        times.extend(std::iter::repeat_n(now, accounts.len()));
        for email in emails {
            let account = known.entry(email).or_default();
            account.failures += 1;
            account.last_failure = Some(now);
        }
        Ok(())
    }

    /// Settle one reserved attempt.
    pub fn settle(&self, account: Option<&str>, address: IpAddr, outcome: SignInOutcome) {
        if outcome == SignInOutcome::Failed {
            return;
        }
        let mut addresses = lock(&self.addresses);
        let mut known = lock(&self.accounts);
        if let Some(times) = addresses.get_mut(&address) {
            times.pop_back();
        }
        let Some(email) = account else { return };
        let Some(account) = known.get_mut(&normalise_email(email)) else {
            return;
        };
        match outcome {
            SignInOutcome::Succeeded => {
                account.failures = 0;
                account.last_failure = None;
                account.recognised.retain(|known| *known != address);
                account.recognised.push_front(address);
                account.recognised.truncate(RECOGNISED_ADDRESSES);
            }
            SignInOutcome::NotRun => account.failures = account.failures.saturating_sub(1),
            SignInOutcome::Failed => {}
        }
    }
}

/// The rate limits of one server.
pub struct RateLimits {
    /// Query-cost points per principal; `None` when off.
    pub requests: Option<RateLimiter>,
    /// Failed sign-ins per address, and the delay per account; `None` when off.
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
                SignInPolicy {
                    max_failures_per_address: config.sign_in_max_failures,
                    window: Duration::from_secs(config.sign_in_window_secs),
                    free_failures: config.sign_in_free_failures,
                    max_delay: Duration::from_secs(config.sign_in_max_delay_secs.max(1)),
                },
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
        let policy = SignInPolicy {
            max_failures_per_address: 0,
            ..policy()
        };
        assert!(SignInLimiter::new(policy, Arc::new(SystemClock::default())).is_none());
    }

    fn policy() -> SignInPolicy {
        SignInPolicy {
            max_failures_per_address: 3,
            window: Duration::from_secs(900),
            free_failures: 2,
            max_delay: Duration::from_secs(8),
        }
    }

    fn sign_ins(clock: Arc<ManualClock>) -> SignInLimiter {
        SignInLimiter::new(policy(), clock).unwrap()
    }

    fn account(email: &str) -> Vec<Option<String>> {
        vec![Some(email.to_owned())]
    }

    fn address(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, n))
    }

    /// One failed attempt at `email` from `from`, which must be admitted.
    fn fail(limiter: &SignInLimiter, email: &str, from: IpAddr) {
        limiter.reserve(&account(email), from).unwrap();
        limiter.settle(Some(email), from, SignInOutcome::Failed);
    }

    #[test]
    fn failed_sign_ins_slow_an_account_down_with_a_growing_delay() {
        let clock = Arc::new(ManualClock::default());
        let limiter = sign_ins(clock.clone());
        // Two failures are free, from anywhere.
        fail(&limiter, "a@x.test", address(1));
        fail(&limiter, "a@x.test", address(2));
        // Then each attempt, whatever its password, waits: 1 s, 2 s, 4 s, 8 s, 8 s.
        let mut n = 3;
        for wait in [1, 2, 4, 8, 8] {
            assert_eq!(
                limiter.reserve(&account(" A@X.test"), address(n)),
                Err(wait)
            );
            clock.advance(Duration::from_secs(wait) - Duration::from_millis(1));
            assert!(limiter.reserve(&account("a@x.test"), address(n)).is_err());
            clock.advance(Duration::from_millis(1));
            fail(&limiter, "a@x.test", address(n));
            n += 1;
        }
        // Other accounts are not slowed down.
        fail(&limiter, "b@x.test", address(n));
    }

    #[test]
    fn the_owner_signs_in_from_a_recognised_address_while_the_account_is_guessed_at() {
        let clock = Arc::new(ManualClock::default());
        let limiter = sign_ins(clock.clone());
        limiter.reserve(&account("a@x.test"), HOME).unwrap();
        limiter.settle(Some("a@x.test"), HOME, SignInOutcome::Succeeded);
        for n in 1..=3 {
            clock.advance(Duration::from_secs(10));
            fail(&limiter, "a@x.test", address(n));
        }
        assert!(limiter.reserve(&account("a@x.test"), AWAY).is_err());
        // Home is not held up, and its success forgives the failures.
        limiter.reserve(&account("a@x.test"), HOME).unwrap();
        limiter.settle(Some("a@x.test"), HOME, SignInOutcome::Succeeded);
        assert!(limiter.reserve(&account("a@x.test"), AWAY).is_ok());
    }

    #[test]
    fn an_accounts_failures_are_forgiven_after_a_quiet_window() {
        let clock = Arc::new(ManualClock::default());
        let limiter = sign_ins(clock.clone());
        for n in 1..=3 {
            clock.advance(Duration::from_secs(10));
            fail(&limiter, "a@x.test", address(n));
        }
        assert!(limiter.reserve(&account("a@x.test"), address(9)).is_err());
        clock.advance(Duration::from_secs(900));
        fail(&limiter, "a@x.test", address(9));
        fail(&limiter, "a@x.test", address(10));
    }

    #[test]
    fn failed_sign_ins_lock_the_address_across_accounts() {
        let limiter = sign_ins(Arc::new(ManualClock::default()));
        for i in 0..3 {
            limiter
                .reserve(&account(&format!("{i}@x.test")), HOME)
                .unwrap();
        }
        assert_eq!(limiter.reserve(&account("new@x.test"), HOME), Err(900));
        assert!(limiter.reserve(&account("new@x.test"), AWAY).is_ok());
    }

    #[test]
    fn successful_and_unrun_sign_ins_do_not_count() {
        let limiter = sign_ins(Arc::new(ManualClock::default()));
        for _ in 0..2 {
            fail(&limiter, "a@x.test", HOME);
        }
        limiter.reserve(&account("a@x.test"), HOME).unwrap_err();
        limiter.reserve(&account("b@x.test"), HOME).unwrap();
        limiter.settle(Some("b@x.test"), HOME, SignInOutcome::Succeeded);
        for _ in 0..5 {
            limiter.reserve(&account("c@x.test"), AWAY).unwrap();
            limiter.settle(Some("c@x.test"), AWAY, SignInOutcome::NotRun);
        }
        // The address keeps its two failures; the unrun attempts left no trace.
        assert!(limiter.reserve(&account("d@x.test"), HOME).is_ok());
        assert!(limiter.reserve(&account("e@x.test"), HOME).is_err());
        fail(&limiter, "c@x.test", AWAY);
        fail(&limiter, "c@x.test", AWAY);
    }

    #[test]
    fn many_sign_ins_in_one_request_count_each() {
        let limiter = sign_ins(Arc::new(ManualClock::default()));
        let four = vec![Some("a@x.test".to_owned()); 4];
        assert_eq!(limiter.reserve(&four, HOME), Err(900));
        // Two free failures in one request pass; a third guess would have to wait.
        let two = vec![Some("a@x.test".to_owned()); 2];
        limiter.reserve(&two, AWAY).unwrap();
        let other = vec![Some("b@x.test".to_owned()); 3];
        assert_eq!(limiter.reserve(&other, address(7)), Err(1));
    }
}
