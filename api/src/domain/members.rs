//! Program membership: who has which role in a program.

use entity::{audit_event, enums::ProgramRole, program, program_member, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    Domain, audit,
    authz::{self, Action},
    pagination::{self, Direction, Ordering, Page, PageArgs},
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

impl Domain {
    /// Give `user_id` a role in a program, adding them if needed (OWNER).
    pub async fn set_program_member(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        user_id: Uuid,
        role: ProgramRole,
    ) -> ApiResult<program_member::Model> {
        let actor = viewer.require_user()?;
        let txn = self.begin_write().await?;
        lock_memberships(&txn, program_id).await?;
        authz::authorize(&txn, viewer, program_id, Action::Manage).await?;
        if user::Entity::find_by_id(user_id).one(&txn).await?.is_none() {
            return Err(ApiError::bad_input("input.userId", Message::NotFound));
        }
        let existing = program_member::Entity::find()
            .filter(program_member::Column::ProgramId.eq(program_id))
            .filter(program_member::Column::UserId.eq(user_id))
            .one(&txn)
            .await?;
        let (member, changes) = match existing {
            Some(before) if before.role == role => {
                // Nothing changes; still a successful mutation, so it is recorded.
                let changes = audit::diff(Some(&before), Some(&before));
                (before, changes)
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
                let changes = audit::diff(Some(&before), Some(&after));
                (after, changes)
            }
            None => {
                let now = super::now();
                let created = program_member::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    program_id: Set(program_id),
                    user_id: Set(user_id),
                    role: Set(role),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?;
                let changes = audit::diff(None, Some(&created));
                (created, changes)
            }
        };
        audit::commit(
            txn,
            audit::Event {
                actor: Some(actor.id),
                program_id: Some(program_id),
                action: "member.set",
                entity_type: "ProgramMember",
                entity_id: member.id,
                changes,
            },
        )
        .await?;
        Ok(member)
    }

    /// Remove `user_id` from a program (OWNER, or the member themself);
    /// the last OWNER cannot leave.
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
        authz::authorize(&txn, viewer, program_id, action).await?;
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
        audit::commit(
            txn,
            audit::Event {
                actor: Some(actor.id),
                program_id: Some(program_id),
                action: "member.remove",
                entity_type: "ProgramMember",
                entity_id: member.id,
                changes: audit::diff(Some(&member), None),
            },
        )
        .await?;
        Ok(member)
    }

    /// A program's history, newest first (any member).
    pub async fn program_activity(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        filter: ActivityFilter,
        args: &PageArgs,
    ) -> ApiResult<Page<audit_event::Model>> {
        authz::authorize(&self.db, viewer, program_id, Action::Read).await?;
        let mut query =
            audit_event::Entity::find().filter(audit_event::Column::ProgramId.eq(program_id));
        if let Some(entity_type) = filter.entity_type {
            query = query.filter(audit_event::Column::EntityType.eq(entity_type));
        }
        if let Some(entity_id) = filter.entity_id {
            query = query.filter(audit_event::Column::EntityId.eq(entity_id));
        }
        if let Some(actor_id) = filter.actor_id {
            query = query.filter(audit_event::Column::ActorId.eq(actor_id));
        }
        pagination::paginate(
            &self.db,
            query,
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
