//! Failed sign-ins slow an attacker down without locking an account's owner
//! out: the rule lives with sign-in itself ([`super::Domain::login`]), which
//! counts each attempt before it runs.
//!
//! The counts live in this process's memory: each replica limits on its own.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicU64, Ordering},
};
use std::time::Duration;

use super::clock::Ticker;

/// How often the maps are swept of entries that no longer matter.
const SWEEP_EVERY: u64 = 4096;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked: every update is one assignment.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    clock: Arc<dyn Ticker>,
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
    pub fn new(policy: SignInPolicy, clock: Arc<dyn Ticker>) -> Option<Self> {
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
        let now = self.clock.elapsed();
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::domain::clock::ManualTicker;

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

    fn sign_ins(clock: Arc<ManualTicker>) -> SignInLimiter {
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
    fn a_limit_of_zero_turns_the_limiter_off() {
        let policy = SignInPolicy {
            max_failures_per_address: 0,
            ..policy()
        };
        assert!(SignInLimiter::new(policy, Arc::new(ManualTicker::default())).is_none());
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
