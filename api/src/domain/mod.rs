//! Domain services: authorization, validation, transactions, audit.
//!
//! Every read and write of the API goes through here; resolvers only parse
//! arguments, call a service and map the result.

pub mod access;
pub mod account;
pub mod api_tokens;
pub mod audit;
pub mod baselines;
pub mod callers;
pub mod capacity;
pub mod clock;
pub mod comments;
pub mod commitments;
pub mod costs;
pub mod credentials;
pub mod decisions;
pub mod dependencies;
pub mod events;
pub mod goals;
pub mod health;
pub mod idempotency;
pub mod links;
pub mod loaders;
pub mod members;
pub mod milestones;
pub mod near;
pub mod nodes;
pub mod notifications;
pub mod pagination;
pub mod patch;
pub mod planning;
pub mod portfolios;
pub mod programs;
pub mod risks;
pub mod sessions;
pub mod sign_ins;
pub mod status_updates;
pub mod sweep;
pub mod teams;
pub mod transfer;
pub mod users;
pub mod validate;
pub mod versioned;
pub mod webhooks;
pub mod workstreams;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::JwtKeys;

/// Limits the domain enforces, from configuration.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest `first`/`last` of a list.
    pub max_page_size: usize,
    /// Most items a plain list returns.
    pub max_list_size: usize,
    /// How far one dependency-cycle check may search.
    pub cycle_search: crate::planning::cycles::Budget,
    /// Most password hashes computed at once.
    pub max_concurrent_hashes: usize,
    /// Limits on failed sign-ins; `None`: off.
    pub sign_ins: Option<sign_ins::SignInPolicy>,
    /// Most work points one request may do (plans loaded, text rendered and returned).
    pub max_request_work: u64,
    /// Whether webhooks may post to loopback, private and link-local addresses.
    pub allow_private_webhooks: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_page_size: 100,
            max_list_size: 1000,
            cycle_search: crate::planning::cycles::Budget {
                steps: 256,
                workstreams: 20_000,
            },
            max_concurrent_hashes: default_concurrent_hashes(),
            sign_ins: None,
            max_request_work: 1_000_000,
            allow_private_webhooks: false,
        }
    }
}

/// One password hash at a time per core.
pub fn default_concurrent_hashes() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// The application's services, shared by every request.
///
/// A handle: cloning it (every request's loaders hold one) shares the services.
#[derive(Clone)]
pub struct Domain(Arc<Services>);

/// What a [`Domain`] handle shares.
#[derive(Clone)]
pub struct Services {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Token keys.
    pub jwt: Arc<JwtKeys>,
    /// Configured limits.
    pub limits: Limits,
    /// Live change events of committed work.
    pub events: crate::events::EventBus,
    /// What time it is.
    pub clock: Arc<dyn clock::Clock>,
    /// The password hashing threads.
    pub hasher: Arc<crate::auth::password::Hasher>,
    /// Signed-in callers remembered between changes to access.
    pub callers: Arc<callers::Callers>,
}

impl std::ops::Deref for Domain {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl Domain {
    /// Bundle the services.
    pub fn new(db: DatabaseConnection, jwt: JwtKeys, limits: Limits) -> Self {
        let events = crate::events::EventBus::new();
        let callers = callers::Callers::new(callers::DEFAULT_TTL, events.access_changes());
        Self(Arc::new(Services {
            db,
            jwt: Arc::new(jwt),
            hasher: Arc::new(crate::auth::password::Hasher::new(
                limits.max_concurrent_hashes,
            )),
            limits,
            events,
            clock: Arc::new(clock::SystemClock),
            callers: Arc::new(callers),
        }))
    }

    /// The same services remembering signed-in callers for at most `ttl`
    /// (zero: every request reads its caller).
    pub fn remembering_callers_for(mut self, ttl: std::time::Duration) -> Self {
        let services = Arc::make_mut(&mut self.0);
        let changes = services.events.access_changes();
        services.callers = Arc::new(callers::Callers::new(ttl, changes));
        self
    }

    /// The same services reading and writing through `db`.
    pub fn with_db(&self, db: DatabaseConnection) -> Self {
        let mut services = Services::clone(&self.0);
        services.db = db;
        Self(Arc::new(services))
    }

    /// The same services with another clock.
    pub fn with_clock(mut self, clock: impl clock::Clock) -> Self {
        Arc::make_mut(&mut self.0).clock = Arc::new(clock);
        self
    }

    /// Today as a calendar day in UTC.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    /// Today in a program's time zone: the day its forecasts start from and
    /// overdue-ness is judged on.
    pub fn today_of(&self, program: &entity::program::Model) -> chrono::NaiveDate {
        self.clock.today_in(validate::zone_of(&program.time_zone))
    }
}

/// A timestamp for stored rows, truncated to microseconds (new rows are
/// stamped with it on insert: see the `entity` crate).
pub use entity::now;

impl Domain {
    /// Open a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so concurrent writers wait their turn instead of
    /// failing on a lock upgrade; PostgreSQL ignores the mode.
    pub async fn begin_write(&self) -> crate::error::ApiResult<sea_orm::DatabaseTransaction> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        Ok(self
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?)
    }

    /// Open a write transaction whose reads must still hold when it commits:
    /// SERIALIZABLE on PostgreSQL, where a concurrent transaction that
    /// invalidates them makes one of the two fail with `CONFLICT`
    /// ([`crate::i18n::Message::Contention`]) to be run again; on SQLite
    /// writers are serialised anyway (`BEGIN IMMEDIATE`).
    pub async fn begin_serializable(
        &self,
    ) -> crate::error::ApiResult<sea_orm::DatabaseTransaction> {
        use sea_orm::{
            DbBackend, IsolationLevel, SqliteTransactionMode, TransactionOptions, TransactionTrait,
        };
        let postgres = self.db.get_database_backend() == DbBackend::Postgres;
        Ok(self
            .db
            .begin_with_options(TransactionOptions {
                isolation_level: postgres.then_some(IsolationLevel::Serializable),
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?)
    }
}
