//! `AuditEvent`.

use async_graphql::{Context, ID, Object, Result};
use entity::audit_event;

use super::User;
use crate::domain::access::Visible;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;

/// One entry of the append-only history: who changed what, when.
pub struct AuditEvent(pub Visible<audit_event::Model>);

/// One entry of the append-only history: who changed what, when.
#[Object]
impl AuditEvent {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Who made the change (null for system actions).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(actor_id) = self.0.actor_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(actor_id).await?.map(User))
    }
    /// What was done, e.g. `workstream.update`.
    async fn action(&self) -> Text<&str> {
        Text(&self.0.action)
    }
    /// The kind of entity changed, e.g. `Workstream`.
    async fn entity_type(&self) -> Text<&str> {
        Text(&self.0.entity_type)
    }
    /// The id of the entity changed.
    async fn entity_id(&self) -> ID {
        ID(self.0.entity_id.to_string())
    }
    /// Changed fields as `{ field: { before, after } }`.
    async fn changes(&self) -> crate::graphql::scalars::Json {
        crate::graphql::scalars::Json(self.0.changes.clone())
    }
    /// When it happened.
    async fn at(&self) -> Instant {
        Instant(self.0.at)
    }
}
