//! `ProgramEvent` and `ProgramEventKind`.
//!
//! Delivered on long-lived subscriptions, so no field may rely on per-request
//! loaders: everything it shows is loaded with the event.

use std::sync::Arc;

use async_graphql::{Enum, ID, Object};

use super::User;
use crate::domain::access::Visible;
use crate::events::ChangeEvent;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;

/// What happened to the entity a `ProgramEvent` is about.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::events::ChangeKind")]
pub enum ProgramEventKind {
    /// It was created (a program member: added).
    Created,
    /// Some of its fields changed (also any action this version does not name).
    Updated,
    /// It was deleted (a program member: removed).
    Deleted,
    /// The program was archived.
    Archived,
    /// The program was restored from the archive.
    Unarchived,
    /// The decision was taken.
    Decided,
    /// The status update was posted.
    Posted,
}

/// A change inside a program, delivered once its transaction has committed.
pub struct ProgramEvent(pub Visible<Arc<ChangeEvent>>);

/// A change inside a program, delivered once its transaction has committed.
#[Object]
impl ProgramEvent {
    /// Id of the history entry; the same entry appears in `Program.activity`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What happened to the entity.
    async fn kind(&self) -> ProgramEventKind {
        self.0.kind.into()
    }
    /// The exact history action, e.g. `workstream.create` or `decision.decide`.
    async fn action(&self) -> Text<&str> {
        Text(&self.0.action)
    }
    /// The kind of entity changed, e.g. `Workstream`.
    async fn entity_type(&self) -> Text<&str> {
        Text(&self.0.entity_type)
    }
    /// The id of the entity changed (for `DELETED`, it no longer exists).
    async fn entity_id(&self) -> ID {
        ID(self.0.entity_id.to_string())
    }
    /// Who made the change (null when the account no longer exists).
    async fn actor(&self) -> Option<User> {
        self.0.directory_part(|event| event.actor.clone()).map(User)
    }
    /// When it happened.
    async fn at(&self) -> Instant {
        Instant(self.0.at)
    }
}
