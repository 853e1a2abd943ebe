//! What time it is, as the domain sees it: one clock, injectable, so a test
//! or a tool can fix "now".

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, to the microsecond.
    fn now(&self) -> DateTime<Utc>;

    /// Today as a calendar day in UTC.
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Today as a calendar day in a time zone.
    fn today_in(&self, zone: chrono_tz::Tz) -> NaiveDate {
        self.now().with_timezone(&zone).date_naive()
    }
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        entity::now()
    }
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A source of elapsed time, for budgets and delays: never goes backwards.
pub trait Ticker: Send + Sync {
    /// Time elapsed since a fixed origin.
    fn elapsed(&self) -> Duration;
}

/// The system's monotonic clock.
#[derive(Debug)]
pub struct SystemTicker(Instant);

impl Default for SystemTicker {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl Ticker for SystemTicker {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A ticker that moves only when told: for tests and tools that replay time.
#[derive(Debug, Default)]
pub struct ManualTicker(std::sync::atomic::AtomicU64);

impl ManualTicker {
    /// Move time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Ticker for ManualTicker {
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}
