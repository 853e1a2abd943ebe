//! Notifications: what one user is told, written in the transaction of the
//! change that caused it (or by the clock's sweep, see [`super::sweep`]) and
//! delivered live to the recipient's `viewerNotifications` subscriptions.
//!
//! A notification goes only to people who can see its subject when it is
//! written (for a cross-program dependency, both programs), never to the
//! person who caused it, and it stays readable only while they still can.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::NaiveDate;
use entity::{
    audit_event::Subject,
    enums::{NotificationKind, ProgramRole},
    notification, program_member, workstream,
};
use futures::Stream;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, Set,
    sea_query::{Expr, OnConflict},
};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visibility, Visible},
    audit::Recorded,
    pagination::{Direction, Ordering, Page, PageArgs},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::events::{Horizon, NotificationEvent, NotificationFeed};
use crate::i18n::Message;

/// A notification about to be written, before its recipients are known.
#[derive(Debug, Clone)]
pub struct Notice {
    kind: NotificationKind,
    program_id: Uuid,
    related_program_id: Option<Uuid>,
    subject: (Subject, Uuid),
    comment_id: Option<Uuid>,
    actor_id: Option<Uuid>,
}

impl Notice {
    /// `kind` about `row`, caused by `actor_id`; it lives where the row
    /// lives, which must be inside programs.
    pub fn about<R: Recorded>(
        kind: NotificationKind,
        row: &R,
        actor_id: Option<Uuid>,
    ) -> ApiResult<Self> {
        let (program_id, related_program_id) = row
            .reach()
            .programs()
            .ok_or_else(|| ApiError::internal("a notice about a row outside programs"))?;
        Ok(Self {
            kind,
            program_id,
            related_program_id,
            subject: (R::SUBJECT, row.id()),
            comment_id: None,
            actor_id,
        })
    }

    /// The same notice pointing at the comment that caused it.
    pub fn in_comment(mut self, comment_id: Uuid) -> Self {
        self.comment_id = Some(comment_id);
        self
    }

    /// The program and the other program the notice reveals.
    pub fn programs(&self) -> (Uuid, Option<Uuid>) {
        (self.program_id, self.related_program_id)
    }

    fn row(&self, recipient: Uuid, sweep_key: Option<String>) -> notification::ActiveModel {
        notification::ActiveModel {
            id: Set(Uuid::now_v7()),
            recipient_id: Set(recipient),
            kind: Set(self.kind),
            program_id: Set(self.program_id),
            related_program_id: Set(self.related_program_id),
            subject_type: Set(self.subject.0.entity_type().to_owned()),
            subject_id: Set(self.subject.1),
            comment_id: Set(self.comment_id),
            actor_id: Set(self.actor_id),
            sweep_key: Set(sweep_key),
            read_at: Set(None),
            // Set here: a bulk insert does not stamp rows.
            created_at: Set(entity::now()),
        }
    }

    /// The key that makes a clock-driven notice unique per recipient and day.
    pub(super) fn sweep_key(&self, recipient: Uuid, day: NaiveDate) -> String {
        format!(
            "{}:{}:{}:{day}",
            self.kind.to_value(),
            self.subject.1,
            recipient
        )
    }
}

/// Write `notice` for each of `candidates` who can see it, except its actor,
/// inside the caller's transaction; each is delivered once that commits.
pub async fn send(
    db: &impl ConnectionTrait,
    notice: &Notice,
    candidates: impl IntoIterator<Item = Uuid>,
) -> ApiResult<()> {
    for recipient in recipients(db, notice, candidates).await? {
        let row = notice.row(recipient, None).insert(db).await?;
        crate::events::announce_notification(db, row.id).await?;
    }
    Ok(())
}

/// Write clock-driven `notice` for `day` to each of `candidates` who can see
/// it and has not had it that day (the unique `sweep_key` decides, whichever
/// replica writes first); returns the keys now written, by anyone.
pub async fn send_once(
    db: &impl ConnectionTrait,
    notice: &Notice,
    day: NaiveDate,
    candidates: impl IntoIterator<Item = Uuid>,
) -> ApiResult<Vec<String>> {
    let mut keys = Vec::new();
    for recipient in recipients(db, notice, candidates).await? {
        let key = notice.sweep_key(recipient, day);
        let row = notice.row(recipient, Some(key.clone()));
        let id = row.id.clone().unwrap();
        let inserted = notification::Entity::insert(row)
            .on_conflict(
                OnConflict::column(notification::Column::SweepKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        if inserted > 0 {
            crate::events::announce_notification(db, id).await?;
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Those of `candidates` who may see what `notice` is about, except its actor.
async fn recipients(
    db: &impl ConnectionTrait,
    notice: &Notice,
    candidates: impl IntoIterator<Item = Uuid>,
) -> ApiResult<Vec<Uuid>> {
    let mut wanted: Vec<Uuid> = candidates
        .into_iter()
        .filter(|id| Some(*id) != notice.actor_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    // One order, so concurrent sweeps insert (and lock) keys alike.
    wanted.sort();
    let reach = access::between(notice.program_id, notice.related_program_id);
    access::who_sees(db, reach, &wanted).await
}

/// The OWNERs of `program_id` and the lead of `workstream_id`, if any.
pub async fn owners_and_lead(
    db: &impl ConnectionTrait,
    program_id: Uuid,
    workstream_id: Uuid,
) -> ApiResult<Vec<Uuid>> {
    let lead = workstream::Entity::find_by_id(workstream_id)
        .select_only()
        .column(workstream::Column::LeadId)
        .into_tuple::<Option<Uuid>>()
        .one(db)
        .await?
        .flatten();
    let mut people = owners(db, program_id).await?;
    people.extend(lead);
    Ok(people)
}

/// The OWNERs of `program_id`.
pub async fn owners(db: &impl ConnectionTrait, program_id: Uuid) -> ApiResult<Vec<Uuid>> {
    Ok(program_member::Entity::find()
        .select_only()
        .column(program_member::Column::UserId)
        .filter(program_member::Column::ProgramId.eq(program_id))
        .filter(program_member::Column::Role.eq(ProgramRole::Owner))
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// Which notifications `markNotificationsRead` marks.
#[derive(Debug, Clone)]
pub enum Marking {
    /// These, which must be the caller's.
    Ids(Vec<Uuid>),
    /// Every unread one of the caller's.
    All,
}

impl Marking {
    /// From the input's `ids` and `all`: exactly one of them.
    pub fn of(ids: Option<Vec<Uuid>>, all: Option<bool>) -> ApiResult<Self> {
        match (ids, all) {
            (Some(ids), None | Some(false)) => Ok(Self::Ids(ids)),
            (None, Some(true)) => Ok(Self::All),
            _ => Err(ApiError::bad_input("input", Message::IdsOrAll)),
        }
    }
}

impl Domain {
    /// The caller's notifications, newest first; only unread ones when `unread_only`.
    pub async fn viewer_notifications(
        &self,
        viewer: &Viewer,
        unread_only: bool,
        args: &PageArgs,
    ) -> ApiResult<Page<Visible<notification::Model>>> {
        let mut select = access::visible(viewer, notification::Entity::find())?;
        if unread_only {
            select = select.narrow(notification::Column::ReadAt.is_null());
        }
        select
            .page(
                &self.db,
                Ordering {
                    name: "CREATED_AT:DESC".into(),
                    column: notification::Column::CreatedAt,
                    id_column: notification::Column::Id,
                    direction: Direction::Desc,
                },
                args,
                self.limits.max_page_size,
                |row| row.created_at.into(),
                |row| row.id,
            )
            .await
    }

    /// Mark the caller's notifications read; returns how many were unread.
    /// Only notifications the caller can read count: an id that is not
    /// theirs, or whose program they no longer see, answers `NOT_FOUND`, as
    /// a missing one. Reading changes nothing in a program, so it writes no
    /// history.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_notifications_read(
        &self,
        viewer: &Viewer,
        marking: Marking,
    ) -> ApiResult<u64> {
        viewer.require_user()?;
        let txn = self.begin_write().await?;
        let mut unread = access::visible(viewer, notification::Entity::find())?
            .narrow(notification::Column::ReadAt.is_null());
        if let Marking::Ids(ids) = &marking {
            if ids.len() > self.limits.max_list_size {
                return Err(ApiError::bad_input(
                    "input.ids",
                    Message::TooManyItems {
                        max: self.limits.max_list_size,
                    },
                ));
            }
            let wanted: HashSet<Uuid> = ids.iter().copied().collect();
            let readable = access::visible(viewer, notification::Entity::find())?
                .narrow(notification::Column::Id.is_in(wanted.iter().copied()))
                .all(&txn)
                .await?;
            if readable.len() != wanted.len() {
                return Err(ApiError::NotFound(Message::NotFound));
            }
            unread = unread.narrow(notification::Column::Id.is_in(wanted));
        }
        let ids: Vec<Uuid> = unread.all(&txn).await?.iter().map(|row| row.id).collect();
        let mut marked = 0;
        for chunk in ids.chunks(1000) {
            marked += notification::Entity::update_many()
                .col_expr(notification::Column::ReadAt, Expr::value(entity::now()))
                .filter(notification::Column::Id.is_in(chunk.iter().copied()))
                .filter(notification::Column::ReadAt.is_null())
                .exec(&txn)
                .await?
                .rows_affected;
        }
        txn.commit().await?;
        Ok(marked)
    }

    /// The caller's notifications committed from now on, while they may see
    /// their subjects. Ends when the caller falls too far behind.
    pub async fn viewer_notification_stream(
        &self,
        viewer: &Viewer,
    ) -> ApiResult<impl Stream<Item = Visible<notification::Model>> + Send + use<>> {
        let user = viewer.require_user()?;
        // Subscribe before reading the horizon: every notification committed
        // after it is then on its way to this receiver.
        let receiver = self.events.subscribe_notifications();
        let horizon = Horizon::now::<NotificationFeed>(&self.db).await?;
        let watch = Inbox {
            receiver,
            domain: self.clone(),
            recipient: user.id,
            viewer: viewer.clone(),
            horizon,
            _live: self.events.live(),
        };
        Ok(futures::stream::unfold(watch, |mut watch| async move {
            watch.next().await.map(|event| (event, watch))
        }))
    }
}

/// One subscriber's inbox on the bus.
struct Inbox {
    receiver: broadcast::Receiver<Arc<NotificationEvent>>,
    domain: Domain,
    recipient: Uuid,
    viewer: Viewer,
    horizon: Horizon,
    _live: crate::events::Live,
}

impl Inbox {
    /// The next notification to deliver; `None` ends the subscription.
    async fn next(&mut self) -> Option<Visible<notification::Model>> {
        loop {
            let event = match self.receiver.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a notification subscriber fell behind; ending it");
                    return None;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if event.notification.recipient_id != self.recipient
                || self.horizon.includes(event.position)
            {
                continue;
            }
            // Access may have changed since the subscription began: a fresh
            // check per notification, which only its recipient pays for.
            match Visibility::new(self.viewer.clone())
                .admit(&self.domain.db, event.notification.clone())
                .await
            {
                Ok(Some(event)) => return Some(event),
                Ok(None) => continue,
                Err(error) => {
                    tracing::error!(error = ?error, "could not check a notification's access");
                    return None;
                }
            }
        }
    }
}
