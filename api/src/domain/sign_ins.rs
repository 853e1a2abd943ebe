//! Failed sign-ins slow an attacker down without locking an account's owner
//! out: the rule lives with sign-in itself ([`super::Domain::login`]), which
//! counts each attempt before it runs.
//!
//! The counters are rows of `sign_in_counters` (one per client address and
//! one per account, the state as JSON), read and written under a row lock
//! in one transaction per step, so every replica on the database counts
//! the same attempts. [`SignInPolicy::reserve`] and
//! [`SignInPolicy::settle`] are the rule, on counters in memory.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::sign_in_counter;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};

use super::Domain;
use crate::error::ApiResult;

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

/// How long an account remembers the addresses it signed in from.
const RECOGNISED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// The failed sign-ins of one client address: when each was, oldest first
/// (milliseconds since the Unix epoch).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct AddressCounter {
    failures: VecDeque<i64>,
}

/// The failed sign-ins of one account.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct AccountCounter {
    /// Failures since the last success, forgiven after a window without one.
    failures: u32,
    /// When the last failure (or attempt counted as one until it settles) was.
    last_failure: Option<i64>,
    /// Addresses this account recently signed in from, newest first.
    recognised: VecDeque<IpAddr>,
}

/// The counters one step reads and writes: its client address's and the
/// accounts it names (by normalised email).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counters {
    address: AddressCounter,
    accounts: HashMap<String, AccountCounter>,
}

impl Counters {
    /// The latest instant the counters hold (milliseconds since the epoch).
    fn latest(&self) -> i64 {
        let accounts = self.accounts.values().filter_map(|a| a.last_failure);
        self.address
            .failures
            .back()
            .copied()
            .into_iter()
            .chain(accounts)
            .max()
            .unwrap_or(i64::MIN)
    }
}

/// The settings of the sign-in limits.
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

/// The email as sign-in compares it.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Whole seconds to wait for `millis` milliseconds, at least one.
fn seconds(millis: i64) -> u64 {
    (millis.max(0) as u64).div_ceil(1000).max(1)
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
impl SignInPolicy {
    /// Whether the limits are on.
    pub fn is_on(&self) -> bool {
        self.max_failures_per_address > 0
    }

    /// The spacing an account with `failures` failures requires between attempts.
    fn delay(&self, failures: u32) -> Duration {
        match failures.checked_sub(self.free_failures) {
            None => Duration::ZERO,
            Some(over) => Duration::from_secs(1u64 << over.min(30)).min(self.max_delay),
        }
    }

    /// Count one attempt per entry of `accounts` (the email each sign-in in a
    /// request names, if any) against those accounts and `address` at `now`
    /// (milliseconds since the epoch), before they run; refused with the
    /// seconds to wait when the address has used its failures or an account
    /// must not be tried from it yet.
    pub fn reserve(
        &self,
        counters: &mut Counters,
        accounts: &[Option<String>],
        address: IpAddr,
        now: i64,
    ) -> Result<(), u64> {
        let window = millis(self.window);
        // The attacker's address: a sliding window of failures.
        let max = self.max_failures_per_address as usize;
        let times = &mut counters.address.failures;
        while times.front().is_some_and(|at| now - at >= window) {
            times.pop_front();
        }
        let over = (times.len() + accounts.len()).saturating_sub(max);
        if over > 0 {
            // The attempt that must expire first is the `over`-th oldest.
            let expires = match times.get(over - 1) {
                Some(at) => at + window - now,
                None => window,
            };
            return Err(seconds(expires));
        }
        // The accounts: attempts spaced out by the growing delay.
        let mut emails: Vec<String> = Vec::new();
        for email in accounts.iter().flatten() {
            let email = normalise_email(email);
            // Several guesses at one account in one request count one after another.
            let earlier = emails.iter().filter(|e| **e == email).count() as u32;
            let account = counters.accounts.entry(email.clone()).or_default();
            if account.last_failure.is_some_and(|at| now - at >= window) {
                account.failures = 0;
            }
            if !account.recognised.contains(&address) {
                let previous = if earlier > 0 {
                    Some(now)
                } else {
                    account.last_failure
                };
                if let Some(at) = previous {
                    let wait = at + millis(self.delay(account.failures + earlier)) - now;
                    if wait > 0 {
                        return Err(seconds(wait));
                    }
                }
            }
            emails.push(email);
        }
        times.extend(std::iter::repeat_n(now, accounts.len()));
        for email in emails {
            let account = counters.accounts.entry(email).or_default();
            account.failures += 1;
            account.last_failure = Some(now);
        }
        Ok(())
    }

    /// Settle one reserved attempt.
    pub fn settle(
        &self,
        counters: &mut Counters,
        account: Option<&str>,
        address: IpAddr,
        outcome: SignInOutcome,
    ) {
        if outcome == SignInOutcome::Failed {
            return;
        }
        counters.address.failures.pop_back();
        let Some(email) = account else { return };
        let Some(account) = counters.accounts.get_mut(&normalise_email(email)) else {
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

/// The row key of an address's counter.
fn address_key(address: IpAddr) -> String {
    format!("address:{address}")
}

/// The row key of an account's counter: the SHA-256 of its normalised
/// email, so that any email a client sends makes a key of one size.
fn account_key(email: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("account:{}", hex::encode(Sha256::digest(email.as_bytes())))
}

impl Domain {
    /// Count the sign-ins of `accounts` from `address` before they run
    /// ([`SignInPolicy::reserve`]); `Ok(Err(seconds))` when refused.
    pub async fn reserve_sign_ins(
        &self,
        accounts: &[Option<String>],
        address: IpAddr,
    ) -> ApiResult<Result<(), u64>> {
        let Some(policy) = self.limits.sign_ins.filter(SignInPolicy::is_on) else {
            return Ok(Ok(()));
        };
        if rand::random::<u8>() == 0 {
            // Now and then, whichever replica counts forgets what expired,
            // beside the sign-in rather than in its way.
            let db = self.db.clone();
            tokio::spawn(async move {
                if let Err(error) = sweep_sign_in_counters(&db).await {
                    tracing::warn!(%error, "sweeping sign-in counters failed");
                }
            });
        }
        let emails: Vec<String> = accounts
            .iter()
            .flatten()
            .map(|e| normalise_email(e))
            .collect();
        self.with_sign_in_counters(policy, address, &emails, |counters, now| {
            policy.reserve(counters, accounts, address, now)
        })
        .await
    }

    /// Settle a sign-in reserved with [`Self::reserve_sign_ins`].
    pub async fn settle_sign_in(
        &self,
        account: Option<&str>,
        address: IpAddr,
        outcome: SignInOutcome,
    ) -> ApiResult<()> {
        let Some(policy) = self.limits.sign_ins.filter(SignInPolicy::is_on) else {
            return Ok(());
        };
        if outcome == SignInOutcome::Failed {
            return Ok(());
        }
        let emails: Vec<String> = account.map(normalise_email).into_iter().collect();
        self.with_sign_in_counters(policy, address, &emails, |counters, _| {
            policy.settle(counters, account, address, outcome);
        })
        .await
    }

    /// Run `step` on the counters of `address` and `emails`, locked for
    /// the transaction, and write back those it changed. A counter that is
    /// not there yet is inserted empty first, so there is a row to lock.
    async fn with_sign_in_counters<R>(
        &self,
        policy: SignInPolicy,
        address: IpAddr,
        emails: &[String],
        step: impl FnOnce(&mut Counters, i64) -> R,
    ) -> ApiResult<R> {
        let mut keys: Vec<String> = emails.iter().map(|e| account_key(e)).collect();
        keys.push(address_key(address));
        keys.sort();
        keys.dedup();
        let txn = self.begin_write().await?;
        let empty = keys.iter().map(|key| sign_in_counter::ActiveModel {
            key: Set(key.clone()),
            state: Set("{}".to_owned()),
            expires_at: Set(entity::now()),
        });
        sign_in_counter::Entity::insert_many(empty)
            .on_conflict(
                OnConflict::column(sign_in_counter::Column::Key)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        let rows = sign_in_counter::Entity::find()
            .filter(sign_in_counter::Column::Key.is_in(keys.iter().cloned()))
            .order_by_asc(sign_in_counter::Column::Key)
            .lock_exclusive()
            .all(&txn)
            .await?;
        let before = read_counters(&rows, address, emails);
        let mut counters = before.clone();
        // Read once the rows are locked, and never before an instant they
        // hold (another replica's clock may run a little ahead).
        let now = entity::now();
        let millis = now.timestamp_millis().max(before.latest());
        let result = step(&mut counters, millis);
        if counters != before {
            // Written whether or not the row is still there (a sweep may
            // have deleted it since it was inserted empty).
            let rows = written_counters(&counters, address, policy, now);
            sign_in_counter::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::column(sign_in_counter::Column::Key)
                        .update_columns([
                            sign_in_counter::Column::State,
                            sign_in_counter::Column::ExpiresAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(result)
    }
}

/// Delete counters that no longer matter, passing over rows a sign-in holds
/// (on PostgreSQL: `SKIP LOCKED`, so the sweep never waits for one, nor one for it).
async fn sweep_sign_in_counters(db: &sea_orm::DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "DELETE FROM sign_in_counters WHERE key IN (SELECT key FROM sign_in_counters \
             WHERE expires_at < $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)"
        }
        _ => "DELETE FROM sign_in_counters WHERE expires_at < ?",
    };
    let swept = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [entity::now().into()],
        ))
        .await?;
    Ok(swept.rows_affected())
}

/// A counter's state as stored.
fn to_json(value: &impl Serialize) -> String {
    // Plain data: serialising cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// The counters of `rows` (an unreadable state counts as empty).
fn read_counters(rows: &[sign_in_counter::Model], address: IpAddr, emails: &[String]) -> Counters {
    let state = |key: &str| rows.iter().find(|row| row.key == key).map(|row| &row.state);
    let mut counters = Counters::default();
    if let Some(state) = state(&address_key(address)) {
        counters.address = serde_json::from_str(state).unwrap_or_default();
    }
    for email in emails {
        if let Some(state) = state(&account_key(email)) {
            let account = serde_json::from_str(state).unwrap_or_default();
            counters.accounts.insert(email.clone(), account);
        }
    }
    counters
}

/// The rows to write for `counters`, each kept as long as it matters: an
/// address for its window, an account for its window or, once it has
/// recognised addresses, for [`RECOGNISED_FOR`].
fn written_counters(
    counters: &Counters,
    address: IpAddr,
    policy: SignInPolicy,
    now: DateTime<Utc>,
) -> Vec<sign_in_counter::ActiveModel> {
    let row = |key: String, state: String, kept: Duration| sign_in_counter::ActiveModel {
        key: Set(key),
        state: Set(state),
        expires_at: Set(now + chrono::Duration::from_std(kept).unwrap_or(chrono::Duration::MAX)),
    };
    let mut rows = vec![row(
        address_key(address),
        to_json(&counters.address),
        policy.window,
    )];
    for (email, account) in &counters.accounts {
        let kept = if account.recognised.is_empty() {
            policy.window
        } else {
            RECOGNISED_FOR.max(policy.window)
        };
        rows.push(row(account_key(email), to_json(account), kept));
    }
    rows
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use super::*;
    use crate::domain::clock::{ManualTicker, Ticker};

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const AWAY: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    fn policy() -> SignInPolicy {
        SignInPolicy {
            max_failures_per_address: 3,
            window: Duration::from_secs(900),
            free_failures: 2,
            max_delay: Duration::from_secs(8),
        }
    }

    /// The counters of every address and account in memory, stored and
    /// loaded around each step as the database does.
    struct SignInLimiter {
        policy: SignInPolicy,
        clock: Arc<ManualTicker>,
        addresses: RefCell<HashMap<IpAddr, AddressCounter>>,
        accounts: RefCell<HashMap<String, AccountCounter>>,
    }

    impl SignInLimiter {
        fn load(&self, address: IpAddr, emails: &[String]) -> Counters {
            let accounts = self.accounts.borrow();
            Counters {
                address: self
                    .addresses
                    .borrow()
                    .get(&address)
                    .cloned()
                    .unwrap_or_default(),
                accounts: emails
                    .iter()
                    .filter_map(|e| Some((e.clone(), accounts.get(e)?.clone())))
                    .collect(),
            }
        }

        fn store(&self, address: IpAddr, counters: Counters) {
            self.addresses
                .borrow_mut()
                .insert(address, counters.address);
            self.accounts.borrow_mut().extend(counters.accounts);
        }

        fn now(&self) -> i64 {
            millis(self.clock.elapsed())
        }

        fn reserve(&self, accounts: &[Option<String>], address: IpAddr) -> Result<(), u64> {
            let emails: Vec<String> = accounts
                .iter()
                .flatten()
                .map(|e| normalise_email(e))
                .collect();
            let mut counters = self.load(address, &emails);
            let result = self
                .policy
                .reserve(&mut counters, accounts, address, self.now());
            self.store(address, counters);
            result
        }

        fn settle(&self, account: Option<&str>, address: IpAddr, outcome: SignInOutcome) {
            let emails: Vec<String> = account.map(normalise_email).into_iter().collect();
            let mut counters = self.load(address, &emails);
            self.policy.settle(&mut counters, account, address, outcome);
            self.store(address, counters);
        }
    }

    fn sign_ins(clock: Arc<ManualTicker>) -> SignInLimiter {
        SignInLimiter {
            policy: policy(),
            clock,
            addresses: RefCell::default(),
            accounts: RefCell::default(),
        }
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
    fn a_limit_of_zero_turns_the_limiter_off() {
        let policy = SignInPolicy {
            max_failures_per_address: 0,
            ..policy()
        };
        assert!(!policy.is_on());
        assert!(self::policy().is_on());
    }

    #[test]
    fn failed_sign_ins_slow_an_account_down_with_a_growing_delay() {
        let clock = Arc::new(ManualTicker::default());
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
        let clock = Arc::new(ManualTicker::default());
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
        let clock = Arc::new(ManualTicker::default());
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
        let limiter = sign_ins(Arc::new(ManualTicker::default()));
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
        let limiter = sign_ins(Arc::new(ManualTicker::default()));
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
        let limiter = sign_ins(Arc::new(ManualTicker::default()));
        let four = vec![Some("a@x.test".to_owned()); 4];
        assert_eq!(limiter.reserve(&four, HOME), Err(900));
        // Two free failures in one request pass; a third guess would have to wait.
        let two = vec![Some("a@x.test".to_owned()); 2];
        limiter.reserve(&two, AWAY).unwrap();
        let other = vec![Some("b@x.test".to_owned()); 3];
        assert_eq!(limiter.reserve(&other, address(7)), Err(1));
    }
}
