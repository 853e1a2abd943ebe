//! The append-only history: every successful mutation writes one event.

use entity::audit_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::error::ApiResult;

/// Fields never copied into the history.
const HIDDEN_FIELDS: [&str; 4] = ["passwordHash", "tokenHash", "version", "updatedAt"];

/// One history entry about to be written.
pub struct Event<'a> {
    /// Who did it.
    pub actor: Option<Uuid>,
    /// The program it happened in, if any.
    pub program_id: Option<Uuid>,
    /// What was done, e.g. `program.create`.
    pub action: &'a str,
    /// The kind of entity changed, e.g. `Program`.
    pub entity_type: &'a str,
    /// The entity changed.
    pub entity_id: Uuid,
    /// Changed fields as `{field: {"before": …, "after": …}}`.
    pub changes: Value,
}

/// Write `event` inside the caller's transaction; live subscribers hear of it
/// once that transaction commits (see [`super::events`]).
pub async fn record(db: &impl ConnectionTrait, event: Event<'_>) -> ApiResult<()> {
    let id = Uuid::now_v7();
    audit_event::ActiveModel {
        id: Set(id),
        program_id: Set(event.program_id),
        actor_id: Set(event.actor),
        action: Set(event.action.to_owned()),
        entity_type: Set(event.entity_type.to_owned()),
        entity_id: Set(event.entity_id),
        changes: Set(event.changes),
        at: Set(super::now()),
    }
    .insert(db)
    .await?;
    super::events::announce(db, id).await
}

/// Record the mutation's one history event and commit its transaction: the
/// last step of every mutation, so no mutation commits without its event.
pub async fn commit(txn: sea_orm::DatabaseTransaction, event: Event<'_>) -> ApiResult<()> {
    record(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// The field-by-field difference between two serialisable snapshots;
/// `None` stands for "did not exist" (creation or deletion).
pub fn diff<T: serde::Serialize>(before: Option<&T>, after: Option<&T>) -> Value {
    let as_map = |snapshot: Option<&T>| -> Map<String, Value> {
        match snapshot.map(serde_json::to_value) {
            Some(Ok(Value::Object(map))) => map,
            _ => Map::new(),
        }
    };
    let before = as_map(before);
    let after = as_map(after);
    let mut changes = Map::new();
    let keys = before
        .keys()
        .chain(after.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>();
    for key in keys {
        if HIDDEN_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let old = before.get(&key).cloned().unwrap_or(Value::Null);
        let new = after.get(&key).cloned().unwrap_or(Value::Null);
        if old != new {
            changes.insert(key, json!({ "before": old, "after": new }));
        }
    }
    Value::Object(changes)
}
