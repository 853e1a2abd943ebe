//! `ApiToken`.

use async_graphql::{ID, Object};
use entity::api_token;

use crate::domain::access::Visible;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;

/// A long-lived credential for scripts; its secret is shown only once.
pub struct ApiToken(pub Visible<api_token::Model>);

/// A long-lived credential for scripts; its secret is shown only once.
#[Object]
impl ApiToken {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What the token is for.
    async fn name(&self) -> Text<&str> {
        Text(&self.0.name)
    }
    /// The first characters of the secret, to recognise it.
    async fn prefix(&self) -> Text<&str> {
        Text(&self.0.token_prefix)
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When it was last used (to the minute).
    async fn last_used_at(&self) -> Option<Instant> {
        self.0.last_used_at.map(Instant)
    }
    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<Instant> {
        self.0.expires_at.map(Instant)
    }
    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<Instant> {
        self.0.revoked_at.map(Instant)
    }
}
