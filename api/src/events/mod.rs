//! Live events: every committed history entry, fanned out to the
//! subscribers of its program, and every committed notification, to its
//! recipient's subscriptions. Both tables are append-only feeds ([`Feed`]:
//! [`HistoryFeed`], [`NotificationFeed`]), each followed the same way.
//!
//! `domain::audit::record` announces each history entry inside its
//! transaction (`domain::notifications` each notification); a tailer per
//! server and feed turns announcements of *committed* rows into events on an
//! in-process broadcast channel, which `Domain::program_events` and the
//! notification inbox filter per subscriber.
//!
//! - PostgreSQL: the announcement is `pg_notify(<feed channel>, <id>)`
//!   (`trestle_events`, `trestle_notifications`). PostgreSQL delivers a
//!   notification only when its transaction commits, and to every session
//!   listening on the database, so every replica hears every row and
//!   rolled-back work is never heard. A lost listener connection is
//!   re-established and the gap back-filled from the feed's table.
//! - SQLite (one process): the announcement wakes the feed's tailer, which
//!   reads the rows past the last `rowid` it saw. Writers are serialised
//!   (`BEGIN IMMEDIATE`) and the tables are append-only, so rowids grow in
//!   commit order and uncommitted rows are invisible to it.
//!
//! A subscription delivers exactly the rows committed after it started:
//! each event carries its place in the commit history (the writing
//! transaction's id on PostgreSQL, the rowid on SQLite), compared with a
//! [`Horizon`] read when the subscription starts.
//!
//! The tailers read through their own connection handle, outside the
//! statement counter, so live events never disturb the N+1 measurements.

use std::sync::{
    Arc, LazyLock,
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
};

use chrono::{DateTime, Utc};
use entity::{audit_event::Verb, user};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde_json::Value;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use sea_orm::sqlx::postgres::PgConnectOptions;
pub use tailers::{Feed, HistoryFeed, NotificationFeed};
use tailers::{PostgresTailer, Publisher, SqliteTailer};

mod tailers;

/// The PostgreSQL notification channel carrying the ids of committed history entries.
pub const CHANNEL: &str = "trestle_events";

/// The PostgreSQL notification channel carrying the ids of committed notifications.
pub const NOTIFICATION_CHANNEL: &str = "trestle_notifications";

/// Events a slow subscriber may fall behind before its subscription ends.
const BUS_CAPACITY: usize = 1024;

/// Signals history writes on SQLite, where there is no `NOTIFY`.
/// Process-wide because `audit::record` only sees a connection; a spurious
/// wake costs one query.
pub(crate) static HISTORY_WRITES: LazyLock<watch::Sender<u64>> =
    LazyLock::new(|| watch::channel(0).0);

/// Signals notification writes on SQLite, as [`HISTORY_WRITES`] does history.
pub(crate) static NOTIFICATION_WRITES: LazyLock<watch::Sender<u64>> =
    LazyLock::new(|| watch::channel(0).0);

/// What happened to the changed entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// It was created (or, for a program member, added).
    Created,
    /// Some of its fields changed.
    Updated,
    /// It was deleted (or, for a program member, removed).
    Deleted,
    /// The program was archived.
    Archived,
    /// The program was restored from the archive.
    Unarchived,
    /// The decision was taken (accepted, rejected or superseded).
    Decided,
    /// The status update was posted.
    Posted,
}

impl ChangeKind {
    /// Its name, as the GraphQL enum `ProgramEventKind` and webhook payloads spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Updated => "UPDATED",
            Self::Deleted => "DELETED",
            Self::Archived => "ARCHIVED",
            Self::Unarchived => "UNARCHIVED",
            Self::Decided => "DECIDED",
            Self::Posted => "POSTED",
        }
    }

    /// The kind of a history `action` such as `workstream.create`; `changes`
    /// tells an added program member (`member.set` of a new row) from a new role.
    /// Actions this version does not know count as updates.
    pub fn of(action: &str, changes: &Value) -> Self {
        let Some(verb) = Verb::of_action(action) else {
            return Self::Updated;
        };
        match verb {
            Verb::Create | Verb::Capture => Self::Created,
            Verb::Update
            | Verb::Commit
            | Verb::Decline
            | Verb::Deliver
            | Verb::Logout
            | Verb::LogoutEverywhere
            | Verb::Deactivate
            | Verb::Reactivate => Self::Updated,
            Verb::Delete | Verb::Remove | Verb::Revoke => Self::Deleted,
            Verb::Archive => Self::Archived,
            Verb::Unarchive => Self::Unarchived,
            Verb::Decide => Self::Decided,
            Verb::Post => Self::Posted,
            // `audit::diff` lists `id` only when the row did not exist before.
            Verb::Set if changes.get("id").is_some_and(|id| id["before"].is_null()) => {
                Self::Created
            }
            Verb::Set => Self::Updated,
        }
    }
}

/// Where a change sits in the database's commit history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The `rowid` of its history row (SQLite: rowids grow in commit order).
    Row(i64),
    /// The id of the transaction that wrote it (PostgreSQL).
    Transaction(u64),
    /// Not known (a PostgreSQL back-fill): delivered to every subscriber.
    Unknown,
}

/// What had committed when a subscription started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Horizon {
    /// Every row up to this `rowid` (SQLite).
    Row(i64),
    /// A PostgreSQL snapshot: transactions below `xmin` and those below
    /// `xmax` but not `in_progress` had committed.
    Snapshot {
        /// Lowest transaction still running.
        xmin: u64,
        /// One past the highest transaction that had finished.
        xmax: u64,
        /// Transactions between the two that were still running.
        in_progress: Vec<u64>,
    },
}

impl Horizon {
    /// Whether a change at `position` had already committed at this horizon.
    pub fn includes(&self, position: Position) -> bool {
        match (self, position) {
            (Self::Row(max), Position::Row(row)) => row <= *max,
            (
                Self::Snapshot {
                    xmin,
                    xmax,
                    in_progress,
                },
                Position::Transaction(xid),
            ) => xid < *xmin || (xid < *xmax && !in_progress.contains(&xid)),
            _ => false,
        }
    }

    /// Parse PostgreSQL's `pg_snapshot` text, `xmin:xmax:xip,xip,…`.
    fn parse_snapshot(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, ':');
        let xmin = parts.next()?.parse().ok()?;
        let xmax = parts.next()?.parse().ok()?;
        let in_progress = parts
            .next()?
            .split(',')
            .filter(|xid| !xid.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        Some(Self::Snapshot {
            xmin,
            xmax,
            in_progress,
        })
    }

    /// The horizon of `db` now, for the rows of feed `F`.
    pub async fn now<F: Feed>(db: &impl ConnectionTrait) -> ApiResult<Self> {
        match db.get_database_backend() {
            DbBackend::Postgres => {
                let row = db
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT pg_current_snapshot()::text AS snapshot",
                    ))
                    .await?
                    .ok_or_else(|| ApiError::internal("pg_current_snapshot returned no row"))?;
                let text: String = row.try_get("", "snapshot")?;
                Self::parse_snapshot(&text).ok_or_else(|| {
                    ApiError::internal(format!("unexpected pg_snapshot text {text:?}"))
                })
            }
            _ => Ok(Self::Row(tailers::max_rowid::<F::Entity>(db).await?)),
        }
    }
}

/// One committed notification, as delivered to its recipient's subscriptions.
#[derive(Debug, Clone)]
pub struct NotificationEvent {
    /// Its place in the commit history.
    pub position: Position,
    /// The row.
    pub notification: entity::notification::Model,
}

/// One committed change, as delivered to subscribers.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    /// Its place in the commit history.
    pub position: Position,
    /// The history entry's id (`AuditEvent.id`).
    pub id: Uuid,
    /// The program it happened in, if any.
    pub program_id: Option<Uuid>,
    /// Another program the change reveals (see `AuditEvent`'s visibility).
    pub related_program_id: Option<Uuid>,
    /// What happened, derived from `action`.
    pub kind: ChangeKind,
    /// The history action, e.g. `decision.decide`.
    pub action: String,
    /// The kind of entity changed, e.g. `Workstream`.
    pub entity_type: String,
    /// The entity changed.
    pub entity_id: Uuid,
    /// Who did it, if the account still exists.
    pub actor: Option<user::Model>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// Announce history entry `event_id` to live subscribers once the caller's
/// transaction commits; called by `audit::record` inside that transaction.
/// With `access`, the change concerns accounts or memberships: every
/// replica forgets the callers it remembers (`domain::callers`).
pub async fn announce(db: &impl ConnectionTrait, event_id: Uuid, access: bool) -> ApiResult<()> {
    let access = if access { ":1" } else { ":0" };
    announce_row::<HistoryFeed>(db, event_id, access).await
}

/// Announce notification `id` to its recipient's subscriptions once the
/// caller's transaction commits.
pub async fn announce_notification(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<()> {
    announce_row::<NotificationFeed>(db, id, "").await
}

/// Announce row `id` of feed `F` once the caller's transaction commits,
/// `suffix` appended to the notification.
async fn announce_row<F: Feed>(
    db: &impl ConnectionTrait,
    id: Uuid,
    suffix: &'static str,
) -> ApiResult<()> {
    let channel = F::CHANNEL;
    match db.get_database_backend() {
        DbBackend::Postgres => {
            // `<row id>:<transaction id><suffix>`: the transaction tells
            // subscribers which rows committed before they subscribed.
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2 || ':' || pg_current_xact_id()::text || $3)",
                [channel.into(), id.to_string().into(), suffix.into()],
            ))
            .await?;
        }
        _ => {
            F::local_writes().send_modify(|writes| *writes = writes.wrapping_add(1));
        }
    }
    Ok(())
}

/// The in-process fan-out of committed changes, one per server.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<BusInner>,
}

struct BusInner {
    sender: broadcast::Sender<Arc<ChangeEvent>>,
    notifications: broadcast::Sender<Arc<NotificationEvent>>,
    /// Subscriptions past their horizon: changes committed now reach them.
    live: Arc<AtomicUsize>,
    /// Dropped with the last handle on the bus, which stops the tailer.
    stop: watch::Sender<()>,
    /// Whether a tailer runs: a second one would deliver everything twice.
    started: AtomicBool,
    /// Changes to accounts and memberships committed or heard of.
    access: AccessChanges,
}

/// Counts the committed changes to accounts, API tokens, programs and
/// memberships a server knows of: those it commits itself and those it
/// hears of from other replicas, and once more whenever it may have missed
/// some (a lost listener). What was read about a caller before the count
/// last moved may no longer hold (`domain::callers`).
#[derive(Debug, Clone, Default)]
pub struct AccessChanges(Arc<AtomicU64>);

impl AccessChanges {
    /// The count now.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// One more change (or some may have been missed).
    pub fn record(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus with no tailer yet: nothing is delivered until [`Self::start`].
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(BUS_CAPACITY);
        let (notifications, _) = broadcast::channel(BUS_CAPACITY);
        let (stop, _) = watch::channel(());
        Self {
            inner: Arc::new(BusInner {
                sender,
                notifications,
                live: Arc::new(AtomicUsize::new(0)),
                stop,
                started: AtomicBool::new(false),
                access: AccessChanges::default(),
            }),
        }
    }

    /// The count of changes to accounts and memberships this server knows of.
    pub fn access_changes(&self) -> AccessChanges {
        self.inner.access.clone()
    }

    /// Receive every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>> {
        self.inner.sender.subscribe()
    }

    /// Receive every notification committed from now on, whoever it is for.
    pub fn subscribe_notifications(&self) -> broadcast::Receiver<Arc<NotificationEvent>> {
        self.inner.notifications.subscribe()
    }

    /// Subscriptions on this server (to programs and to notifications) that
    /// every row committed from now on will reach.
    pub fn subscriber_count(&self) -> usize {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// Count one subscription in [`Self::subscriber_count`] while the
    /// returned guard lives.
    pub fn live(&self) -> Live {
        self.inner.live.fetch_add(1, Ordering::SeqCst);
        Live(self.inner.live.clone())
    }

    /// Start following the history of `db`. When this returns, every change
    /// committed afterwards (by this server or any other) will be delivered.
    /// The tailer stops when the last handle on the bus is dropped; starting
    /// a started bus does nothing.
    ///
    /// On PostgreSQL the listeners connect to `listen_url` when given (a
    /// direct connection when `db` goes through a pooler), else as `db` does.
    ///
    /// A history entry that concerns accounts or memberships is counted in
    /// [`Self::access_changes`], as is a listener lost and found again.
    pub async fn start(
        &self,
        db: &DatabaseConnection,
        listen_url: Option<&str>,
    ) -> Result<(), DbErr> {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let direct = listen_url
            .map(|url| {
                url.parse::<PgConnectOptions>().map_err(|error| {
                    DbErr::Custom(format!(
                        "TRESTLE_DATABASE_LISTEN_URL is not a PostgreSQL URL: {error}"
                    ))
                })
            })
            .transpose()?;
        let direct = direct.as_ref();
        let history = self.inner.sender.clone();
        let stop = || self.inner.stop.subscribe();
        let access = &self.inner.access;
        follow::<HistoryFeed>(db, direct, history, access, stop()).await?;
        let notifications = self.inner.notifications.clone();
        follow::<NotificationFeed>(db, direct, notifications, access, stop()).await
    }
}

/// The same pool as `db` without its statement counter: for work in the
/// background (the tailers, the notification sweep), so it never disturbs a
/// request's statement count.
pub fn background_connection(db: &DatabaseConnection) -> DatabaseConnection {
    use sea_orm::{SqlxPostgresConnector, SqlxSqliteConnector};
    match db.get_database_backend() {
        DbBackend::Postgres => SqlxPostgresConnector::from_sqlx_postgres_pool(
            db.get_postgres_connection_pool().clone(),
        ),
        _ => SqlxSqliteConnector::from_sqlx_sqlite_pool(db.get_sqlite_connection_pool().clone()),
    }
}

/// Start the tailer of feed `F` on `db`, broadcasting to `sender` (and
/// counting in `access` what concerns accounts) until `stop`.
async fn follow<F: Feed>(
    db: &DatabaseConnection,
    direct: Option<&PgConnectOptions>,
    sender: broadcast::Sender<Arc<F::Event>>,
    access: &AccessChanges,
    stop: watch::Receiver<()>,
) -> Result<(), DbErr> {
    let publisher = Publisher::<F> {
        sender,
        reader: background_connection(db),
        access: access.clone(),
    };
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            let tailer = PostgresTailer::start(pool, direct, publisher).await?;
            tokio::spawn(tailer.run(stop));
        }
        DbBackend::Sqlite => {
            let tailer = SqliteTailer::start(publisher).await?;
            tokio::spawn(tailer.run(stop));
        }
        other => {
            tracing::warn!(
                backend = ?other,
                "live change events are not supported on this database"
            );
        }
    }
    Ok(())
}

/// One live subscription, counted in [`EventBus::subscriber_count`] until dropped.
pub struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn kinds_follow_the_action_verb() {
        let none = json!({});
        assert_eq!(
            ChangeKind::of("workstream.create", &none),
            ChangeKind::Created
        );
        assert_eq!(ChangeKind::of("risk.update", &none), ChangeKind::Updated);
        assert_eq!(
            ChangeKind::of("dependency.delete", &none),
            ChangeKind::Deleted
        );
        assert_eq!(ChangeKind::of("member.remove", &none), ChangeKind::Deleted);
        assert_eq!(
            ChangeKind::of("program.archive", &none),
            ChangeKind::Archived
        );
        assert_eq!(
            ChangeKind::of("program.unarchive", &none),
            ChangeKind::Unarchived
        );
        assert_eq!(
            ChangeKind::of("decision.decide", &none),
            ChangeKind::Decided
        );
        assert_eq!(
            ChangeKind::of("statusUpdate.post", &none),
            ChangeKind::Posted
        );
        assert_eq!(ChangeKind::of("risk.escalate", &none), ChangeKind::Updated);
    }

    #[test]
    fn a_member_set_is_an_addition_only_for_a_new_row() {
        let added = json!({ "id": { "before": null, "after": "0190…" }, "role": { "before": null, "after": "VIEWER" } });
        let changed = json!({ "role": { "before": "VIEWER", "after": "EDITOR" } });
        assert_eq!(ChangeKind::of("member.set", &added), ChangeKind::Created);
        assert_eq!(ChangeKind::of("member.set", &changed), ChangeKind::Updated);
    }

    #[test]
    fn a_horizon_includes_what_had_committed() {
        let rows = Horizon::Row(7);
        assert!(rows.includes(Position::Row(7)));
        assert!(!rows.includes(Position::Row(8)));
        assert!(!rows.includes(Position::Unknown));

        // As in PostgreSQL's documentation: 100 and 103 were still running.
        let snapshot = Horizon::parse_snapshot("100:105:100,103").unwrap();
        assert!(snapshot.includes(Position::Transaction(99)));
        assert!(!snapshot.includes(Position::Transaction(100)));
        assert!(snapshot.includes(Position::Transaction(101)));
        assert!(snapshot.includes(Position::Transaction(102)));
        assert!(!snapshot.includes(Position::Transaction(103)));
        assert!(snapshot.includes(Position::Transaction(104)));
        assert!(!snapshot.includes(Position::Transaction(105)));
        assert!(!snapshot.includes(Position::Unknown));
        assert_eq!(
            Horizon::parse_snapshot("8852:8852:"),
            Some(Horizon::Snapshot {
                xmin: 8852,
                xmax: 8852,
                in_progress: vec![]
            })
        );
        assert_eq!(Horizon::parse_snapshot("garbage"), None);
    }

    #[test]
    fn a_bus_counts_live_subscriptions() {
        let bus = EventBus::new();
        assert_eq!(bus.subscriber_count(), 0);
        let live = bus.live();
        assert_eq!(bus.subscriber_count(), 1);
        drop(live);
        assert_eq!(bus.subscriber_count(), 0);
    }
}
