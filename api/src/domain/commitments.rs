//! The handshake between teams: a dependency is a request from the
//! downstream team to the upstream team, which answers it. Only editors of
//! the upstream program commit to a day, decline (saying why) or deliver;
//! the downstream program's OWNERs and the downstream workstream's lead are
//! told each answer, and the upstream side is told of each request.
//!
//! `commitment` moves REQUESTED → COMMITTED / DECLINED → DELIVERED; a
//! promise is the forecast's `committedDate`, a decline counts the
//! dependency at risk, and a delivery resolves it. DELIVERED takes no other
//! answer; the downstream side reopens it (`updateDependency` with a status
//! other than RESOLVED) to ask again.

use chrono::NaiveDate;
use entity::{
    audit_event::Verb,
    dependency,
    enums::{Commitment, DependencyStatus, NotificationKind},
    program,
};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Access, Action, Visible},
    audit::Change,
    dependencies::authorize_change,
    notifications::{self, Notice},
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// The upstream team's answer to a dependency.
#[derive(Debug, Clone)]
pub enum Answer {
    /// We will deliver on `date`.
    Commit {
        /// The promised day.
        date: NaiveDate,
        /// What comes with the promise.
        note: Option<String>,
    },
    /// We will not deliver.
    Decline {
        /// Why.
        reason: String,
    },
    /// Delivered, on `on` (default: today in the upstream program).
    Deliver {
        /// The day of delivery.
        on: Option<NaiveDate>,
    },
}

impl Answer {
    /// The answer with its texts checked.
    fn validated(self) -> ApiResult<Self> {
        Ok(match self {
            Self::Commit { date, note } => Self::Commit {
                date,
                note: validate::optional_text("input.note", note.as_deref())?,
            },
            Self::Decline { reason } => Self::Decline {
                reason: validate::long_text("input.reason", &reason)?,
            },
            deliver @ Self::Deliver { .. } => deliver,
        })
    }
}

/// A move of a dependency's commitment, with everything that goes with it:
/// the one place the five commitment fields are set.
#[derive(Debug, Clone)]
pub(super) enum Move {
    /// Asked for (again): the downstream side's move.
    Request,
    /// Promised for `date` by `by`.
    Commit {
        date: NaiveDate,
        note: Option<String>,
        by: Uuid,
    },
    /// Declined, saying why.
    Decline { reason: String },
    /// Delivered on `on`.
    Deliver { on: NaiveDate },
}

impl Move {
    /// What the history calls it and what the other side is told.
    fn names(&self) -> (Verb, NotificationKind) {
        match self {
            Self::Request => (Verb::Update, NotificationKind::DependencyRequested),
            Self::Commit { .. } => (Verb::Commit, NotificationKind::DependencyCommitted),
            Self::Decline { .. } => (Verb::Decline, NotificationKind::DependencyDeclined),
            Self::Deliver { .. } => (Verb::Deliver, NotificationKind::DependencyDelivered),
        }
    }

    /// The history verb of a change that makes this move.
    pub(super) fn verb(&self) -> Verb {
        self.names().0
    }

    /// Refuse the move unless the caller is on the side that makes it:
    /// editors of the upstream program answer, editors of the downstream one ask.
    pub(super) fn authorize(&self, downstream: &Access, upstream: &Access) -> ApiResult<()> {
        match self {
            Self::Request if downstream.allows(Action::Edit) => Ok(()),
            Self::Request => Err(ApiError::Forbidden(Message::ProgramRoleTooLow)),
            _ if upstream.allows(Action::Edit) => Ok(()),
            _ => Err(ApiError::Forbidden(Message::UpstreamAnswers)),
        }
    }

    /// Set the commitment and every field that goes with it.
    pub(super) fn apply(&self, active: &mut dependency::ActiveModel) {
        let (commitment, date, by, note, reason) = match self.clone() {
            Self::Request => (Commitment::Requested, None, None, None, None),
            Self::Commit { date, note, by } => {
                (Commitment::Committed, Some(date), Some(by), note, None)
            }
            Self::Decline { reason } => (Commitment::Declined, None, None, None, Some(reason)),
            Self::Deliver { on } => {
                // The promise stays on record beside the delivery.
                active.commitment = Set(Commitment::Delivered);
                active.delivered_on = Set(Some(on));
                active.status = Set(DependencyStatus::Resolved);
                active.decline_reason = Set(None);
                return;
            }
        };
        active.commitment = Set(commitment);
        active.committed_date = Set(date);
        active.committed_by_id = Set(by);
        active.commitment_note = Set(note);
        active.decline_reason = Set(reason);
        active.delivered_on = Set(None);
    }

    /// Tell the other side: a request goes to the upstream program's OWNERs
    /// and the upstream workstream's lead, an answer to the downstream ones.
    pub(super) async fn announce(
        &self,
        db: &impl ConnectionTrait,
        dependency: &dependency::Model,
        actor: Uuid,
    ) -> ApiResult<()> {
        let kind = self.names().1;
        let (program_id, workstream_id) = match self {
            Self::Request => (dependency.upstream_program_id, dependency.upstream_id),
            _ => (dependency.program_id, dependency.downstream_id),
        };
        let candidates = notifications::owners_and_lead(db, program_id, workstream_id).await?;
        let notice = Notice::about(kind, dependency, Some(actor))?;
        notifications::send(db, &notice, candidates).await
    }
}

/// Today in the upstream program, the day a delivery is dated by default
/// and may not be after.
pub(super) async fn upstream_today(
    domain: &Domain,
    db: &impl ConnectionTrait,
    upstream_program_id: Uuid,
) -> ApiResult<NaiveDate> {
    let upstream_program = program::Entity::find_by_id(upstream_program_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))?;
    Ok(domain.today_of(&upstream_program))
}

impl Domain {
    /// The upstream team answers a dependency (EDIT on the upstream
    /// program, READ on the downstream one): it commits to a day, declines,
    /// or delivers; the downstream side is told.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn answer_dependency(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        answer: Answer,
    ) -> ApiResult<Visible<dependency::Model>> {
        let user = viewer.require_user()?;
        let answer = answer.validated()?;
        let txn = self.begin_write().await?;
        let before = access::find_visible::<dependency::Entity>(&txn, viewer, id)
            .await?
            .into_inner();
        let (downstream_access, upstream_access) = authorize_change(&txn, viewer, &before).await?;
        let step = match answer {
            Answer::Commit { date, note } => Move::Commit {
                date,
                note,
                by: user.id,
            },
            Answer::Decline { reason } => Move::Decline { reason },
            Answer::Deliver { on } => {
                let today = upstream_today(self, &txn, before.upstream_program_id).await?;
                let on = on.unwrap_or(today);
                if on > today {
                    return Err(ApiError::bad_input(
                        "input.deliveredOn",
                        Message::DeliveredInFuture,
                    ));
                }
                Move::Deliver { on }
            }
        };
        step.authorize(&downstream_access, &upstream_access)?;
        check_expected(before.version, expected_version)?;
        if before.commitment == Commitment::Delivered {
            return Err(ApiError::bad_input("input.id", Message::AlreadyDelivered));
        }
        let mut active: dependency::ActiveModel = before.clone().into();
        step.apply(&mut active);
        let after = versioned::save::<dependency::Entity>(&txn, id, before.version, active).await?;
        step.announce(&txn, &after, user.id).await?;
        let change = Change::updated(&before, &after).as_verb(step.verb());
        self.commit(txn, user.id, [change]).await?;
        downstream_access.admit_between(&upstream_access, after)
    }
}
