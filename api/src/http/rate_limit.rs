//! Rate limits: a token bucket of query-cost points per principal.
//!
//! On PostgreSQL the buckets live in the database (`rate_budgets`, one row
//! per principal, updated by one statement per step), so every replica on
//! it spends from the same budget. A SQLite server is one process and keeps
//! its buckets in memory, on a [`Ticker`] that tests can move. Both follow
//! [`Rule`]: the SQL spells out the same arithmetic.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicU64, Ordering},
};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use sea_orm::sqlx::PgPool;
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

impl Principal {
    /// The principal's key in the shared table.
    fn key(&self) -> String {
        match self {
            Self::User(id) => id.to_string(),
            Self::Address(address) => format!("address:{address}"),
        }
    }
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

/// How often the buckets are swept of entries that no longer matter.
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

/// The bucket's arithmetic: `capacity` points, refilled continuously at
/// `per_second`, never above `capacity`; a level below zero is debt left by
/// an expensive request, at most one bucket's worth.
#[derive(Debug, Clone, Copy)]
struct Rule {
    capacity: f64,
    per_second: f64,
}

impl Rule {
    /// The level `elapsed` after it was `level`.
    fn refill(&self, level: f64, elapsed: Duration) -> f64 {
        (level + elapsed.as_secs_f64() * self.per_second).min(self.capacity)
    }

    /// A refilled level after `delta` points come back (negative: are spent).
    fn adjust(&self, refilled: f64, delta: f64) -> f64 {
        (refilled + delta).clamp(-self.capacity, self.capacity)
    }

    /// What a reservation of `estimate` points holds: a larger estimate
    /// than the whole budget needs a full bucket.
    fn held(&self, estimate: u64) -> f64 {
        (estimate.max(1) as f64).min(self.capacity)
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
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Points available (see [`Rule`]).
    level: f64,
    at: Duration,
}

/// Buckets in this process's memory.
struct Local {
    clock: Arc<dyn Ticker>,
    buckets: Mutex<HashMap<Principal, Bucket>>,
    calls: AtomicU64,
}

impl Local {
    /// Apply `step` to the principal's refilled level and keep what it returns.
    fn update<R>(&self, rule: Rule, principal: Principal, step: impl FnOnce(f64) -> (f64, R)) -> R {
        let now = self.clock.elapsed();
        let mut buckets = lock(&self.buckets);
        if self.calls.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // A bucket that has refilled is the same as no bucket.
            buckets.retain(|_, b| rule.refill(b.level, now.saturating_sub(b.at)) < rule.capacity);
        }
        let bucket = buckets.entry(principal).or_insert(Bucket {
            level: rule.capacity,
            at: now,
        });
        let refilled = rule.refill(bucket.level, now.saturating_sub(bucket.at));
        let (level, result) = step(refilled);
        *bucket = Bucket { level, at: now };
        result
    }
}

/// Buckets in PostgreSQL's `rate_budgets`, on the database's clock. Each
/// step is one statement whose row lock orders concurrent steps of one
/// principal, from any replica.
struct Shared {
    pool: PgPool,
    /// The level each principal was last seen at here, so that a spent
    /// budget is refused before its document is read without a statement.
    seen: Local,
    /// Reservations made here, for the sweep.
    reservations: AtomicU64,
}

/// The level a row holds now: `Rule::refill` in SQL (`$2` capacity, `$3`
/// points per second; a clock that reads earlier than `at` refills nothing).
macro_rules! refilled {
    () => {
        "LEAST($2, b.level + GREATEST(EXTRACT(EPOCH FROM now() - b.at)::float8, 0) * $3)"
    };
}

/// `sql` with the principal (`$1`), the capacity (`$2`) and the points per
/// second (`$3`) bound.
fn bound(
    sql: &'static str,
    rule: Rule,
    principal: Principal,
) -> sea_orm::sqlx::query::QueryScalar<
    'static,
    sea_orm::sqlx::Postgres,
    f64,
    sea_orm::sqlx::postgres::PgArguments,
> {
    sea_orm::sqlx::query_scalar(sql)
        .bind(principal.key())
        .bind(rule.capacity)
        .bind(rule.per_second)
}

impl Shared {
    /// Take `held` points (`$4`) when the principal holds them: the level
    /// after, or `None` when it does not.
    async fn take(
        &self,
        rule: Rule,
        principal: Principal,
        held: f64,
    ) -> Result<Option<f64>, sea_orm::sqlx::Error> {
        const SQL: &str = concat!(
            "INSERT INTO rate_budgets AS b (principal, level, at) VALUES ($1, $2 - $4, now()) ",
            "ON CONFLICT (principal) DO UPDATE SET level = ",
            refilled!(),
            " - $4, at = GREATEST(b.at, now()) WHERE ",
            refilled!(),
            " >= $4 RETURNING level"
        );
        bound(SQL, rule, principal)
            .bind(held)
            .fetch_optional(&self.pool)
            .await
    }

    /// The principal's level now.
    async fn level(&self, rule: Rule, principal: Principal) -> Result<f64, sea_orm::sqlx::Error> {
        const SQL: &str = concat!(
            "SELECT ",
            refilled!(),
            " FROM rate_budgets AS b WHERE principal = $1"
        );
        let level: Option<f64> = bound(SQL, rule, principal)
            .fetch_optional(&self.pool)
            .await?;
        Ok(level.unwrap_or(rule.capacity))
    }

    /// Give back `delta` points (negative: spend them): `Rule::adjust` in SQL.
    async fn adjust(
        &self,
        rule: Rule,
        principal: Principal,
        delta: f64,
    ) -> Result<f64, sea_orm::sqlx::Error> {
        const SQL: &str = concat!(
            "INSERT INTO rate_budgets AS b (principal, level, at) ",
            "VALUES ($1, GREATEST(-$2, LEAST($2, $2 + $4)), now()) ",
            "ON CONFLICT (principal) DO UPDATE SET level = GREATEST(-$2, LEAST($2, ",
            refilled!(),
            " + $4)), at = GREATEST(b.at, now()) RETURNING level"
        );
        bound(SQL, rule, principal)
            .bind(delta)
            .fetch_one(&self.pool)
            .await
    }

    /// Forget buckets that have refilled (two minutes after their last step
    /// at the latest, even from a full minute of debt).
    fn sweep(&self) {
        if self.reservations.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let swept = sea_orm::sqlx::query(
                "DELETE FROM rate_budgets WHERE at < now() - interval '2 minutes'",
            )
            .execute(&pool)
            .await;
            if let Err(error) = swept {
                tracing::warn!(%error, "sweeping rate budgets failed");
            }
        });
    }

    /// Remember the level the database answered.
    fn saw(&self, rule: Rule, principal: Principal, level: f64) {
        self.seen.update(rule, principal, |_| (level, ()));
    }
}

/// Where the buckets are kept.
enum Store {
    Local(Local),
    Shared(Shared),
}

/// A token bucket per principal: `per_minute` points a minute, holding at
/// most `per_minute`.
pub struct RateLimiter {
    rule: Rule,
    store: Store,
}

fn local(clock: Arc<dyn Ticker>) -> Local {
    Local {
        clock,
        buckets: Mutex::new(HashMap::new()),
        calls: AtomicU64::new(0),
    }
}

fn shared_failed(error: &sea_orm::sqlx::Error) {
    // The request goes on: a budget the database cannot answer for admits.
    tracing::warn!(%error, "the shared rate budget could not be read or written");
}

impl RateLimiter {
    /// A limiter of `per_minute` points in memory, or `None` when
    /// `per_minute` is 0 (off).
    pub fn new(per_minute: u64, clock: Arc<dyn Ticker>) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            rule: Rule {
                capacity: per_minute as f64,
                per_second: per_minute as f64 / 60.0,
            },
            store: Store::Local(local(clock)),
        })
    }

    /// A limiter of `per_minute` points shared through PostgreSQL, or
    /// `None` when `per_minute` is 0 (off).
    pub fn shared(per_minute: u64, pool: PgPool) -> Option<Self> {
        let seen = local(Arc::new(SystemTicker::default()));
        Self::new(per_minute, Arc::new(SystemTicker::default())).map(|limiter| Self {
            store: Store::Shared(Shared {
                pool,
                seen,
                reservations: AtomicU64::new(0),
            }),
            ..limiter
        })
    }

    /// Admit a request when the principal has at least one point left.
    /// Shared budgets answer from the level last seen here, refilled since,
    /// without a statement.
    pub async fn admit(&self, principal: Principal) -> Result<Quota, Exhausted> {
        let rule = self.rule;
        match &self.store {
            Store::Local(local) => {
                local.update(rule, principal, |level| (level, rule.within(level, 1.0)))
            }
            // The level last seen here, refilled since: a budget the
            // database said was spent is refused until it has refilled,
            // without a statement; the reservation asks the database.
            Store::Shared(shared) => shared
                .seen
                .update(rule, principal, |level| (level, rule.within(level, 1.0))),
        }
    }

    /// Admit work estimated at `estimate` points only while the budget holds
    /// them (an estimate larger than the whole budget needs a full bucket)
    /// and set them aside, so concurrent requests cannot spend the same
    /// points twice; [`Self::settle`] then charges what the work cost.
    pub async fn reserve(
        &self,
        principal: Principal,
        estimate: u64,
    ) -> Result<Reservation, Exhausted> {
        let rule = self.rule;
        let held = rule.held(estimate);
        let reservation = Reservation { principal, held };
        match &self.store {
            Store::Local(local) => {
                local.update(rule, principal, |level| match rule.within(level, held) {
                    Ok(_) => (level - held, Ok(reservation)),
                    Err(exhausted) => (level, Err(exhausted)),
                })
            }
            Store::Shared(shared) => {
                shared.sweep();
                match shared.take(rule, principal, held).await {
                    Ok(Some(level)) => {
                        shared.saw(rule, principal, level);
                        Ok(reservation)
                    }
                    // Refused: never admitted without the points taken, even
                    // when the level has risen since (a refill, another
                    // request settling); the client retries after the wait.
                    Ok(None) => {
                        let level = match shared.level(rule, principal).await {
                            Ok(level) => level.min(held - f64::EPSILON),
                            Err(error) => {
                                shared_failed(&error);
                                held - rule.per_second
                            }
                        };
                        shared.saw(rule, principal, level);
                        rule.within(level, held).map(|_| reservation)
                    }
                    // Admitted without a budget, so nothing comes back when it settles.
                    Err(error) => {
                        shared_failed(&error);
                        Ok(Reservation {
                            principal,
                            held: 0.0,
                        })
                    }
                }
            }
        }
    }

    /// Replace a reservation by the actual cost, `points`, and report what is left.
    pub async fn settle(&self, reservation: Reservation, points: u64) -> Quota {
        // The refill while the request ran may have filled the reserved
        // points in already: never above a full bucket.
        self.adjust(reservation.principal, reservation.held - points as f64)
            .await
    }

    /// Spend `points` of the principal's budget and report what is left.
    pub async fn charge(&self, principal: Principal, points: u64) -> Quota {
        self.adjust(principal, -(points as f64)).await
    }

    async fn adjust(&self, principal: Principal, delta: f64) -> Quota {
        let rule = self.rule;
        if let (Store::Shared(shared), 0.0) = (&self.store, delta) {
            // Nothing to spend or give back (a refused request): the level
            // last seen, without a statement.
            return rule.quota(shared.seen.update(rule, principal, |level| (level, level)));
        }
        let level = match &self.store {
            Store::Local(local) => local.update(rule, principal, |level| {
                let after = rule.adjust(level, delta);
                (after, after)
            }),
            Store::Shared(shared) => match shared.adjust(rule, principal, delta).await {
                Ok(level) => {
                    shared.saw(rule, principal, level);
                    level
                }
                Err(error) => {
                    shared_failed(&error);
                    shared.seen.update(rule, principal, |level| {
                        let after = rule.adjust(level, delta);
                        (after, after)
                    })
                }
            },
        };
        rule.quota(level)
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
    /// The limits of `config`: shared through `db` when it is PostgreSQL,
    /// in memory on the real clock otherwise.
    pub fn from_config(
        config: &crate::config::ServeConfig,
        db: &sea_orm::DatabaseConnection,
    ) -> Self {
        let per_minute = config.rate_limit_per_minute;
        let requests = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                RateLimiter::shared(per_minute, db.get_postgres_connection_pool().clone())
            }
            _ => RateLimiter::new(per_minute, Arc::new(SystemTicker::default())),
        };
        Self {
            requests,
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

    #[tokio::test]
    async fn a_full_bucket_admits_and_reports_its_quota() {
        let limiter = RateLimiter::new(60, Arc::new(ManualTicker::default())).unwrap();
        let quota = limiter.admit(user()).await.unwrap();
        assert_eq!(
            quota,
            Quota {
                limit: 60,
                remaining: 60,
                used: 0,
                reset: 0
            }
        );
        let quota = limiter.charge(user(), 15).await;
        assert_eq!(quota.remaining, 45);
        assert_eq!(quota.used, 15);
        // 60 points a minute refill 1 a second: 15 seconds until full.
        assert_eq!(quota.reset, 15);
    }

    #[tokio::test]
    async fn the_bucket_refills_continuously_and_never_above_its_capacity() {
        let clock = Arc::new(ManualTicker::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        limiter.charge(user(), 60).await;
        let refused = limiter.admit(user()).await.unwrap_err();
        assert_eq!(refused.retry_after, 1);
        assert_eq!(refused.quota.remaining, 0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(limiter.admit(user()).await.unwrap().remaining, 1);
        clock.advance(Duration::from_secs(30));
        assert_eq!(limiter.admit(user()).await.unwrap().remaining, 31);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(limiter.admit(user()).await.unwrap().remaining, 60);
    }

    #[tokio::test]
    async fn an_expensive_request_leaves_debt_of_at_most_one_minute() {
        let clock = Arc::new(ManualTicker::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        let quota = limiter.charge(user(), 1_000_000).await;
        assert_eq!(quota.remaining, 0);
        assert_eq!(quota.reset, 120);
        assert_eq!(limiter.admit(user()).await.unwrap_err().retry_after, 61);
        clock.advance(Duration::from_secs(61));
        assert!(limiter.admit(user()).await.is_ok());
    }

    #[tokio::test]
    async fn concurrent_reservations_cannot_spend_the_same_points_twice() {
        let limiter = RateLimiter::new(60, Arc::new(ManualTicker::default())).unwrap();
        let first = limiter.reserve(user(), 40).await.unwrap();
        // 20 left: a second request estimated at 40 waits for 20 more seconds.
        let refused = limiter.reserve(user(), 40).await.unwrap_err();
        assert_eq!(refused.retry_after, 20);
        // The first cost less than estimated: the rest comes back.
        assert_eq!(limiter.settle(first, 5).await.remaining, 55);
        let second = limiter.reserve(user(), 40).await.unwrap();
        assert_eq!(limiter.settle(second, 40).await.remaining, 15);
    }

    #[tokio::test]
    async fn a_settled_bucket_never_holds_more_than_its_capacity() {
        let clock = Arc::new(ManualTicker::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        let reservation = limiter.reserve(user(), 50).await.unwrap();
        // The request runs long enough for the bucket to refill.
        clock.advance(Duration::from_secs(120));
        assert_eq!(limiter.settle(reservation, 5).await.remaining, 60);
    }

    #[tokio::test]
    async fn an_estimate_above_the_whole_budget_needs_a_full_bucket() {
        let clock = Arc::new(ManualTicker::default());
        let limiter = RateLimiter::new(60, clock.clone()).unwrap();
        limiter.charge(user(), 1).await;
        assert_eq!(
            limiter
                .reserve(user(), 1_000)
                .await
                .unwrap_err()
                .retry_after,
            1
        );
        clock.advance(Duration::from_secs(1));
        let reservation = limiter.reserve(user(), 1_000).await.unwrap();
        assert_eq!(limiter.admit(user()).await.unwrap_err().quota.remaining, 0);
        assert_eq!(limiter.settle(reservation, 30).await.remaining, 30);
    }

    #[tokio::test]
    async fn principals_have_separate_buckets() {
        let limiter = RateLimiter::new(10, Arc::new(ManualTicker::default())).unwrap();
        limiter.charge(user(), 10).await;
        assert!(limiter.admit(user()).await.is_err());
        assert!(limiter.admit(Principal::Address(HOME)).await.is_ok());
    }

    #[tokio::test]
    async fn an_ipv6_client_is_limited_by_its_64_and_a_mapped_ipv4_as_ipv4() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_network(one), client_network(other));
        assert_ne!(client_network(one), client_network(elsewhere));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_network(mapped), HOME);
        assert_eq!(client_network(HOME), HOME);
    }

    #[tokio::test]
    async fn a_zero_rate_turns_the_limiter_off() {
        assert!(RateLimiter::new(0, Arc::new(ManualTicker::default())).is_none());
    }
}
