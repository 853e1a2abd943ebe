//! Program membership: who has which role in a program.

use entity::{
    audit_event::{self, Subject, Verb},
    enums::ProgramRole,
    program, program_member, risk, user, workstream,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ModelTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action, Visible},
    audit::{self, Change},
    pagination::{Direction, Ordering, Page, PageArgs},
    versioned,
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Filters of a program's activity.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Only events about this kind of entity (`Workstream`, `Risk`, …).
    pub entity_type: Option<String>,
    /// Only events about this entity.
    pub entity_id: Option<Uuid>,
    /// Only events by this user.
    pub actor_id: Option<Uuid>,
}

/// Who `setProgramMember` names: a user id or a sign-in email.
#[derive(Debug, Clone)]
pub enum MemberRef {
    /// By id.
    Id(Uuid),
    /// By sign-in email (case-insensitive).
    Email(String),
}

/// `BAD_USER_INPUT` at `field` unless `user_id` is a member of `program_id`
/// (a user that does not exist is not a member either).
pub(super) async fn ensure_member(
    db: &impl ConnectionTrait,
    program_id: Uuid,
    user_id: Uuid,
    field: &str,
    message: Message,
) -> ApiResult<()> {
    let found = program_member::Entity::find()
        .select_only()
        .column(program_member::Column::Id)
        .filter(program_member::Column::ProgramId.eq(program_id))
        .filter(program_member::Column::UserId.eq(user_id))
        .into_tuple::<Uuid>()
        .one(db)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_input(field, message)),
    }
}

impl Domain {
    /// Give a user a role in a program, adding them if needed (OWNER).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_program_member(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        member: MemberRef,
        role: ProgramRole,
    ) -> ApiResult<Visible<program_member::Model>> {
        let actor = viewer.require_user()?;
        let txn = self.begin_write().await?;
        lock_memberships(&txn, program_id).await?;
        let access = access::authorize(&txn, viewer, program_id, Action::Manage).await?;
        let (field, found) = match member {
            MemberRef::Id(id) => (
                "input.userId",
                user::Entity::find_by_id(id).one(&txn).await?,
            ),
            MemberRef::Email(email) => (
                "input.email",
                super::users::find_by_email(&txn, &email).await?,
            ),
        };
        let user_id = found
            .ok_or_else(|| ApiError::bad_input(field, Message::UnknownUser))?
            .id;
        let existing = program_member::Entity::find()
            .filter(program_member::Column::ProgramId.eq(program_id))
            .filter(program_member::Column::UserId.eq(user_id))
            .one(&txn)
            .await?;
        let (member, change) = match existing {
            Some(before) if before.role == role => {
                // Nothing changes; still a successful mutation, so it is recorded.
                let change = Change::updated(&before, &before);
                (before, change)
            }
            Some(before) => {
                if before.role == ProgramRole::Owner {
                    ensure_another_owner(&txn, program_id, user_id, "input.role").await?;
                }
                let mut active: program_member::ActiveModel = before.clone().into();
                active.role = Set(role);
                let after = versioned::save::<program_member::Entity>(
                    &txn,
                    before.id,
                    before.version,
                    active,
                )
                .await?;
                let change = Change::updated(&before, &after);
                (after, change)
            }
            None => {
                let created = program_member::ActiveModel {
                    program_id: Set(program_id),
                    user_id: Set(user_id),
                    role: Set(role),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                let change = Change::created(&created);
                (created, change)
            }
        };
        self.commit(txn, actor.id, [change.as_verb(Verb::Set)])
            .await?;
        access.admit(member)
    }

    /// Remove `user_id` from a program (OWNER, or the member themself); the
    /// last OWNER cannot leave. The workstreams they lead and the risks they
    /// own in the program are unassigned, each change in the history.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn remove_program_member(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        user_id: Uuid,
    ) -> ApiResult<program_member::Model> {
        let actor = viewer.require_user()?;
        let txn = self.begin_write().await?;
        lock_memberships(&txn, program_id).await?;
        let action = if actor.id == user_id {
            Action::Read
        } else {
            Action::Manage
        };
        access::authorize(&txn, viewer, program_id, action).await?;
        let member = program_member::Entity::find()
            .filter(program_member::Column::ProgramId.eq(program_id))
            .filter(program_member::Column::UserId.eq(user_id))
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound(Message::NotFound))?;
        if member.role == ProgramRole::Owner {
            ensure_another_owner(&txn, program_id, user_id, "input.userId").await?;
        }
        member.clone().delete(&txn).await?;
        // The unassignments first, so the removal heads the history.
        let mut changes = unassign(&txn, program_id, user_id).await?;
        changes.push(Change::deleted(&member).as_verb(Verb::Remove));
        self.commit(txn, actor.id, changes).await?;
        Ok(member)
    }

    /// A program's history, newest first (any member).
    pub async fn program_activity(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        filter: ActivityFilter,
        args: &PageArgs,
    ) -> ApiResult<Page<Visible<audit_event::Model>>> {
        // What lives between two programs (a dependency, a comment on one)
        // is in both histories; another program's risk linked to one is not.
        let mut condition = Condition::all().add(
            Condition::any()
                .add(audit_event::Column::ProgramId.eq(program_id))
                .add(
                    Condition::all()
                        .add(audit_event::Column::RelatedProgramId.eq(program_id))
                        .add(
                            audit_event::Column::EntityType
                                .is_in(audit::SHARED_SUBJECTS.map(Subject::entity_type)),
                        ),
                ),
        );
        if let Some(entity_type) = filter.entity_type {
            condition = condition.add(audit_event::Column::EntityType.eq(entity_type));
        }
        if let Some(entity_id) = filter.entity_id {
            condition = condition.add(audit_event::Column::EntityId.eq(entity_id));
        }
        if let Some(actor_id) = filter.actor_id {
            condition = condition.add(audit_event::Column::ActorId.eq(actor_id));
        }
        access::visible(viewer, audit_event::Entity::find())?
            .narrow(condition)
            .page(
                &self.db,
                Ordering {
                    name: "AT:DESC".into(),
                    column: audit_event::Column::At,
                    id_column: audit_event::Column::Id,
                    direction: Direction::Desc,
                },
                args,
                self.limits.max_page_size,
                |event| event.at.into(),
                |event| event.id,
            )
            .await
    }
}

/// Unassign `user_id` from what they lead or own in `program_id`, as they
/// leave it: the history entries of those changes.
async fn unassign(
    txn: &sea_orm::DatabaseTransaction,
    program_id: Uuid,
    user_id: Uuid,
) -> ApiResult<Vec<Change>> {
    let mut changes = Vec::new();
    let led = workstream::Entity::find()
        .filter(workstream::Column::ProgramId.eq(program_id))
        .filter(workstream::Column::LeadId.eq(user_id))
        .all(txn)
        .await?;
    for before in led {
        let mut active: workstream::ActiveModel = before.clone().into();
        active.lead_id = Set(None);
        let after =
            versioned::save::<workstream::Entity>(txn, before.id, before.version, active).await?;
        changes.push(Change::updated(&before, &after));
    }
    let owned = risk::Entity::find()
        .filter(risk::Column::ProgramId.eq(program_id))
        .filter(risk::Column::OwnerId.eq(user_id))
        .all(txn)
        .await?;
    for before in owned {
        let mut active: risk::ActiveModel = before.clone().into();
        active.owner_id = Set(None);
        let after = versioned::save::<risk::Entity>(txn, before.id, before.version, active).await?;
        changes.push(Change::updated(&before, &after));
    }
    Ok(changes)
}

/// Serialise membership changes of one program: PostgreSQL locks the
/// program's row (`FOR UPDATE`) until the transaction ends, so a concurrent
/// change waits and then reads the committed memberships; two OWNERs
/// demoting each other cannot both see the other as the remaining OWNER.
/// SQLite needs nothing more: a write transaction holds the database's
/// write lock from its start (`BEGIN IMMEDIATE`). Taken before any
/// membership is read, authorization included.
async fn lock_memberships(txn: &sea_orm::DatabaseTransaction, program_id: Uuid) -> ApiResult<()> {
    program::Entity::find_by_id(program_id)
        .select_only()
        .column(program::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .one(txn)
        .await?;
    Ok(())
}

/// Refuse a change that would leave the program without an OWNER.
async fn ensure_another_owner(
    txn: &sea_orm::DatabaseTransaction,
    program_id: Uuid,
    leaving: Uuid,
    field: &str,
) -> ApiResult<()> {
    let others = program_member::Entity::find()
        .filter(program_member::Column::ProgramId.eq(program_id))
        .filter(program_member::Column::Role.eq(ProgramRole::Owner))
        .filter(program_member::Column::UserId.ne(leaving))
        .count(txn)
        .await?;
    if others == 0 {
        return Err(ApiError::bad_input(field, Message::LastOwner));
    }
    Ok(())
}
