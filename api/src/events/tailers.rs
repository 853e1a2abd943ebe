//! The tailers: one per server and feed, turning announcements of committed
//! rows (history entries, notifications) into events on the bus (see the
//! module above for how each database announces them).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{audit_event, notification, user};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use std::future::Future;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::{
    AccessChanges, CHANNEL, ChangeEvent, ChangeKind, HISTORY_WRITES, NOTIFICATION_CHANNEL,
    NOTIFICATION_WRITES, NotificationEvent, Position,
};
use crate::error::ApiResult;

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

/// An append-only table whose committed rows are broadcast: the history
/// (`audit_events` → [`ChangeEvent`]) and the notifications.
pub trait Feed: Send + Sync + 'static {
    /// The table.
    type Entity: EntityTrait;
    /// What subscribers receive for one row.
    type Event: Send + Sync + 'static;
    /// The PostgreSQL notification channel announcing its rows.
    const CHANNEL: &'static str;
    /// Whether its rows can end credentials or change memberships: counted
    /// in [`AccessChanges`] when a notification says so or may have been missed.
    const CONCERNS_CALLERS: bool;
    /// Signals its writes on SQLite, where there is no `NOTIFY`.
    fn local_writes() -> &'static watch::Sender<u64>;
    /// Its id column (UUID v7).
    fn id() -> <Self::Entity as EntityTrait>::Column;
    /// Its time-of-writing column, for back-fills.
    fn at() -> <Self::Entity as EntityTrait>::Column;
    /// The events of `entries`, in that order; rows no longer stored are skipped.
    fn load(
        reader: &DatabaseConnection,
        entries: &[(Uuid, Position)],
    ) -> impl Future<Output = ApiResult<Vec<Self::Event>>> + Send;
}

/// The history: each committed entry becomes a [`ChangeEvent`].
pub struct HistoryFeed;

impl Feed for HistoryFeed {
    type Entity = audit_event::Entity;
    type Event = ChangeEvent;
    const CHANNEL: &'static str = CHANNEL;
    const CONCERNS_CALLERS: bool = true;

    fn local_writes() -> &'static watch::Sender<u64> {
        &HISTORY_WRITES
    }

    fn id() -> audit_event::Column {
        audit_event::Column::Id
    }

    fn at() -> audit_event::Column {
        audit_event::Column::At
    }

    async fn load(
        reader: &DatabaseConnection,
        entries: &[(Uuid, Position)],
    ) -> ApiResult<Vec<ChangeEvent>> {
        let ids: Vec<Uuid> = entries.iter().map(|(id, _)| *id).collect();
        let rows: HashMap<Uuid, audit_event::Model> = audit_event::Entity::find()
            .filter(audit_event::Column::Id.is_in(ids))
            .all(reader)
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
                .all(reader)
                .await?
                .into_iter()
                .map(|user| (user.id, user))
                .collect()
        };
        Ok(entries
            .iter()
            .filter_map(|(id, position)| {
                let row = rows.get(id)?;
                Some(ChangeEvent {
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
                })
            })
            .collect())
    }
}

/// The notifications: each committed row is delivered to its recipient.
pub struct NotificationFeed;

impl Feed for NotificationFeed {
    type Entity = notification::Entity;
    type Event = NotificationEvent;
    const CHANNEL: &'static str = NOTIFICATION_CHANNEL;
    const CONCERNS_CALLERS: bool = false;

    fn local_writes() -> &'static watch::Sender<u64> {
        &NOTIFICATION_WRITES
    }

    fn id() -> notification::Column {
        notification::Column::Id
    }

    fn at() -> notification::Column {
        notification::Column::CreatedAt
    }

    async fn load(
        reader: &DatabaseConnection,
        entries: &[(Uuid, Position)],
    ) -> ApiResult<Vec<NotificationEvent>> {
        let ids: Vec<Uuid> = entries.iter().map(|(id, _)| *id).collect();
        let mut rows: HashMap<Uuid, notification::Model> = notification::Entity::find()
            .filter(notification::Column::Id.is_in(ids))
            .all(reader)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        Ok(entries
            .iter()
            .filter_map(|(id, position)| {
                Some(NotificationEvent {
                    position: *position,
                    notification: rows.remove(id)?,
                })
            })
            .collect())
    }
}

/// Loads committed rows of one feed and broadcasts them.
pub(super) struct Publisher<F: Feed> {
    pub(super) sender: broadcast::Sender<Arc<F::Event>>,
    /// The same pool as the domain's, without the statement counter.
    pub(super) reader: DatabaseConnection,
    /// Counts what concerns accounts and memberships.
    pub(super) access: AccessChanges,
}

impl<F: Feed> Publisher<F> {
    /// Count a change to accounts or memberships, or a chance that one was
    /// missed, when this feed carries them.
    fn access_may_have_changed(&self) {
        if F::CONCERNS_CALLERS {
            self.access.record();
        }
    }

    /// Broadcast `entries`, in that order; those no longer stored are skipped.
    async fn publish(&self, entries: &[(Uuid, Position)]) -> ApiResult<()> {
        if entries.is_empty() || self.sender.receiver_count() == 0 {
            return Ok(());
        }
        for event in F::load(&self.reader, entries).await? {
            // No receiver left is not an error: nobody is listening.
            let _ = self.sender.send(Arc::new(event));
        }
        Ok(())
    }
}

/// Follows a feed's table by `rowid` on SQLite.
pub(super) struct SqliteTailer<F: Feed> {
    publisher: Publisher<F>,
    /// The highest rowid already published.
    cursor: i64,
}

impl<F: Feed> SqliteTailer<F> {
    pub(super) async fn start(publisher: Publisher<F>) -> Result<Self, DbErr> {
        let cursor = max_rowid::<F::Entity>(&publisher.reader).await?;
        Ok(Self { publisher, cursor })
    }

    pub(super) async fn run(mut self, mut stop: watch::Receiver<()>) {
        let mut writes = F::local_writes().subscribe();
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
                        tracing::warn!(error = ?error, "could not read new rows of a live feed");
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
        let max = max_rowid::<F::Entity>(&self.publisher.reader).await?;
        if max < self.cursor {
            // Only a VACUUM renumbers rowids; start over from the new end.
            tracing::warn!("a live feed's table was renumbered; following it from its new end");
            self.cursor = max;
            return Ok(0);
        }
        let mut published = 0;
        while self.cursor < max {
            let rows: Vec<(i64, Uuid)> = F::Entity::find()
                .select_only()
                .column_as(Expr::cust("rowid"), "seq")
                .column(F::id())
                .filter(Expr::cust_with_values("rowid > ?", [self.cursor]))
                .filter(Expr::cust_with_values("rowid <= ?", [max]))
                .order_by(Expr::cust("rowid"), Order::Asc)
                .limit(BATCH)
                .into_tuple()
                .all(&self.publisher.reader)
                .await?;
            let Some(&(last, _)) = rows.last() else { break };
            // Written by another server on the file (`trestle` commands
            // included), or by this one, already counted: without the
            // change's subject at hand, every caller is read anew.
            self.publisher.access_may_have_changed();
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

/// The highest `rowid` of `E`'s table (SQLite).
pub(super) async fn max_rowid<E: EntityTrait>(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    Ok(E::find()
        .select_only()
        .column_as(Expr::cust("COALESCE(MAX(rowid), 0)"), "seq")
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}

/// Follows a feed's `NOTIFY` channel on PostgreSQL.
pub(super) struct PostgresTailer<F: Feed> {
    publisher: Publisher<F>,
    listener: PgListener,
    recent: RecentIds,
}

impl<F: Feed> PostgresTailer<F> {
    /// Listen on a dedicated connection (same settings as the pool, or
    /// `direct` when the pool goes through a connection pooler, which cannot
    /// hold a `LISTEN`), so the listener neither takes a pooled connection
    /// nor waits for one.
    pub(super) async fn start(
        pool: &PgPool,
        direct: Option<&PgConnectOptions>,
        publisher: Publisher<F>,
    ) -> Result<Self, DbErr> {
        let listen = async {
            let options = direct
                .cloned()
                .unwrap_or_else(|| (*pool.connect_options()).clone());
            let listener_pool = PgPoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_with(options)
                .await?;
            let mut listener = PgListener::connect_with(&listener_pool).await?;
            listener.listen(F::CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let listener = listen
            .await
            .map_err(|error| DbErr::Custom(format!("listen on {}: {error}", F::CHANNEL)))?;
        Ok(Self {
            publisher,
            listener,
            recent: RecentIds::new(RECENT_IDS),
        })
    }

    pub(super) async fn run(mut self, mut stop: watch::Receiver<()>) {
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
                        tracing::warn!(error = ?error, "could not back-fill missed live events");
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
                    let mut access = false;
                    while let Some(notification) = next {
                        match parse_notification(notification.payload()) {
                            Some(heard) => {
                                access |= heard.access;
                                if !self.recent.contains(heard.id) {
                                    entries.push((heard.id, heard.position));
                                }
                            }
                            None => tracing::warn!(
                                payload = notification.payload(),
                                "ignoring a malformed live-event notification"
                            ),
                        }
                        next = self.listener.next_buffered();
                    }
                    if access {
                        self.publisher.access_may_have_changed();
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
                            tracing::warn!(error = ?error, "could not publish live events");
                            gap_since.get_or_insert(alive_at);
                        }
                    }
                }
                // The connection dropped and has been re-established.
                Ok(None) => {
                    tracing::warn!("a live-event listener reconnected; back-filling");
                    // What it missed may have ended a credential.
                    self.publisher.access_may_have_changed();
                    gap_since.get_or_insert(alive_at);
                    alive_at = Utc::now();
                }
                Err(error) => {
                    tracing::warn!(error = ?error, "a live-event listener failed; retrying");
                    self.publisher.access_may_have_changed();
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
            let mut query = F::Entity::find()
                .select_only()
                .column(F::at())
                .column(F::id())
                .filter(F::at().gte(since));
            if let Some((at, id)) = after {
                query = query.filter(F::at().gt(at).or(F::at().eq(at).and(F::id().gt(id))));
            }
            let rows: Vec<(DateTime<Utc>, Uuid)> = query
                .order_by_asc(F::at())
                .order_by_asc(F::id())
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

/// One notification: `<row id>:<transaction id>`, then for a history entry
/// `:1` when it concerns accounts or memberships, `:0` when not.
#[derive(Debug, PartialEq, Eq)]
struct Heard {
    id: Uuid,
    position: Position,
    /// Whether callers must be read anew: unless the entry says it need
    /// not (a server of an earlier version does not say).
    access: bool,
}

fn parse_notification(payload: &str) -> Option<Heard> {
    let mut parts = payload.splitn(3, ':');
    let id = Uuid::parse_str(parts.next()?).ok()?;
    let position = Position::Transaction(parts.next()?.parse().ok()?);
    let access = parts.next() != Some("0");
    Some(Heard {
        id,
        position,
        access,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_carry_the_entry_and_its_transaction() {
        let id = Uuid::now_v7();
        let heard = |access| Heard {
            id,
            position: Position::Transaction(42),
            access,
        };
        assert_eq!(
            parse_notification(&format!("{id}:42:0")),
            Some(heard(false))
        );
        assert_eq!(parse_notification(&format!("{id}:42:1")), Some(heard(true)));
        assert_eq!(
            parse_notification(&format!("{id}:42")),
            Some(heard(true)),
            "an earlier version's entry may concern callers"
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
}
