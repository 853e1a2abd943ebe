//! `User`.

use async_graphql::{Context, ID, Object, Result};
use entity::user;

use crate::domain::access::Visible;

use super::connection::{ListConnection, connection, page_args};
use super::enums::{Locale, UserRole};
use crate::domain::pagination::Page;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;

/// A person who signs in to Trestle.
pub struct User(pub Visible<user::Model>);

impl User {
    /// The signed-in caller (`UNAUTHENTICATED` once their account is gone).
    pub async fn of_viewer(
        domain: &crate::domain::Domain,
        viewer: &crate::auth::Viewer,
    ) -> crate::error::ApiResult<Self> {
        viewer.require_user()?;
        domain
            .viewer_user(viewer)
            .await?
            .map(Self)
            .ok_or(crate::error::ApiError::Unauthenticated(
                crate::i18n::Message::InvalidToken,
            ))
    }
}

/// A person who signs in to Trestle.
#[Object]
impl User {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Sign-in email, lower-cased.
    async fn email(&self) -> Text<&str> {
        Text(&self.0.email)
    }
    /// Display name.
    async fn name(&self) -> Text<&str> {
        Text(&self.0.name)
    }
    /// Global role.
    async fn role(&self) -> UserRole {
        self.0.role.into()
    }
    /// Preferred language for messages.
    async fn locale(&self) -> Locale {
        self.0.locale.into()
    }
    /// Whether the account can sign in (false once an ADMIN deactivated it).
    async fn is_active(&self) -> bool {
        self.0.deactivated_at.is_none()
    }
    /// When an ADMIN deactivated the account; null while it is active.
    async fn deactivated_at(&self) -> Option<Instant> {
        self.0.deactivated_at.map(Instant)
    }
    /// When the account was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// Optimistic-concurrency version.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The user's notifications, newest first, seen only by the user themself (empty for anyone else); with `unreadOnly: true` only unread ones, and `totalCount` is the unread badge.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only those not marked read (default: all).")] unread_only: Option<bool>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<super::Notification>> {
        let (domain, viewer) = crate::graphql::context::scope(ctx)?;
        let args = page_args(first, after, last, before);
        let page = if viewer.user.as_ref().map(|user| user.id) == Some(self.0.id) {
            domain
                .viewer_notifications(viewer, unread_only.unwrap_or(false), &args)
                .await?
        } else {
            Page::empty()
        };
        Ok(connection(page, super::Notification))
    }
    /// The user's API tokens, newest first; only visible to the user themself.
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<super::ApiToken>> {
        let (domain, viewer) = crate::graphql::context::scope(ctx)?;
        // Without loaders: a user may also arrive on a subscription.
        let size = crate::domain::pagination::list_size(first, domain.limits.max_list_size)?;
        if viewer.user.as_ref().map(|user| user.id) != Some(self.0.id) {
            return Ok(Vec::new());
        }
        Ok(domain
            .my_api_tokens(viewer)
            .await?
            .into_iter()
            .take(size)
            .map(super::ApiToken)
            .collect())
    }
}
