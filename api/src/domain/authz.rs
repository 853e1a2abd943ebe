//! Program authorization: the one place that decides who may do what.

use entity::{enums::ProgramRole, program, program_member};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// What a caller wants to do inside a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the program and everything in it.
    Read,
    /// Change workstreams, milestones, dependencies, decisions, risks, updates.
    Edit,
    /// Change the program itself and its members.
    Manage,
}

impl Action {
    /// Whether `role` allows this action.
    pub fn allowed_for(self, role: ProgramRole) -> bool {
        match self {
            Self::Read => true,
            Self::Edit => matches!(role, ProgramRole::Owner | ProgramRole::Editor),
            Self::Manage => role == ProgramRole::Owner,
        }
    }
}

/// The caller's standing in one program, once it is known to be visible.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    /// The caller's membership role, if a member.
    pub role: Option<ProgramRole>,
    /// Whether the caller is a global ADMIN.
    pub is_admin: bool,
}

impl Access {
    /// Whether this standing allows `action`.
    pub fn allows(&self, action: Action) -> bool {
        self.is_admin || self.role.is_some_and(|role| action.allowed_for(role))
    }
}

/// The viewer's membership role in `program_id`, if any.
pub async fn role_in(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    program_id: Uuid,
) -> ApiResult<Option<ProgramRole>> {
    Ok(program_member::Entity::find()
        .select_only()
        .column(program_member::Column::Role)
        .filter(program_member::Column::ProgramId.eq(program_id))
        .filter(program_member::Column::UserId.eq(user_id))
        .into_tuple::<ProgramRole>()
        .one(db)
        .await?)
}

/// Check that the viewer may perform `action` in `program_id`.
///
/// A program the viewer cannot see answers `NOT_FOUND`, exactly like one that
/// does not exist; a visible one with too low a role answers `FORBIDDEN`.
pub async fn authorize(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    program_id: Uuid,
    action: Action,
) -> ApiResult<Access> {
    let user = viewer.require_user()?;
    let is_admin = viewer.is_admin();
    let role = role_in(db, user.id, program_id).await?;
    if !is_admin && role.is_none() {
        return Err(ApiError::NotFound(Message::NotFound));
    }
    if is_admin {
        let exists = program::Entity::find_by_id(program_id)
            .select_only()
            .column(program::Column::Id)
            .into_tuple::<Uuid>()
            .one(db)
            .await?
            .is_some();
        if !exists {
            return Err(ApiError::NotFound(Message::NotFound));
        }
    }
    let access = Access { role, is_admin };
    if access.allows(action) {
        Ok(access)
    } else {
        Err(ApiError::Forbidden(Message::ProgramRoleTooLow))
    }
}

impl super::Domain {
    /// The viewer's role in each of `program_ids` where they are a member.
    pub async fn roles_in(
        &self,
        user_id: Uuid,
        program_ids: &[Uuid],
    ) -> ApiResult<std::collections::HashMap<Uuid, ProgramRole>> {
        if program_ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(program_member::Entity::find()
            .filter(program_member::Column::UserId.eq(user_id))
            .filter(program_member::Column::ProgramId.is_in(program_ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|member| (member.program_id, member.role))
            .collect())
    }

    /// Ids of every program the viewer may see; `None` means all (ADMIN).
    pub async fn visible_program_ids(
        &self,
        viewer: &Viewer,
    ) -> ApiResult<Option<std::collections::HashSet<Uuid>>> {
        let user = viewer.require_user()?;
        if viewer.is_admin() {
            return Ok(None);
        }
        Ok(Some(
            program_member::Entity::find()
                .select_only()
                .column(program_member::Column::ProgramId)
                .filter(program_member::Column::UserId.eq(user.id))
                .into_tuple::<Uuid>()
                .all(&self.db)
                .await?
                .into_iter()
                .collect(),
        ))
    }
}

/// The ids of programs `user_id` is a member of, as a subquery.
pub fn member_program_ids(user_id: Uuid) -> SelectStatement {
    Query::select()
        .column(program_member::Column::ProgramId)
        .from(program_member::Entity)
        .and_where(Expr::col(program_member::Column::UserId).eq(user_id))
        .to_owned()
}

/// Restrict a query on a table with a `program_id` column to programs the viewer can see.
pub fn visible_programs<Q: QueryFilter>(
    query: Q,
    viewer: &Viewer,
    program_id: impl ColumnTrait,
) -> ApiResult<Q> {
    let user = viewer.require_user()?;
    if viewer.is_admin() {
        return Ok(query);
    }
    Ok(query.filter(program_id.in_subquery(member_program_ids(user.id))))
}
