//! The `webhook_deliveries` table: the outbox of webhook deliveries, written
//! in the transaction of the change delivered, and the record of each one's
//! attempts.

use sea_orm::entity::prelude::*;

use crate::enums::DeliveryState;

/// One history entry to deliver to one webhook.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Primary key (the `Trestle-Delivery` header).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The webhook it goes to.
    pub webhook_id: Uuid,
    /// The webhook's program.
    pub program_id: Uuid,
    /// The other program the change delivered lies between (a dependency
    /// across): only those who can see both read the delivery.
    pub related_program_id: Option<Uuid>,
    /// The history entry delivered.
    pub event_id: Uuid,
    /// Its action, e.g. `workstream.create` (the `Trestle-Event` header).
    pub event: String,
    /// The JSON body sent.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempt: i32,
    /// The HTTP status of the last answer.
    pub status_code: Option<i32>,
    /// How long the last attempt took, in milliseconds.
    pub duration_ms: Option<i32>,
    /// Why the last attempt failed.
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// When it is tried next; while an attempt runs, when its claim lapses.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// When the receiver accepted it.
    pub delivered_at: Option<DateTimeUtc>,
    /// When it was written.
    pub created_at: DateTimeUtc,
}

/// Relations of the `webhook_deliveries` table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The webhook (`webhook_id`, ON DELETE CASCADE).
    #[sea_orm(
        belongs_to = "super::webhook::Entity",
        from = "Column::WebhookId",
        to = "super::webhook::Column::Id",
        on_delete = "Cascade"
    )]
    Webhook,
}

crate::stamped!(id, created_at);
