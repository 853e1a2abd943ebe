//! Live change events: every committed history entry, fanned out to the
//! subscribers of its program.
//!
//! [`audit::record`](super::audit::record) announces each entry inside its
//! transaction; a tailer per server turns announcements of *committed* work
//! into [`ChangeEvent`]s on an in-process broadcast channel, which
//! [`Domain::program_events`] filters per subscriber.
//!
//! - PostgreSQL: the announcement is `pg_notify('trestle_events', <id>)`.
//!   PostgreSQL delivers a notification only when its transaction commits, and
//!   to every session listening on the database, so every replica hears every
//!   change and rolled-back work is never heard. A lost listener connection is
//!   re-established and the gap back-filled from `audit_events`.
//! - SQLite (one process): the announcement wakes the tailer, which reads the
//!   rows past the last `rowid` it saw. Writers are serialised (`BEGIN
//!   IMMEDIATE`), so rowids grow in commit order and uncommitted rows are
//!   invisible to it.
//!
//! A subscription delivers exactly the changes committed after it started:
//! each event carries its place in the commit history (the writing
//! transaction's id on PostgreSQL, the rowid on SQLite), compared with a
//! [`Horizon`] read when the subscription starts.
//!
//! The tailer reads through its own connection handle, outside the statement
//! counter, so live events never disturb the N+1 measurements.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{
    Arc, LazyLock,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{
    audit_event::{self, Subject, Verb},
    user,
};
use futures::Stream;
use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, SqlxPostgresConnector, SqlxSqliteConnector, Statement,
    sea_query::Expr,
};
use serde_json::Value;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};

/// The PostgreSQL notification channel carrying the ids of committed history entries.
pub const CHANNEL: &str = "trestle_events";

/// Events a slow subscriber may fall behind before its subscription ends.
const BUS_CAPACITY: usize = 1024;
/// Most history rows read in one go.
const BATCH: u64 = 500;
/// How often the SQLite tailer looks for writes it was not told about.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Longest wait, after a write signal, for its transaction to commit.
const COMMIT_WAIT: Duration = Duration::from_millis(500);
/// How far back a back-fill after a lost PostgreSQL listener reaches beyond
/// the last sign of life: covers transactions open that long and clock skew
/// between replicas.
const BACKFILL_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Ids remembered to drop duplicates between back-fills and notifications.
const RECENT_IDS: usize = 4096;

/// Signals writes on SQLite, where there is no `NOTIFY`. Process-wide because
/// `audit::record` only sees a connection; a spurious wake costs one query.
static LOCAL_WRITES: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

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
    /// The kind of a history `action` such as `workstream.create`; `changes`
    /// tells an added program member (`member.set` of a new row) from a new role.
    /// Actions this version does not know count as updates.
    pub fn of(action: &str, changes: &Value) -> Self {
        let Some(verb) = Verb::of_action(action) else {
            return Self::Updated;
        };
        match verb {
            Verb::Create => Self::Created,
            Verb::Update => Self::Updated,
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

    /// The horizon of `db` now.
    pub async fn now(db: &impl ConnectionTrait) -> ApiResult<Self> {
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
            _ => {
                let row = db
                    .query_one_raw(Statement::from_string(
                        db.get_database_backend(),
                        "SELECT COALESCE(MAX(rowid), 0) AS seq FROM audit_events",
                    ))
                    .await?
                    .ok_or_else(|| ApiError::internal("MAX(rowid) returned no row"))?;
                Ok(Self::Row(row.try_get("", "seq")?))
            }
        }
    }
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

impl access::Scoped for ChangeEvent {
    fn reach(&self) -> access::Reach {
        match self.program_id {
            Some(program_id) => access::between(program_id, self.related_program_id),
            None => access::Reach::Admins,
        }
    }
}

/// Announce history entry `event_id` to live subscribers once the caller's
/// transaction commits; called by `audit::record` inside that transaction.
pub async fn announce(db: &impl ConnectionTrait, event_id: Uuid) -> ApiResult<()> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            // `<event id>:<transaction id>`: the id tells subscribers which
            // changes committed before they subscribed.
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2 || ':' || pg_current_xact_id()::text)",
                [CHANNEL.into(), event_id.to_string().into()],
            ))
            .await?;
        }
        _ => {
            LOCAL_WRITES.send_modify(|writes| *writes = writes.wrapping_add(1));
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
    /// Subscriptions past their horizon: changes committed now reach them.
    live: Arc<AtomicUsize>,
    /// Dropped with the last handle on the bus, which stops the tailer.
    stop: watch::Sender<()>,
    /// Whether a tailer runs: a second one would deliver everything twice.
    started: AtomicBool,
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
        let (stop, _) = watch::channel(());
        Self {
            inner: Arc::new(BusInner {
                sender,
                live: Arc::new(AtomicUsize::new(0)),
                stop,
                started: AtomicBool::new(false),
            }),
        }
    }

    /// Receive every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>> {
        self.inner.sender.subscribe()
    }

    /// Program subscriptions on this server that every change committed
    /// from now on will reach.
    pub fn subscriber_count(&self) -> usize {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// Start following the history of `db`. When this returns, every change
    /// committed afterwards (by this server or any other) will be delivered.
    /// The tailer stops when the last handle on the bus is dropped; starting
    /// a started bus does nothing.
    pub async fn start(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let stop = self.inner.stop.subscribe();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool().clone();
                let publisher = Publisher {
                    sender: self.inner.sender.clone(),
                    reader: SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone()),
                };
                let tailer = PostgresTailer::start(&pool, publisher).await?;
                tokio::spawn(tailer.run(stop));
            }
            DbBackend::Sqlite => {
                let publisher = Publisher {
                    sender: self.inner.sender.clone(),
                    reader: SqlxSqliteConnector::from_sqlx_sqlite_pool(
                        db.get_sqlite_connection_pool().clone(),
                    ),
                };
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
}

/// Loads committed history rows and broadcasts them.
struct Publisher {
    sender: broadcast::Sender<Arc<ChangeEvent>>,
    /// The same pool as the domain's, without the statement counter.
    reader: DatabaseConnection,
}

impl Publisher {
    /// Broadcast `entries`, in that order; those no longer stored are skipped.
    async fn publish(&self, entries: &[(Uuid, Position)]) -> ApiResult<()> {
        if entries.is_empty() || self.sender.receiver_count() == 0 {
            return Ok(());
        }
        let ids: Vec<Uuid> = entries.iter().map(|(id, _)| *id).collect();
        let rows: HashMap<Uuid, audit_event::Model> = audit_event::Entity::find()
            .filter(audit_event::Column::Id.is_in(ids))
            .all(&self.reader)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        let actor_ids: Vec<Uuid> = rows
            .values()
            .filter_map(|row| row.actor_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let actors: HashMap<Uuid, user::Model> = if actor_ids.is_empty() {
            HashMap::new()
        } else {
            user::Entity::find()
                .filter(user::Column::Id.is_in(actor_ids))
                .all(&self.reader)
                .await?
                .into_iter()
                .map(|user| (user.id, user))
                .collect()
        };
        for (id, position) in entries {
            let Some(row) = rows.get(id) else { continue };
            let event = ChangeEvent {
                position: *position,
                id: row.id,
                program_id: row.program_id,
                related_program_id: row.related_program_id,
                kind: ChangeKind::of(&row.action, &row.changes),
                action: row.action.clone(),
                entity_type: row.entity_type.clone(),
                entity_id: row.entity_id,
                actor: row.actor_id.and_then(|actor| actors.get(&actor).cloned()),
                at: row.at,
            };
            // No receiver left is not an error: nobody is listening.
            let _ = self.sender.send(Arc::new(event));
        }
        Ok(())
    }
}

/// Follows `audit_events` by `rowid` on SQLite.
struct SqliteTailer {
    publisher: Publisher,
    /// The highest rowid already published.
    cursor: i64,
}

impl SqliteTailer {
    async fn start(publisher: Publisher) -> Result<Self, DbErr> {
        let cursor = max_rowid(&publisher.reader).await?;
        Ok(Self { publisher, cursor })
    }

    async fn run(mut self, mut stop: watch::Receiver<()>) {
        let mut writes = LOCAL_WRITES.subscribe();
        loop {
            let signalled = tokio::select! {
                _ = stop.changed() => return,
                changed = writes.changed() => changed.is_ok(),
                _ = tokio::time::sleep(IDLE_POLL) => false,
            };
            // A signal comes from inside a transaction that usually commits
            // within milliseconds: look again, backing off, until it shows.
            let mut backoff = Duration::from_millis(1);
            let mut waited = Duration::ZERO;
            loop {
                let found = match self.poll().await {
                    Ok(found) => found,
                    Err(error) => {
                        tracing::warn!(error = ?error, "could not read new history rows");
                        0
                    }
                };
                if found > 0 || !signalled || waited >= COMMIT_WAIT {
                    break;
                }
                tokio::time::sleep(backoff).await;
                waited += backoff;
                backoff = (backoff * 2).min(Duration::from_millis(100));
            }
        }
    }

    /// Publish the rows committed since the last poll; returns how many.
    async fn poll(&mut self) -> ApiResult<usize> {
        let max = max_rowid(&self.publisher.reader).await?;
        if max < self.cursor {
            // Only a VACUUM renumbers rowids; start over from the new end.
            tracing::warn!("the history table was renumbered; following it from its new end");
            self.cursor = max;
            return Ok(0);
        }
        let mut published = 0;
        while self.cursor < max {
            let rows: Vec<(i64, Uuid)> = audit_event::Entity::find()
                .select_only()
                .column_as(Expr::cust("rowid"), "seq")
                .column(audit_event::Column::Id)
                .filter(Expr::cust_with_values("rowid > ?", [self.cursor]))
                .filter(Expr::cust_with_values("rowid <= ?", [max]))
                .order_by(Expr::cust("rowid"), Order::Asc)
                .limit(BATCH)
                .into_tuple()
                .all(&self.publisher.reader)
                .await?;
            let Some(&(last, _)) = rows.last() else { break };
            let entries: Vec<(Uuid, Position)> = rows
                .into_iter()
                .map(|(row, id)| (id, Position::Row(row)))
                .collect();
            self.publisher.publish(&entries).await?;
            self.cursor = last;
            published += entries.len();
        }
        Ok(published)
    }
}

async fn max_rowid(db: &DatabaseConnection) -> Result<i64, DbErr> {
    Ok(audit_event::Entity::find()
        .select_only()
        .column_as(Expr::cust("COALESCE(MAX(rowid), 0)"), "seq")
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}

/// Follows `NOTIFY trestle_events` on PostgreSQL.
struct PostgresTailer {
    publisher: Publisher,
    listener: PgListener,
    recent: RecentIds,
}

impl PostgresTailer {
    /// Listen on a dedicated connection (same settings as the pool), so the
    /// listener neither takes a pooled connection nor waits for one.
    async fn start(pool: &PgPool, publisher: Publisher) -> Result<Self, DbErr> {
        let listen = async {
            let listener_pool = PgPoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_with((*pool.connect_options()).clone())
                .await?;
            let mut listener = PgListener::connect_with(&listener_pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let listener = listen
            .await
            .map_err(|error| DbErr::Custom(format!("listen on {CHANNEL}: {error}")))?;
        Ok(Self {
            publisher,
            listener,
            recent: RecentIds::new(RECENT_IDS),
        })
    }

    async fn run(mut self, mut stop: watch::Receiver<()>) {
        // The last moment the listener was known to hear everything.
        let mut alive_at = Utc::now();
        // Set while notifications may have been missed, from `alive_at`.
        let mut gap_since: Option<DateTime<Utc>> = None;
        let mut retry = Duration::from_millis(100);
        loop {
            // Notifications arriving meanwhile wait in the listener's buffer.
            while let Some(since) = gap_since {
                match self.backfill(since - BACKFILL_MARGIN).await {
                    Ok(()) => {
                        gap_since = None;
                        retry = Duration::from_millis(100);
                    }
                    Err(error) => {
                        tracing::warn!(error = ?error, "could not back-fill missed change events");
                        tokio::select! {
                            _ = stop.changed() => return,
                            _ = tokio::time::sleep(retry) => {}
                        }
                        retry = (retry * 2).min(Duration::from_secs(10));
                    }
                }
            }
            let received = tokio::select! {
                _ = stop.changed() => return,
                received = self.listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => {
                    let heard_at = Utc::now();
                    let mut entries = Vec::new();
                    let mut next = Some(notification);
                    while let Some(notification) = next {
                        match parse_notification(notification.payload()) {
                            Some((id, position)) if !self.recent.contains(id) => {
                                entries.push((id, position));
                            }
                            Some(_) => {}
                            None => tracing::warn!(
                                payload = notification.payload(),
                                "ignoring a malformed change notification"
                            ),
                        }
                        next = self.listener.next_buffered();
                    }
                    match self.publisher.publish(&entries).await {
                        Ok(()) => {
                            for (id, _) in &entries {
                                self.recent.insert(*id);
                            }
                            alive_at = heard_at;
                        }
                        Err(error) => {
                            // Read them again from the table.
                            tracing::warn!(error = ?error, "could not publish change events");
                            gap_since.get_or_insert(alive_at);
                        }
                    }
                }
                // The connection dropped and has been re-established.
                Ok(None) => {
                    tracing::warn!("the change-event listener reconnected; back-filling");
                    gap_since.get_or_insert(alive_at);
                    alive_at = Utc::now();
                }
                Err(error) => {
                    tracing::warn!(error = ?error, "the change-event listener failed; retrying");
                    gap_since.get_or_insert(alive_at);
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(retry) => {}
                    }
                    retry = (retry * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Publish entries recorded since `since` that were not published yet.
    async fn backfill(&mut self, since: DateTime<Utc>) -> ApiResult<()> {
        use sea_orm::sea_query::ExprTrait;
        let mut after: Option<(DateTime<Utc>, Uuid)> = None;
        loop {
            let mut query = audit_event::Entity::find()
                .select_only()
                .column(audit_event::Column::At)
                .column(audit_event::Column::Id)
                .filter(audit_event::Column::At.gte(since));
            if let Some((at, id)) = after {
                query = query.filter(
                    audit_event::Column::At.gt(at).or(audit_event::Column::At
                        .eq(at)
                        .and(audit_event::Column::Id.gt(id))),
                );
            }
            let rows: Vec<(DateTime<Utc>, Uuid)> = query
                .order_by_asc(audit_event::Column::At)
                .order_by_asc(audit_event::Column::Id)
                .limit(BATCH)
                .into_tuple()
                .all(&self.publisher.reader)
                .await?;
            let Some(&last) = rows.last() else {
                return Ok(());
            };
            let full = rows.len() as u64 == BATCH;
            let fresh: Vec<(Uuid, Position)> = rows
                .into_iter()
                .filter(|(_, id)| !self.recent.contains(*id))
                .map(|(_, id)| (id, Position::Unknown))
                .collect();
            self.publisher.publish(&fresh).await?;
            for (id, _) in &fresh {
                self.recent.insert(*id);
            }
            if !full {
                return Ok(());
            }
            after = Some(last);
        }
    }
}

/// `<event id>:<transaction id>` from a notification.
fn parse_notification(payload: &str) -> Option<(Uuid, Position)> {
    let (id, xid) = payload.split_once(':')?;
    Some((
        Uuid::parse_str(id).ok()?,
        Position::Transaction(xid.parse().ok()?),
    ))
}

/// A bounded set of the most recently published ids.
struct RecentIds {
    order: VecDeque<Uuid>,
    members: HashSet<Uuid>,
    capacity: usize,
}

impl RecentIds {
    fn new(capacity: usize) -> Self {
        Self {
            order: VecDeque::with_capacity(capacity),
            members: HashSet::with_capacity(capacity),
            capacity,
        }
    }

    /// Whether `id` is remembered.
    fn contains(&self, id: Uuid) -> bool {
        self.members.contains(&id)
    }

    /// Remember `id`; false when it was already remembered.
    fn insert(&mut self, id: Uuid) -> bool {
        if !self.members.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.members.remove(&oldest);
        }
        true
    }
}

/// One subscriber's view of the bus: its program's events while it may read them.
struct ProgramWatch {
    receiver: broadcast::Receiver<Arc<ChangeEvent>>,
    domain: Domain,
    viewer: Viewer,
    /// The subscriber's standing in the program, checked when it subscribed.
    access: access::Access,
    program_id: Uuid,
    /// Changes committed by then are not delivered.
    horizon: Horizon,
    _live: Live,
}

/// Counts one subscription in [`EventBus::subscriber_count`] while it lives.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ProgramWatch {
    /// The next event to deliver; `None` ends the subscription.
    async fn next(&mut self) -> Option<access::Visible<Arc<ChangeEvent>>> {
        loop {
            let event = match self.receiver.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Skipping silently would leave the client with a wrong
                    // picture; ending makes it resubscribe and refetch.
                    tracing::warn!(
                        missed,
                        program_id = %self.program_id,
                        "a subscriber fell behind; ending its subscription"
                    );
                    return None;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if event.program_id != Some(self.program_id) || self.horizon.includes(event.position) {
                continue;
            }
            // Membership changes are the only events that can change what this
            // viewer may read: check again before delivering one.
            if event.entity_type == Subject::ProgramMember.entity_type()
                && let Err(error) =
                    access::authorize(&self.domain.db, &self.viewer, self.program_id, Action::Read)
                        .await
            {
                if let ApiError::Internal(cause) = &error {
                    tracing::error!(cause = %cause, "could not re-check a subscriber's access");
                }
                return None;
            }
            // An entry that also names another program (a cross-program
            // dependency) reaches only those who can see that program too,
            // which is checked as it arrives.
            let admitted = match event.related_program_id {
                None => self.access.admit(event).map(Some),
                Some(_) => {
                    access::Visibility::new(self.viewer.clone())
                        .admit(&self.domain.db, event)
                        .await
                }
            };
            match admitted {
                Ok(Some(event)) => return Some(event),
                Ok(None) => continue,
                Err(error) => {
                    tracing::error!(error = ?error, "could not check a subscriber's access");
                    return None;
                }
            }
        }
    }
}

impl Domain {
    /// Every change committed in `program_id` from now on, for a member or
    /// ADMIN; others get `NOT_FOUND`, as for a program that does not exist.
    /// The stream ends when the viewer loses access or falls too far behind.
    pub async fn program_events(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
    ) -> ApiResult<impl Stream<Item = access::Visible<Arc<ChangeEvent>>> + Send + use<>> {
        // Subscribe before reading the horizon: every change committed after
        // it is then on its way to this receiver.
        let receiver = self.events.subscribe();
        let horizon = Horizon::now(&self.db).await?;
        let access = access::authorize(&self.db, viewer, program_id, Action::Read).await?;
        let watch = ProgramWatch {
            access,
            receiver,
            domain: self.clone(),
            viewer: viewer.clone(),
            program_id,
            horizon,
            _live: Live::new(&self.events.inner.live),
        };
        Ok(futures::stream::unfold(watch, |mut watch| async move {
            watch.next().await.map(|event| (event, watch))
        }))
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
    fn notifications_carry_the_entry_and_its_transaction() {
        let id = Uuid::now_v7();
        assert_eq!(
            parse_notification(&format!("{id}:42")),
            Some((id, Position::Transaction(42)))
        );
        assert_eq!(parse_notification(&id.to_string()), None);
    }

    #[test]
    fn recent_ids_forget_the_oldest_beyond_capacity() {
        let mut recent = RecentIds::new(2);
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        assert!(recent.insert(a));
        assert!(!recent.insert(a));
        assert!(recent.insert(b));
        assert!(recent.insert(c));
        assert!(recent.insert(a), "the oldest id was forgotten");
        assert!(!recent.insert(c));
    }

    #[test]
    fn a_bus_counts_live_subscriptions() {
        let bus = EventBus::new();
        assert_eq!(bus.subscriber_count(), 0);
        let live = Live::new(&bus.inner.live);
        assert_eq!(bus.subscriber_count(), 1);
        drop(live);
        assert_eq!(bus.subscriber_count(), 0);
    }
}
