//! Optimistic concurrency: every mutable row carries a `version`, and an
//! update only lands on the version it was based on.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Value,
};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// An entity with `id`, `version` and `updated_at` columns.
pub trait Versioned: EntityTrait {
    /// The primary key column.
    fn id_column() -> Self::Column;
    /// The version column.
    fn version_column() -> Self::Column;
    /// The last-change timestamp column.
    fn updated_at_column() -> Self::Column;
}

macro_rules! versioned {
    ($($module:ident),* $(,)?) => {
        $(
            impl Versioned for entity::$module::Entity {
                fn id_column() -> Self::Column {
                    entity::$module::Column::Id
                }
                fn version_column() -> Self::Column {
                    entity::$module::Column::Version
                }
                fn updated_at_column() -> Self::Column {
                    entity::$module::Column::UpdatedAt
                }
            }
        )*
    };
}

versioned!(
    user,
    team,
    program,
    program_member,
    workstream,
    milestone,
    dependency,
    decision,
    risk,
    comment,
    webhook,
    portfolio,
    goal
);

/// Refuse a stale `expectedVersion` before any work is done.
pub fn check_expected(current: i32, expected: Option<i32>) -> ApiResult<()> {
    match expected {
        Some(expected) if expected != current => Err(ApiError::Conflict(Message::StaleVersion)),
        _ => Ok(()),
    }
}

/// Write the `Set` fields of `changes` to row `id` if it is still at
/// `current` version, bumping the version; `CONFLICT` if another writer got
/// there first. Returns the stored row.
pub async fn save<E>(
    txn: &DatabaseTransaction,
    id: Uuid,
    current: i32,
    mut changes: E::ActiveModel,
) -> ApiResult<E::Model>
where
    E: Versioned,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    changes.set(E::version_column(), Value::from(current + 1));
    changes.set(E::updated_at_column(), Value::from(super::now()));
    let result = E::update_many()
        .set(changes)
        .filter(E::id_column().eq(id))
        .filter(E::version_column().eq(current))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(ApiError::Conflict(Message::StaleVersion));
    }
    E::find()
        .filter(E::id_column().eq(id))
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))
}

/// Delete row `id` of `E` if it is still at `version`; `CONFLICT` when
/// another writer changed or removed it first.
pub async fn delete<E: Versioned>(
    txn: &DatabaseTransaction,
    id: Uuid,
    version: i32,
) -> ApiResult<()> {
    let result = E::delete_many()
        .filter(E::id_column().eq(id))
        .filter(E::version_column().eq(version))
        .exec(txn)
        .await?;
    if result.rows_affected == 1 {
        Ok(())
    } else {
        Err(ApiError::Conflict(Message::StaleVersion))
    }
}
