//! Batched reads behind the DataLoaders: one `IN (…)` query per batch.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::ApiResult;

/// Rows of `E` whose `column` is one of `keys`, grouped by that column
/// (read with `key`), each group in `order` then id order.
pub async fn grouped<E>(
    db: &DatabaseConnection,
    column: E::Column,
    keys: &[Uuid],
    key: impl Fn(&E::Model) -> Option<Uuid>,
    order: E::Column,
    id: E::Column,
) -> ApiResult<HashMap<Uuid, Vec<E::Model>>>
where
    E: EntityTrait,
{
    let mut groups: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
    if keys.is_empty() {
        return Ok(groups);
    }
    let rows = E::find()
        .filter(column.is_in(keys.iter().copied()))
        .order_by_asc(order)
        .order_by_asc(id)
        .all(db)
        .await?;
    for row in rows {
        if let Some(group) = key(&row) {
            groups.entry(group).or_default().push(row);
        }
    }
    Ok(groups)
}

/// Rows of `E` by primary key.
pub async fn by_ids<E>(
    db: &DatabaseConnection,
    id_column: E::Column,
    keys: &[Uuid],
    id: impl Fn(&E::Model) -> Uuid,
) -> ApiResult<HashMap<Uuid, E::Model>>
where
    E: EntityTrait,
{
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(E::find()
        .filter(id_column.is_in(keys.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (id(&row), row))
        .collect())
}
