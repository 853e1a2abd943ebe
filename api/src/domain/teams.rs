//! Teams: creation, changes by their creator, lookup and the searchable list.
//!
//! Teams live outside programs: every signed-in user may read and create
//! them; only the creator (or an ADMIN) may change one.

use entity::team;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visible},
    audit::Change,
    pagination::{Direction, OrderField, Ordering, Page, PageArgs, sql_order_fields},
    patch::{self, Patch},
    programs::{escape_like, lower_like},
    validate,
    validate::AllInputs,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Largest `capacityDaysPerWeek` (a team of 2,000 full-time people).
pub const MAX_CAPACITY_DAYS_PER_WEEK: i64 = 10_000;

/// What `createTeam` accepts.
#[derive(Debug, Clone, Default)]
pub struct NewTeam {
    /// Unique name.
    pub name: String,
    /// Longer description.
    pub description: Option<String>,
    /// Person-days of work it can do in a week.
    pub capacity_days_per_week: Option<f64>,
}

/// What `updateTeam` changes.
#[derive(Debug, Clone, Default)]
pub struct TeamChanges {
    /// New name.
    pub name: Patch<String>,
    /// New description.
    pub description: Patch<String>,
    /// New weekly capacity; `Clear` removes it.
    pub capacity_days_per_week: Patch<f64>,
}

/// Filters of the `teams` list.
#[derive(Debug, Clone, Default)]
pub struct TeamFilter {
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
}

sql_order_fields! {
    /// Sortable fields of the `teams` list.
    pub enum TeamOrderField for team {
        /// Display name.
        Name = "NAME", Name => |row| row.name.clone(),
        /// Creation time.
        CreatedAt = "CREATED_AT", CreatedAt => |row| row.created_at,
    }
}

/// Whether another team (not `except`) already uses `name`, ignoring case.
async fn name_taken(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<Uuid>,
) -> ApiResult<bool> {
    let mut query = team::Entity::find().filter(
        Expr::expr(Func::lower(Expr::col(team::Column::Name)))
            .eq(Func::lower(Expr::val(name.to_owned()))),
    );
    if let Some(id) = except {
        query = query.filter(team::Column::Id.ne(id));
    }
    Ok(query.count(db).await? > 0)
}

/// `BAD_USER_INPUT` at `input.capacityDaysPerWeek` unless 0 to
/// [`MAX_CAPACITY_DAYS_PER_WEEK`].
fn capacity(value: f64) -> ApiResult<f64> {
    validate::days(
        "input.capacityDaysPerWeek",
        value,
        MAX_CAPACITY_DAYS_PER_WEEK,
    )
}

/// A unique-constraint clash on insert or update means the name was taken
/// by a concurrent writer.
fn name_clash(error: sea_orm::DbErr) -> ApiError {
    match ApiError::from(error) {
        ApiError::Conflict(Message::AlreadyExists) => {
            ApiError::bad_input("input.name", Message::TeamNameTaken)
        }
        other => other,
    }
}

impl Domain {
    /// Create a team (any signed-in user); names are unique ignoring case.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_team(
        &self,
        viewer: &Viewer,
        input: NewTeam,
    ) -> ApiResult<Visible<team::Model>> {
        let user = viewer.require_user()?;
        let (name, description, capacity_days_per_week) = (
            validate::name("input.name", &input.name),
            validate::optional_text("input.description", input.description.as_deref()),
            input.capacity_days_per_week.map(capacity).transpose(),
        )
            .all()?;

        let txn = self.begin_write().await?;
        if name_taken(&txn, &name, None).await? {
            return Err(ApiError::bad_input("input.name", Message::TeamNameTaken));
        }
        let created = team::ActiveModel {
            name: Set(name),
            description: Set(description),
            capacity_days_per_week: Set(capacity_days_per_week),
            created_by_id: Set(Some(user.id)),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(name_clash)?;
        self.commit(txn, user.id, [Change::created(&created)])
            .await?;
        access::admit_unscoped(viewer, created)
    }

    /// Change a team (its creator or an ADMIN).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_team(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: TeamChanges,
    ) -> ApiResult<Visible<team::Model>> {
        let user = viewer.require_user()?;
        let (name, description, capacity_days_per_week) = (
            changes
                .name
                .required_with("input.name", |field, n| validate::name(field, &n)),
            changes
                .description
                .try_map(|d| validate::long_text("input.description", &d)),
            changes.capacity_days_per_week.try_map(capacity),
        )
            .all()?;

        let txn = self.begin_write().await?;
        let before = team::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound(Message::NotFound))?;
        if !viewer.is_admin() && before.created_by_id != Some(user.id) {
            return Err(ApiError::Forbidden(Message::TeamCreatorOnly));
        }
        check_expected(before.version, expected_version)?;
        if let Some(name) = &name
            && name_taken(&txn, name, Some(id)).await?
        {
            return Err(ApiError::bad_input("input.name", Message::TeamNameTaken));
        }
        let mut active: team::ActiveModel = before.clone().into();
        patch::assign(&mut active.name, name);
        description.assign(&mut active.description);
        capacity_days_per_week.assign(&mut active.capacity_days_per_week);
        let after = versioned::save::<team::Entity>(&txn, id, before.version, active)
            .await
            .map_err(|e| match e {
                ApiError::Conflict(Message::AlreadyExists) => {
                    ApiError::bad_input("input.name", Message::TeamNameTaken)
                }
                other => other,
            })?;
        self.commit(txn, user.id, [Change::updated(&before, &after)])
            .await?;
        access::admit_unscoped(viewer, after)
    }

    /// A team by id (any signed-in user), or `None` when it does not exist.
    pub async fn team(&self, viewer: &Viewer, id: Uuid) -> ApiResult<Option<Visible<team::Model>>> {
        access::visible(viewer, team::Entity::find_by_id(id))?
            .one(&self.db)
            .await
    }

    /// Every team (any signed-in user), filtered, ordered and paged.
    pub async fn teams(
        &self,
        viewer: &Viewer,
        filter: TeamFilter,
        order: (TeamOrderField, Direction),
        args: &PageArgs,
    ) -> ApiResult<Page<Visible<team::Model>>> {
        let mut query = access::visible(viewer, team::Entity::find())?;
        if let Some(search) = filter.search.filter(|s| !s.trim().is_empty()) {
            let pattern = format!("%{}%", escape_like(&search.trim().to_lowercase()));
            query = query.narrow(lower_like(team::Column::Name, &pattern));
        }
        let (field, direction) = order;
        query
            .page(
                &self.db,
                Ordering::of(field, direction, team::Column::Id),
                args,
                self.limits.max_page_size,
                move |t| field.key(t),
                |t| t.id,
            )
            .await
    }
}
