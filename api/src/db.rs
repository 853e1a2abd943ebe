//! Opening the database and keeping its schema current.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::DatabaseConfig;

/// Counts SQL statements, for metrics and for the N+1 tests.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements executed so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether `url` names a SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Open a pool: SQLite in WAL mode with a busy timeout and foreign keys on
/// every connection; statements counted by `counter`.
pub async fn connect(
    config: &DatabaseConfig,
    counter: &StatementCounter,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.database_max_connections.max(1))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if config.database_statement_timeout_secs > 0 && !is_sqlite(&config.database_url) {
        // A request that times out drops its future; this makes the database
        // give up on the statement too instead of running it to the end.
        options.statement_timeout(Duration::from_secs(config.database_statement_timeout_secs));
    }
    // sqlx pings every connection as it goes back to the pool, which also
    // runs whatever rollback a dropped transaction queued. So a connection
    // taken from the pool needs no second ping unless it sat idle long
    // enough for the server or a proxy to have dropped it, and its
    // transaction state is already current when it is handed out.
    options.test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
    if is_sqlite(&config.database_url) {
        options.map_sqlx_sqlite_opts(|opts| {
            // FULL: a commit is on disk (WAL synced) before it is confirmed,
            // so an OK survives a power loss too, not only a crash.
            opts.journal_mode(sqlx_sqlite_journal_wal())
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
        });
        options.map_sqlx_sqlite_before_acquire(|conn, _| {
            Box::pin(outside_transaction::<sea_orm::sqlx::Sqlite>(conn))
        });
    } else {
        options.map_sqlx_postgres_before_acquire(|conn, _| {
            Box::pin(outside_transaction::<sea_orm::sqlx::Postgres>(conn))
        });
    }
    if !is_sqlite(&config.database_url) {
        probe_postgres(&config.database_url).await?;
    }
    let mut db = Database::connect(options)
        .await
        .map_err(|error| explain(&config.database_url, error))?;
    let counter = counter.0.clone();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        // `TRESTLE_LOG=trestle::sql=trace` shows every statement and its time.
        tracing::trace!(target: "trestle::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
    });
    Ok(db)
}

/// Connect to PostgreSQL once, so that a server that is down or refuses
/// the credentials is reported as such at once, not as a pool timeout.
async fn probe_postgres(url: &str) -> Result<(), DbErr> {
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _, postgres::PgConnectOptions};
    use std::str::FromStr;
    let options = PgConnectOptions::from_str(url).map_err(|error| {
        DbErr::Custom(format!(
            "TRESTLE_DATABASE_URL is not a PostgreSQL URL ({error}); expected e.g. postgres://user@127.0.0.1:5432/trestle"
        ))
    })?;
    let place = format!("{}:{}", options.get_host(), options.get_port());
    let attempt = tokio::time::timeout(Duration::from_secs(10), options.connect()).await;
    let error = match attempt {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            return Ok(());
        }
        Ok(Err(error)) => error.to_string(),
        Err(_) => "no answer within 10 seconds".to_owned(),
    };
    Err(DbErr::Custom(format!(
        "cannot connect to PostgreSQL at {place}: {error}. Is PostgreSQL running there, and do TRESTLE_DATABASE_URL's user, password and database exist?"
    )))
}

/// A failed open, with what to do about it.
fn explain(url: &str, error: DbErr) -> DbErr {
    let text = error.to_string();
    if is_sqlite(url) && text.contains("unable to open database file") {
        let hint = if url.contains("mode=rwc") {
            "check that its directory exists and is writable"
        } else {
            "to create it, add ?mode=rwc to the URL, e.g. sqlite://trestle.db?mode=rwc"
        };
        return DbErr::Custom(format!(
            "cannot open the SQLite database {url}: {text}; {hint}"
        ));
    }
    error
}

/// How long a pooled connection may sit idle before it is pinged on its
/// way out of the pool (a restart, a failover or a proxy may have dropped
/// it meanwhile). Under load connections come back sooner and go out
/// without the extra round trip.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Whether a pooled connection may serve again: only when it is outside
/// any transaction. A transaction that did not end in a successful COMMIT or
/// ROLLBACK — a COMMIT that failed on a full disk or an I/O error — can
/// leave the driver and the database apart: SQLite rolls such a transaction
/// back by itself, the driver's own ROLLBACK then fails, and a connection
/// reused in that state would run every later transaction as a savepoint
/// that never commits (answering OK for writes it does not keep). Such a
/// connection is closed instead; the pool opens a fresh one. The release
/// ping has already run any rollback the dropped transaction queued, so the
/// driver's count of open transactions (which only a successful BEGIN,
/// COMMIT or ROLLBACK changes) is current here.
async fn outside_transaction<DB: sea_orm::sqlx::Database>(
    conn: &mut DB::Connection,
) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection;
    let inside = conn.is_in_transaction();
    if inside {
        tracing::warn!(
            "closing a database connection left inside a transaction (a failed commit?)"
        );
    }
    Ok(!inside)
}

fn sqlx_sqlite_journal_wal() -> sea_orm::sqlx::sqlite::SqliteJournalMode {
    sea_orm::sqlx::sqlite::SqliteJournalMode::Wal
}

/// Apply every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    match Migrator::up(db, None).await {
        Ok(()) => Ok(()),
        // Replicas starting together: another one may have applied them.
        Err(error) => {
            let applied = applied_migrations(db).await?;
            if known_migrations().iter().all(|name| applied.contains(name)) {
                Ok(())
            } else {
                Err(error)
            }
        }
    }
}

/// The migrations this build has, by name.
fn known_migrations() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect()
}

/// The migrations the database has applied; none when it has no history table yet.
async fn applied_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = db.get_database_backend();
    let read = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations",
        ))
        .await;
    match read {
        Ok(rows) => Ok(rows
            .iter()
            .filter_map(|row| row.try_get::<String>("", "version").ok())
            .collect()),
        Err(error) => {
            let text = error.to_string();
            if text.contains("does not exist") || text.contains("no such table") {
                Ok(Vec::new())
            } else {
                Err(error)
            }
        }
    }
}

/// Make sure the schema is one this build can run on, before serving:
///
/// - migrations this build has and the database has not are applied when
///   `migrate` (the default), else refused with what to run;
/// - migrations the database has and this build has not mean a newer
///   release migrated it during a rolling upgrade: migrations only add, so
///   this build runs on it as it is.
pub async fn prepare_schema(db: &DatabaseConnection, migrate: bool) -> Result<(), DbErr> {
    let applied = applied_migrations(db).await?;
    let known = known_migrations();
    let pending = known.iter().filter(|name| !applied.contains(name)).count();
    let newer = applied.iter().filter(|name| !known.contains(name)).count();
    if newer > 0 && pending == 0 {
        tracing::warn!(
            newer,
            "the database has migrations this build does not know (a newer release applied them); running on it as it is"
        );
        return Ok(());
    }
    if pending == 0 {
        return Ok(());
    }
    if newer > 0 {
        return Err(DbErr::Custom(format!(
            "the database has {newer} migration(s) this build does not know and lacks {pending} it needs: it belongs to another release"
        )));
    }
    if !migrate {
        return Err(DbErr::Custom(format!(
            "the database needs {pending} migration(s) and TRESTLE_MIGRATE_ON_START is false: run `trestle migrate up` with this release first"
        )));
    }
    self::migrate(db).await
}
