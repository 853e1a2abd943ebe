//! `Webhook`, `WebhookDelivery` and `WebhookDeliveryState`: a program's
//! subscriptions to its changes and the record of each delivery, read by
//! the program's OWNERs.

use async_graphql::{Context, Enum, ID, Object, Result};
use entity::{webhook, webhook_delivery};

use super::connection::{ListConnection, connection, page_args};
use crate::domain::access::Visible;
use crate::graphql::context::scope;
use crate::graphql::scalars::{Instant, Json};
use crate::graphql::work::Text;

/// Where a delivery stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::DeliveryState")]
pub enum WebhookDeliveryState {
    /// Not delivered yet; tried again at `nextAttemptAt`.
    Pending,
    /// The receiver answered with a 2xx status.
    Delivered,
    /// Every attempt failed; `redeliverWebhook` sends it again.
    Failed,
}

/// A webhook: Trestle posts the program's changes to `url`, signed with its secret.
pub struct Webhook(pub Visible<webhook::Model>);

/// A webhook: Trestle posts the program's changes to `url`, signed with its secret.
#[Object]
impl Webhook {
    /// Unique identifier.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where deliveries are posted.
    async fn url(&self) -> Text<&str> {
        Text(&self.0.url)
    }
    /// The history actions delivered: `workstream.create`, `risk.*` (every action on risks) or `*`.
    async fn events(&self) -> Vec<Text<String>> {
        self.0.event_patterns().into_iter().map(Text).collect()
    }
    /// What it is for.
    async fn description(&self) -> Option<Text<&str>> {
        self.0.description.as_deref().map(Text)
    }
    /// Whether deliveries are made; a paused webhook's changes are not delivered.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Optimistic-locking version; pass it as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// Its deliveries, newest first (the latest 100; those of a change between two programs only for those who see both).
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<WebhookDelivery>> {
        let (domain, viewer) = scope(ctx)?;
        let rows = domain.webhook_deliveries(viewer, &self.0).await?;
        let args = page_args(first, after, last, before);
        let page =
            domain.page_newest_first(rows, "deliveries", &args, |d| d.created_at, |d| d.id)?;
        Ok(connection(page, WebhookDelivery))
    }
}

/// One change delivered (or being delivered) to a webhook.
pub struct WebhookDelivery(pub Visible<webhook_delivery::Model>);

/// One change delivered (or being delivered) to a webhook; the `Trestle-Delivery` header carries its id.
#[Object]
impl WebhookDelivery {
    /// Unique identifier (the `Trestle-Delivery` header).
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The history action delivered, e.g. `workstream.create` (the `Trestle-Event` header).
    async fn event(&self) -> Text<&str> {
        Text(&self.0.event)
    }
    /// The history entry delivered (`AuditEvent.id`, the payload's `id`).
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }
    /// The JSON body posted.
    async fn payload(&self) -> Json {
        Json(serde_json::from_str(&self.0.payload).unwrap_or_default())
    }
    /// Where it stands.
    async fn state(&self) -> WebhookDeliveryState {
        self.0.state.into()
    }
    /// Attempts made so far (at most 7).
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    /// The HTTP status of the last answer.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    /// How long the last attempt took, in milliseconds.
    async fn duration_ms(&self) -> Option<i32> {
        self.0.duration_ms
    }
    /// When the receiver accepted it.
    async fn delivered_at(&self) -> Option<Instant> {
        self.0.delivered_at.map(Instant)
    }
    /// When it is tried next, while pending.
    async fn next_attempt_at(&self) -> Option<Instant> {
        self.0.next_attempt_at.map(Instant)
    }
    /// Why the last attempt failed.
    async fn error(&self) -> Option<Text<&str>> {
        self.0.error.as_deref().map(Text)
    }
    /// When it was written (when the change committed, or when it was redelivered).
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}
