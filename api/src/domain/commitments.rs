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
    program, workstream,
};
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect, Set};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action, Visible},
    audit::{self, Change},
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

/// Ask the upstream side for `dependency`: its program's OWNERs and its
/// workstream's lead hear of it.
pub(super) async fn request(
    db: &impl ConnectionTrait,
    dependency: &dependency::Model,
    actor: Uuid,
) -> ApiResult<()> {
    let lead = lead_of(db, dependency.upstream_id).await?;
    let candidates = notifications::owners(db, dependency.upstream_program_id)
        .await?
        .into_iter()
        .chain(lead);
    let notice = Notice::about(
        NotificationKind::DependencyRequested,
        dependency,
        Some(actor),
    );
    notifications::send(db, &notice, candidates).await
}

/// The lead of workstream `id`, if any.
async fn lead_of(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<Uuid>> {
    Ok(workstream::Entity::find_by_id(id)
        .select_only()
        .column(workstream::Column::LeadId)
        .into_tuple::<Option<Uuid>>()
        .one(db)
        .await?
        .flatten())
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
        if !upstream_access.allows(Action::Edit) {
            return Err(ApiError::Forbidden(Message::UpstreamAnswers));
        }
        check_expected(before.version, expected_version)?;
        if before.commitment == Commitment::Delivered {
            return Err(ApiError::bad_input("input.id", Message::AlreadyDelivered));
        }
        let mut active: dependency::ActiveModel = before.clone().into();
        let (verb, kind) = match answer {
            Answer::Commit { date, note } => {
                active.commitment = Set(Commitment::Committed);
                active.committed_date = Set(Some(date));
                active.committed_by_id = Set(Some(user.id));
                active.commitment_note = Set(note);
                active.decline_reason = Set(None);
                (Verb::Commit, NotificationKind::DependencyCommitted)
            }
            Answer::Decline { reason } => {
                active.commitment = Set(Commitment::Declined);
                active.decline_reason = Set(Some(reason));
                active.committed_date = Set(None);
                active.committed_by_id = Set(None);
                active.commitment_note = Set(None);
                (Verb::Decline, NotificationKind::DependencyDeclined)
            }
            Answer::Deliver { on } => {
                let upstream_program = program::Entity::find_by_id(before.upstream_program_id)
                    .one(&txn)
                    .await?
                    .ok_or(ApiError::NotFound(Message::NotFound))?;
                let today = self.today_of(&upstream_program);
                let on = on.unwrap_or(today);
                if on > today {
                    return Err(ApiError::bad_input(
                        "input.deliveredOn",
                        Message::DeliveredInFuture,
                    ));
                }
                active.commitment = Set(Commitment::Delivered);
                active.delivered_on = Set(Some(on));
                active.status = Set(DependencyStatus::Resolved);
                (Verb::Deliver, NotificationKind::DependencyDelivered)
            }
        };
        let after = versioned::save::<dependency::Entity>(&txn, id, before.version, active).await?;
        let downstream_lead = lead_of(&txn, after.downstream_id).await?;
        let candidates = notifications::owners(&txn, after.program_id)
            .await?
            .into_iter()
            .chain(downstream_lead);
        notifications::send(
            &txn,
            &Notice::about(kind, &after, Some(user.id)),
            candidates,
        )
        .await?;
        audit::commit(
            txn,
            user.id,
            [Change::updated(&before, &after).as_verb(verb)],
        )
        .await?;
        downstream_access.admit_between(&upstream_access, after)
    }
}
