//! Queries about users.

use async_graphql::{Context, Object, Result};

use crate::graphql::{
    context::scope,
    types::{
        User,
        connection::{ListConnection, connection, page_args},
    },
};

/// Queries about users.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<User> {
        let (domain, viewer) = scope(ctx)?;
        Ok(User::of_viewer(domain, viewer).await?)
    }

    /// Every user, oldest first (ADMIN only).
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ListConnection<User>> {
        let (domain, viewer) = scope(ctx)?;
        let page = domain
            .list_users(viewer, &page_args(first, after, last, before))
            .await?;
        Ok(connection(page, User))
    }
}
